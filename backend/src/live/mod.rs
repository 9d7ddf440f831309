//! The live stream's machinery (served by `routes::live`; docs/architecture.md, "The live
//! protocol"):
//!
//! - [`follower`]: reads the outbox in commit order and publishes through the projection.
//! - [`hub`]: sequence numbers, the snapshot, replay and fan-out to sessions.
//! - [`session`], [`threads`], [`upgrade`], [`wire`]: each websocket, on threads of its
//!   own, writing frames encoded once for every screen.

pub mod follower;
pub mod hub;
pub mod session;
pub mod threads;
pub mod upgrade;
pub mod wire;
