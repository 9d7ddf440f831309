//! How times and figures are written on screen.

use chrono::{DateTime, Local, TimeZone, Utc};

/// `14:05` in the screen's local time (Europe/London on a Somerset control-room screen).
pub fn clock<Tz: TimeZone>(t: &DateTime<Tz>) -> String {
    t.with_timezone(&Local).format("%H:%M").to_string()
}

/// `14:05:09`.
pub fn clock_seconds<Tz: TimeZone>(t: &DateTime<Tz>) -> String {
    t.with_timezone(&Local).format("%H:%M:%S").to_string()
}

/// How long ago, in words short enough for a tile: `just now`, `4 min ago`, `2 h 10 min ago`.
pub fn age(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let minutes = (now - then).num_minutes();
    match minutes {
        m if m < 1 => "just now".into(),
        m if m < 60 => format!("{m} min ago"),
        m if m < 48 * 60 => format!("{} h {} min ago", m / 60, m % 60),
        m => format!("{} days ago", m / (24 * 60)),
    }
}

/// `94%`.
pub fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}
