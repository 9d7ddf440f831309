//! Pieces of the views.

pub mod connection;
pub mod map;
pub mod site_tile;
