//! Producer bearer tokens and what each may write (DESIGN §4, §9). Tokens are compared by
//! their SHA-256 digest: those an administrator creates (`levels token add`, or the API in
//! `routes::tokens`) are stored only as digests and checked on every request, so a revoked token
//! stops working at once; those in the configuration file are for demos and tests.

use crate::accounts::sessions::digest;
use crate::config::ProducerConfig;
use crate::store::{ProducerRow, Store};
use axum::http::{header, HeaderMap};
use levels_shared::feed::Feed;
use std::collections::{HashMap, HashSet};

/// The producer name the simulator posts as (`sim`): reserved, so no token may take it.
pub const SIMULATOR: &str = "simulator";

/// A feed producer, as identified by its token.
#[derive(Debug, Clone)]
pub struct Producer {
    pub name: String,
    feeds: HashSet<Feed>,
    /// `None`: every site.
    sites: Option<HashSet<String>>,
}

impl Producer {
    pub fn may_write(&self, feed: Feed) -> bool {
        self.feeds.contains(&feed)
    }

    pub fn may_write_site(&self, site: &str) -> bool {
        self.sites.as_ref().is_none_or(|s| s.contains(site))
    }
}

impl From<ProducerRow> for Producer {
    fn from(row: ProducerRow) -> Producer {
        let sites = (!row.sites.iter().any(|s| s == "*")).then(|| row.sites.into_iter().collect());
        Producer {
            name: row.name,
            feeds: row.feeds.into_iter().collect(),
            sites,
        }
    }
}

/// The producers of the configuration file, by token digest.
#[derive(Debug, Default)]
pub struct Producers {
    by_digest: HashMap<String, Producer>,
}

impl Producers {
    pub fn from_config(producers: &[ProducerConfig]) -> Producers {
        let mut all = Producers::default();
        for p in producers {
            all.add(p);
        }
        all
    }

    pub fn add(&mut self, p: &ProducerConfig) {
        let sites = (!p.sites.iter().any(|s| s == "*")).then(|| p.sites.iter().cloned().collect());
        self.by_digest.insert(
            digest(&p.token),
            Producer {
                name: p.name.clone(),
                feeds: p.feeds.iter().copied().collect(),
                sites,
            },
        );
    }

    /// The producer whose token is in the `Authorization: Bearer` header: from the
    /// configuration, else from the store's live tokens.
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        store: &dyn Store,
    ) -> Result<Producer, &'static str> {
        let value = headers
            .get(header::AUTHORIZATION)
            .ok_or("an Authorization: Bearer <token> header is required")?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or("the Authorization header must be Bearer <token>")?;
        let digest = digest(token);
        if let Some(p) = self.by_digest.get(&digest) {
            return Ok(p.clone());
        }
        match store.producer_by_token_hash(&digest).await {
            Ok(Some(row)) => Ok(row.into()),
            Ok(None) => Err("the token is not valid"),
            Err(e) => {
                tracing::error!(error = %e, "cannot check a producer token");
                Err("the token cannot be checked now; retry")
            }
        }
    }
}
