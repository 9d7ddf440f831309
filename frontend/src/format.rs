//! How times and figures are written on screen.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Europe::London;

/// `14:05` in Europe/London, whatever zone the screen's computer is set to.
pub fn clock<Tz: TimeZone>(t: &DateTime<Tz>) -> String {
    t.with_timezone(&London).format("%H:%M").to_string()
}

/// `14:05:09`.
pub fn clock_seconds<Tz: TimeZone>(t: &DateTime<Tz>) -> String {
    t.with_timezone(&London).format("%H:%M:%S").to_string()
}

/// `14:05` today, `Tue 24 Nov 14:05` on another day (Europe/London).
pub fn when<Tz: TimeZone>(t: &DateTime<Tz>, now: DateTime<Utc>) -> String {
    let t = t.with_timezone(&London);
    if t.date_naive() == now.with_timezone(&London).date_naive() {
        t.format("%H:%M").to_string()
    } else {
        t.format("%a %-d %b %H:%M").to_string()
    }
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

/// Days to the whole day, or `*` where disclosure control hid the figure (fewer than five
/// patients make it up).
pub fn days(days: Option<f64>) -> String {
    days.map_or_else(
        || levels_shared::disclosure::HIDDEN.to_owned(),
        |d| format!("{d:.0}"),
    )
}
