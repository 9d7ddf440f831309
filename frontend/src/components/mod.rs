//! Pieces of the views.

pub mod bars;
pub mod chart;
pub mod connection;
pub mod declare;
pub mod locality_map;
pub mod map;
pub mod opel;
pub mod site_tile;
pub mod trends;
