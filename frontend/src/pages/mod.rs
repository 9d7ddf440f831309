//! Whole views.

pub mod control_room;
pub mod discharge;
pub mod system;
