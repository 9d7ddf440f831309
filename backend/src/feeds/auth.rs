//! Producer bearer tokens and what each may write (DESIGN §4, §9).

use crate::config::ProducerConfig;
use axum::http::{header, HeaderMap};
use levels_shared::feed::Feed;
use std::collections::{HashMap, HashSet};

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

/// Every producer the server accepts, by token.
#[derive(Debug, Default)]
pub struct Producers {
    by_token: HashMap<String, Producer>,
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
        self.by_token.insert(
            p.token.clone(),
            Producer {
                name: p.name.clone(),
                feeds: p.feeds.iter().copied().collect(),
                sites,
            },
        );
    }

    /// The producer whose token is in the `Authorization: Bearer` header.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<&Producer, &'static str> {
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
        self.by_token.get(token).ok_or("the token is not valid")
    }
}
