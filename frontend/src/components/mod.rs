//! Pieces of the views.

pub mod connection;
pub mod map;
pub mod opel;
pub mod site_tile;
