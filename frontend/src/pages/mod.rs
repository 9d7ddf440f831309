//! Whole views.

pub mod community;
pub mod control_room;
pub mod discharge;
pub mod login;
pub mod site;
pub mod system;
