//! Whole views.

pub mod control_room;
