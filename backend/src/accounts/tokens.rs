//! Producer tokens an administrator creates, lists and revokes (docs/security.md), by the
//! command line (`levels token add|list|revoke`) or the API (`routes::tokens`). A token may not take the name of a configured producer or the simulator's, whatever the
//! case: records are keyed by producer, so it would share their ids and learn, from the
//! duplicates and conflicts it is answered, which ids exist at other sites.

use super::sessions::{digest, new_token};
use crate::config::Config;
use crate::store::{ProducerRow, Store, StoreError};
use chrono::Utc;
use levels_shared::feed::Feed;
use levels_shared::reference::ReferenceData;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the producer name must be 1 to 64 letters, digits, dots, dashes or underscores")]
    BadName,
    #[error(transparent)]
    Text(#[from] crate::text::TextError),
    #[error("give at least one feed")]
    NoFeeds,
    #[error("give the sites it may post for, or * for every site")]
    NoSites,
    #[error("unknown site {0}: give site codes from the reference data, or *")]
    UnknownSite(String),
    #[error("the producer name {0:?} is already a configured producer's or the simulator's (names are compared ignoring case): give another")]
    Reserved(String),
}

/// The names no token may take: the configured `[[producers]]` and the simulator.
pub fn reserved_names(config: &Config) -> Vec<&str> {
    config
        .producers
        .iter()
        .map(|p| p.name.as_str())
        .chain([super::producers::SIMULATOR])
        .collect()
}

/// Creates a token for `name` and returns it: the only time it is ever shown. `reserved`:
/// the names it may not take ([`reserved_names`]), in any case.
pub async fn create(
    store: &dyn Store,
    reference: &ReferenceData,
    reserved: &[&str],
    name: &str,
    feeds: Vec<Feed>,
    sites: Vec<String>,
) -> Result<String, TokenError> {
    crate::text::check("producer name", name)?;
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    if name.is_empty() || name.len() > 64 || !name.chars().all(valid) {
        return Err(TokenError::BadName);
    }
    if reserved.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return Err(TokenError::Reserved(name.to_owned()));
    }
    if feeds.is_empty() {
        return Err(TokenError::NoFeeds);
    }
    if let Some(unknown) = sites
        .iter()
        .find(|s| *s != "*" && reference.site(s).is_none())
    {
        return Err(TokenError::UnknownSite(unknown.clone()));
    }
    if sites.is_empty() {
        return Err(TokenError::NoSites);
    }
    let token = new_token();
    let row = ProducerRow {
        name: name.to_owned(),
        feeds,
        sites,
        created_at: Utc::now(),
        revoked_at: None,
    };
    store.create_producer_token(&digest(&token), &row).await?;
    Ok(token)
}
