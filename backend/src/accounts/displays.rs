//! Control-room screens: a `display` account per named screen, and its one-time enrolment
//! link (`levels display add`, or `routes::displays`, which also serves the link).

use super::sessions::{digest, new_token};
use super::AccountError;
use crate::store::{NewUser, Store, StoreError};
use chrono::{Duration, Utc};
use levels_shared::access::Role;

/// How long an enrolment link works.
const LINK_DAYS: i64 = 7;
/// How long a screen's session lasts.
pub const SESSION_DAYS: i64 = 90;

/// Creates (or reuses) the display account `name` and a one-time link token for it.
pub async fn enrolment(store: &dyn Store, name: &str) -> Result<String, AccountError> {
    crate::text::check("screen name", name)?;
    let user = match store.user_by_name(name).await? {
        Some(u) if u.role != Role::Display => {
            return Err(AccountError::Store(StoreError::Duplicate(format!(
                "the account {name} (not a display)"
            ))))
        }
        Some(u) if u.disabled => {
            return Err(AccountError::Store(StoreError::Duplicate(format!(
                "the revoked screen {name} (give the screen a new name)"
            ))))
        }
        Some(u) => u.id,
        None => {
            let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
            if name.is_empty() || name.len() > 64 || !name.chars().all(valid) {
                return Err(AccountError::BadName);
            }
            let user = NewUser {
                name: name.to_owned(),
                display_name: format!("Screen {name}"),
                role: Role::Display,
                organisation: None,
                password_hash: None,
            };
            store.create_user(&user, Utc::now()).await?
        }
    };
    let token = new_token();
    let now = Utc::now();
    store
        .create_enrolment(&digest(&token), user, now, now + Duration::days(LINK_DAYS))
        .await?;
    Ok(token)
}

/// Revokes the screen `name`: disables its `display` account, which ends its sessions.
pub async fn revoke(store: &dyn Store, name: &str) -> Result<(), AccountError> {
    let is_display = store
        .user_by_name(name)
        .await?
        .is_some_and(|u| u.role == Role::Display);
    if !is_display || !store.disable_user(name, Utc::now()).await? {
        return Err(AccountError::NoScreen(name.to_owned()));
    }
    Ok(())
}
