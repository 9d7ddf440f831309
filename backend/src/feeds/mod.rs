//! Feed ingest: `POST /api/v1/feeds/{feed}` (DESIGN §4).
//!
//! A request goes: authenticate → parse the body ([`body`]) → validate every record
//! ([`fields`], then the feed's own module) → check the token's scope → commit the batch
//! to the store (durable, deduplicated) → publish what changed to the live hub → answer.
//! Any invalid record refuses the whole batch, so a producer never has half a batch applied.

pub mod auth;
pub mod beds;
pub mod body;
pub mod error;
pub mod fields;

use crate::app::AppState;
use crate::store::{Batch, Commit, NewRecord};
use auth::Producer;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use body::RawRecord;
use chrono::{DateTime, FixedOffset, Utc};
use error::{IngestError, RecordError};
use fields::Fields;
use levels_shared::beds::BedsRecord;
use levels_shared::feed::Feed;
use levels_shared::live::Change;
use levels_shared::reference::ReferenceData;
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/feeds/{feed}", post(ingest))
}

/// The answer to an accepted batch.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct IngestReply {
    /// Records newly stored.
    pub accepted: usize,
    /// Records already stored with identical content, not applied again.
    pub duplicates: usize,
    /// The live sequence number that reflects this batch.
    pub seq: u64,
}

/// The fields every record has, whatever its feed.
pub struct Envelope {
    pub id: String,
    pub site: String,
    pub at: DateTime<FixedOffset>,
}

/// What validation checks records against.
pub struct RecordContext<'a> {
    pub reference: &'a ReferenceData,
    pub now: DateTime<Utc>,
    pub max_future_seconds: i64,
}

/// A valid record of any feed.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Beds(BedsRecord),
}

impl Record {
    fn site(&self) -> &str {
        match self {
            Record::Beds(r) => &r.site,
        }
    }

    /// The canonical form the store keeps.
    fn to_new_record(&self) -> NewRecord {
        let (record_id, site, entity, at, body) = match self {
            Record::Beds(r) => (
                &r.id,
                &r.site,
                r.pool.code(),
                r.at,
                serde_json::to_string(r),
            ),
        };
        NewRecord {
            record_id: record_id.clone(),
            site: site.clone(),
            entity: entity.to_owned(),
            at,
            // Serialising plain data to a string cannot fail.
            body: body.unwrap_or_default(),
        }
    }

    fn into_change(self) -> Change {
        match self {
            Record::Beds(r) => Change::Beds(r),
        }
    }
}

/// Validates every record; either all are valid or every error is returned.
pub fn validate_batch(
    feed: Feed,
    raw: &[RawRecord],
    ctx: &RecordContext,
) -> Result<Vec<Record>, Vec<RecordError>> {
    let mut records = Vec::with_capacity(raw.len());
    let mut errors = Vec::new();
    for r in raw {
        let mut f = Fields::new(r);
        let envelope = read_envelope(&mut f, ctx);
        let record = match feed {
            Feed::Beds => beds::validate(&mut f, envelope, ctx).map(Record::Beds),
        };
        let field_errors = f.finish();
        if field_errors.is_empty() {
            // Every getter that failed recorded an error, so a complete record is here.
            records.extend(record);
        }
        errors.extend(field_errors.into_iter().map(|e| RecordError {
            index: r.index,
            line: r.line,
            field: e.field,
            message: e.message,
        }));
    }
    if errors.is_empty() {
        Ok(records)
    } else {
        Err(errors)
    }
}

/// Reads `id`, `site` and `at`. Returns a placeholder envelope when one is invalid: the
/// error is already recorded, so the record will be refused, but its other fields are
/// still checked and reported in the same answer.
fn read_envelope(f: &mut Fields, ctx: &RecordContext) -> Envelope {
    let id = f.string("id", 1, 128);
    let site = f.string("site", 1, 64);
    if let Some(code) = &site {
        if ctx.reference.site(code).is_none() {
            f.error("site", format!("site {code:?} is not a known site code"));
        }
    }
    let at = f.timestamp("at");
    if let Some(at) = at {
        let ahead = (at.with_timezone(&Utc) - ctx.now).num_seconds();
        if ahead > ctx.max_future_seconds {
            f.error(
                "at",
                format!(
                    "at ({}) is {ahead} s in the future; at most {} s is allowed",
                    at.to_rfc3339(),
                    ctx.max_future_seconds
                ),
            );
        }
    }
    Envelope {
        id: id.unwrap_or_default(),
        site: site.unwrap_or_default(),
        at: at.unwrap_or_else(|| ctx.now.fixed_offset()),
    }
}

#[tracing::instrument(skip_all, fields(feed = %feed_name, producer))]
async fn ingest(
    State(app): State<AppState>,
    Path(feed_name): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<IngestReply>, IngestError> {
    let producer: &Producer = app
        .producers
        .authenticate(&headers)
        .map_err(IngestError::Unauthorized)?;
    tracing::Span::current().record("producer", producer.name.as_str());
    let feed = Feed::parse(&feed_name).ok_or(IngestError::UnknownFeed(feed_name.clone()))?;
    if !producer.may_write(feed) {
        return Err(IngestError::Forbidden(format!(
            "this token may not post to the {feed} feed"
        )));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let format = body::Format::from_content_type(content_type)
        .ok_or_else(|| IngestError::UnsupportedMediaType(content_type.to_owned()))?;
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => IngestError::TooLarge(app.config.ingest.max_body_bytes),
        _ => IngestError::Body(e.body_text()),
    })?;

    let raw = body::parse(format, &body)?;
    let now = Utc::now();
    let ctx = RecordContext {
        reference: &app.reference,
        now,
        max_future_seconds: app.config.ingest.max_future_seconds,
    };
    let records = validate_batch(feed, &raw, &ctx).map_err(IngestError::Invalid)?;
    if let Some((i, r)) = records
        .iter()
        .enumerate()
        .find(|(_, r)| !producer.may_write_site(r.site()))
    {
        return Err(IngestError::Forbidden(format!(
            "record {i}: this token may not post for site {:?}",
            r.site()
        )));
    }

    let batch = Batch {
        producer: producer.name.clone(),
        feed,
        received_at: now,
        records: records.iter().map(Record::to_new_record).collect(),
    };
    // One batch at a time from commit to publish, so live sequence numbers follow the
    // order in which batches became durable.
    let _order = app.ingest_order.lock().await;
    match app.store.commit(&batch).await? {
        Commit::Conflicts(positions) => Err(IngestError::Invalid(
            positions
                .into_iter()
                .map(|i| RecordError {
                    index: raw[i].index,
                    line: raw[i].line,
                    field: "id".into(),
                    message: format!(
                        "id {:?} was already accepted from this producer with different content",
                        batch.records[i].record_id
                    ),
                })
                .collect(),
        )),
        Commit::Committed {
            accepted,
            duplicates,
            applied,
        } => {
            let mut records: Vec<Option<Record>> = records.into_iter().map(Some).collect();
            let changes: Vec<Change> = applied
                .into_iter()
                .filter_map(|i| records[i].take().map(Record::into_change))
                .collect();
            let seq = app.hub.publish(changes);
            tracing::info!(accepted, duplicates, seq, "batch accepted");
            Ok(Json(IngestReply {
                accepted,
                duplicates,
                seq,
            }))
        }
    }
}
