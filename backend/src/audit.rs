//! The audit log (DESIGN §9): logins and failed logins, every view of patient-level data,
//! declarations, actions, and account changes, each with who, when and from where. It is
//! append-only in the database, and only administrators may read or export it
//! (`routes::audit`); nothing in Levels changes or deletes an entry.

use crate::store::{AuditEntry, Store, StoreError};
use chrono::Utc;
use serde_json::Value;
use std::net::SocketAddr;

/// Appends an entry; an action whose audit cannot be written must not go ahead unrecorded,
/// so callers fail with it.
pub async fn record(
    store: &dyn Store,
    actor: &str,
    action: &str,
    subject: &str,
    detail: Value,
    address: Option<SocketAddr>,
) -> Result<(), StoreError> {
    store
        .audit(&AuditEntry {
            id: 0,
            at: Utc::now(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            subject: subject.to_owned(),
            detail,
            address: address.map(|a| a.ip().to_string()),
        })
        .await
}

/// A cell a spreadsheet will not run as a formula: text starting `= + - @`, tab or CR (a
/// sign-in name, say, chosen by anyone) is prefixed with `'`.
pub fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_a_spreadsheet_would_run_is_neutralised() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("alex"), "alex");
    }
}
