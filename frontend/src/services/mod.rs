//! All of the dashboard's I/O.

pub mod api;
pub mod live;
