//! People's accounts (DESIGN §9): passwords hashed with Argon2id, sessions as HttpOnly,
//! SameSite=Strict cookies whose values are stored only as digests, and the sign-in routes.
//!
//! - [`displays`]: control-room screens enrolled by a one-time link, revocable.
//! - [`limits`]: failed sign-ins limited per account and per address.
//! - [`passwords`]: hashing and checking passwords (the `argon2` crate; no hand-written crypto).
//! - [`sessions`]: session tokens, their digests and cookies.
//! - [`tokens`]: producer tokens, created, listed and revoked by an administrator.
//! - [`routes`]: `POST /api/v1/login`, `POST /api/v1/logout`, `GET /api/v1/me`.
//!
//! Accounts are created with `levels user add` (see `main.rs`). Enforcing roles on every
//! route and on the live channel builds on this.

pub mod displays;
pub mod limits;
pub mod passwords;
pub mod producers;
pub mod sessions;
pub mod tokens;

use crate::store::{NewUser, Store, StoreError};
use chrono::Utc;
use levels_shared::access::Role;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the password must be at least {min} characters")]
    WeakPassword { min: usize },
    #[error("the account name must be 1 to 64 letters, digits, dots, dashes or underscores")]
    BadName,
    /// Discharge coordinators see, and site managers act on, their organisation's sites only.
    #[error("a {} needs --organisation (the ODS code of their trust)", .0.label().to_lowercase())]
    NeedsOrganisation(Role),
    #[error(transparent)]
    Text(#[from] crate::text::TextError),
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("no enabled screen {0}")]
    NoScreen(String),
}

/// The demo's accounts: (login name, role, organisation).
pub const DEMO_USERS: [(&str, Role, Option<&str>); 5] = [
    ("display", Role::Display, None),
    ("site-manager", Role::SiteManager, Some("RH5")),
    ("coordinator", Role::DischargeCoordinator, Some("RH5")),
    ("system-leader", Role::SystemLeader, None),
    ("admin", Role::Admin, None),
];

/// Creates the demo accounts that do not exist yet.
pub async fn create_demo_users(store: &dyn Store, password: &str) -> Result<(), AccountError> {
    for (name, role, organisation) in DEMO_USERS {
        if store.user_by_name(name).await?.is_none() {
            let display = format!("Demo {}", role.label().to_lowercase());
            create(
                store,
                name,
                Some(&display),
                role,
                organisation,
                Some(password),
            )
            .await?;
        }
    }
    Ok(())
}

/// The fewest characters a password may have.
pub const MIN_PASSWORD: usize = 12;

/// Creates an account with a password (`None` only for display screens, which enrol by token).
pub async fn create(
    store: &dyn Store,
    name: &str,
    display_name: Option<&str>,
    role: Role,
    organisation: Option<&str>,
    password: Option<&str>,
) -> Result<i64, AccountError> {
    crate::text::check("account name", name)?;
    crate::text::check("display name", display_name.unwrap_or_default())?;
    crate::text::check("organisation", organisation.unwrap_or_default())?;
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    if name.is_empty() || name.len() > 64 || !name.chars().all(valid) {
        return Err(AccountError::BadName);
    }
    let scoped = matches!(role, Role::DischargeCoordinator | Role::SiteManager);
    if scoped && organisation.is_none_or(str::is_empty) {
        return Err(AccountError::NeedsOrganisation(role));
    }
    let password_hash = match password {
        Some(p) if p.chars().count() < MIN_PASSWORD => {
            return Err(AccountError::WeakPassword { min: MIN_PASSWORD })
        }
        Some(p) => Some(passwords::hash(p).map_err(AccountError::Hash)?),
        None => None,
    };
    let user = NewUser {
        name: name.to_owned(),
        display_name: display_name.unwrap_or(name).to_owned(),
        role,
        organisation: organisation.map(str::to_owned),
        password_hash,
    };
    Ok(store.create_user(&user, Utc::now()).await?)
}
