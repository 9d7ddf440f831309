//! The dashboard's state: the live state from the server plus the link's health.

use chrono::{DateTime, Utc};
use levels_shared::live::{LiveState, ServerMsg};
use std::rc::Rc;
use yew::Reducible;

/// The websocket link as the connection indicator shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum Link {
    /// First connection not yet made.
    Connecting,
    /// Receiving messages.
    Live,
    /// Lost; trying again since this time.
    Reconnecting { since: DateTime<Utc> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    pub link: Link,
    /// Shared, so an action that does not change it (a heartbeat) does not copy it.
    pub live: Rc<LiveState>,
    /// When the last snapshot or delta arrived (browser clock).
    pub last_update: Option<DateTime<Utc>>,
    /// When anything, heartbeats included, last arrived.
    pub last_message: Option<DateTime<Utc>>,
    /// The server's clock minus the browser's, so ages are measured on the server's clock.
    pub clock_offset: chrono::Duration,
}

impl Default for Dashboard {
    fn default() -> Self {
        Dashboard {
            link: Link::Connecting,
            live: Rc::default(),
            last_update: None,
            last_message: None,
            clock_offset: chrono::Duration::zero(),
        }
    }
}

pub enum Action {
    /// A message that the live service has checked is in sequence.
    Message(ServerMsg),
    /// The link dropped at this time.
    Disconnected(DateTime<Utc>),
}

impl Reducible for Dashboard {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        let now = Utc::now();
        match action {
            Action::Message(msg) => {
                next.link = Link::Live;
                next.last_message = Some(now);
                next.clock_offset = msg.server_time() - now;
                match msg {
                    ServerMsg::Snapshot { state, .. } => {
                        next.live = Rc::new(state);
                        next.last_update = Some(now);
                    }
                    ServerMsg::Delta { changes, .. } => {
                        let live = Rc::make_mut(&mut next.live);
                        for change in &changes {
                            live.apply(change);
                        }
                        next.last_update = Some(now);
                    }
                    ServerMsg::Heartbeat { .. } => {}
                }
            }
            Action::Disconnected(at) => {
                if !matches!(next.link, Link::Reconnecting { .. }) {
                    next.link = Link::Reconnecting { since: at };
                }
            }
        }
        Rc::new(next)
    }
}
