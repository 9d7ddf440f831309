//! Pieces of the views.

pub mod chart;
pub mod connection;
pub mod map;
pub mod opel;
pub mod site_tile;
pub mod trends;
