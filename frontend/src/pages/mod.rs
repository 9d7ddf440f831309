//! Whole views.

pub mod control_room;
pub mod system;
