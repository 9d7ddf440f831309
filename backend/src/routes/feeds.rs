//! Feed ingest: `POST /api/v1/feeds/{feed}` (docs/feeds.md).
//!
//! A request goes: authenticate the producer → parse the body (`feeds::body`) → validate
//! every record (`feeds`) → check the token's scope → commit the batch to the store
//! (durable, deduplicated, with its outbox entry) → wait until the outbox follower
//! (`live::follower`) has published it to this replica's screens → answer. Any invalid
//! record refuses the whole batch, so a producer never has half a batch applied.

use super::AppState;
use crate::accounts::producers::Producer;
use crate::feeds::body::{self, BodyError, SyntaxError};
use crate::feeds::error::{Invalid, RecordError};
use crate::feeds::{fields, validate_batch, Record, RecordContext};
use crate::store::{Batch, Commit, NewRecord, StoreError};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use levels_shared::feed::Feed;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub fn router(app: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/feeds/{feed}", post(ingest))
        .route_layer(axum::middleware::from_fn_with_state(app.clone(), counted))
}

/// Counts every refusal for `/metrics` by feed and status, including those given from the
/// request's head before `ingest` runs.
async fn counted(
    State(app): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let feed = request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let response = next.run(request).await;
    if !response.status().is_success() {
        app.metrics.refused(&feed, response.status());
    }
    response
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

/// The canonical form the store keeps. The entity is what later records of the same feed
/// update: a bed pool, a conveyance, a patient, a team, or the site's one ED.
pub fn canonical(record: &Record) -> NewRecord {
    let (record_id, site, entity, at, body) = match record {
        Record::Beds(r) => (
            &r.id,
            &r.site,
            r.pool.code(),
            r.at,
            serde_json::to_string(r),
        ),
        Record::Handover(r) => (
            &r.id,
            &r.site,
            r.conveyance.as_str(),
            r.at,
            serde_json::to_string(r),
        ),
        Record::Delay(r) => (
            &r.id,
            &r.site,
            r.patient.as_str(),
            r.at,
            serde_json::to_string(r),
        ),
        Record::Community(r) => (
            &r.id,
            &r.site,
            r.team.as_str(),
            r.at,
            serde_json::to_string(r),
        ),
        Record::Ed(r) => (&r.id, &r.site, "ed", r.at, serde_json::to_string(r)),
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

/// What a request's head says, checked before its body is read: a producer whose token
/// may post to this feed, in a format the contract accepts, announcing a body within the
/// limit. A request refused for any of these is answered without reading its body, so a
/// client without a token cannot make the server buffer bodies of up to the size limit,
/// and nobody can make it wait for a body it would refuse anyway.
pub struct Admitted {
    producer: Producer,
    feed: Feed,
    format: body::Format,
}

impl FromRequestParts<AppState> for Admitted {
    type Rejection = IngestError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, IngestError> {
        let producer: Producer = app
            .producers
            .authenticate(&parts.headers, app.store.as_ref())
            .await
            .map_err(IngestError::Unauthorized)?;
        let feed_name = match Path::<String>::from_request_parts(parts, app).await {
            Ok(Path(name)) => name,
            // Not UTF-8 once percent-decoded: name it as it was sent.
            Err(_) => parts.uri.path().rsplit('/').next().unwrap_or("").to_owned(),
        };
        let feed = Feed::parse(&feed_name)
            .ok_or_else(|| IngestError::UnknownFeed(fields::shown_name(&feed_name)))?;
        if !producer.may_write(feed) {
            return Err(IngestError::Forbidden(format!(
                "this token may not post to the {feed} feed"
            )));
        }
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let format = body::Format::from_content_type(content_type)
            .ok_or_else(|| IngestError::UnsupportedMediaType(fields::shown_name(content_type)))?;
        // A body announced as over the limit is refused before any of it is read.
        let limit = app.config.ingest.max_body_bytes;
        let announced = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if announced.is_some_and(|n| n > limit as u64) {
            return Err(IngestError::TooLarge(limit));
        }
        Ok(Admitted {
            producer,
            feed,
            format,
        })
    }
}

#[tracing::instrument(skip_all, fields(feed = %admitted.feed, producer = %admitted.producer.name))]
async fn ingest(
    State(app): State<AppState>,
    admitted: Admitted,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<IngestReply>, IngestError> {
    let Admitted {
        producer,
        feed,
        format,
    } = admitted;
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
        records: records.iter().map(canonical).collect(),
    };
    let ids: Vec<String> = batch.records.iter().map(|r| r.record_id.clone()).collect();
    // A producer hanging up drops this handler: the commit runs in a task of its own so
    // that it finishes or rolls back whole, never half-way through a statement.
    let store = app.store.clone();
    let commit = tokio::spawn(async move { store.commit(&batch).await })
        .await
        .map_err(|e| IngestError::Internal(format!("the ingest task failed: {e}")))??;
    match commit {
        Commit::Conflicts(positions) => Err(IngestError::Invalid(Invalid::of_records(
            positions.into_iter().map(|i| RecordError {
                index: raw[i].index,
                line: raw[i].line,
                field: "id".into(),
                message: format!(
                    "id {:?} was already accepted from this producer with different content",
                    ids[i]
                ),
            }),
        ))),
        Commit::Committed {
            accepted,
            duplicates,
            outbox,
            ..
        } => {
            // Durable now; answered once screens of this replica are sent what it changed.
            let seq = app.follower.published(&app.hub, outbox).await;
            tracing::info!(accepted, duplicates, seq, "batch accepted");
            app.metrics.accepted(feed, accepted, duplicates);
            Ok(Json(IngestReply {
                accepted,
                duplicates,
                seq,
            }))
        }
    }
}

/// Why ingest refused a request. Every refusal says what was wrong in words a producer's
/// engineer can act on; store failures are logged in full and answered with a bare 500,
/// never leaking internals.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("there is no feed {0:?}; feeds are: {names}", names = feed_names())]
    UnknownFeed(String),
    #[error("the body is larger than the limit of {0} bytes")]
    TooLarge(usize),
    #[error("the batch has more than {0} records; split it into batches of at most {0}")]
    TooManyRecords(usize),
    #[error("content type {0:?} is not supported: send application/json or text/csv")]
    UnsupportedMediaType(String),
    #[error(transparent)]
    Malformed(#[from] SyntaxError),
    #[error("{0}")]
    Invalid(Invalid),
    #[error("could not read the request body: {0}")]
    Body(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl From<BodyError> for IngestError {
    fn from(e: BodyError) -> IngestError {
        match e {
            BodyError::Syntax(e) => IngestError::Malformed(e),
            BodyError::TooManyRecords { limit } => IngestError::TooManyRecords(limit),
        }
    }
}

fn feed_names() -> String {
    levels_shared::feed::Feed::ALL
        .map(|f| f.as_str())
        .join(", ")
}

impl IngestError {
    pub fn status(&self) -> StatusCode {
        match self {
            IngestError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            IngestError::Forbidden(_) => StatusCode::FORBIDDEN,
            IngestError::UnknownFeed(_) => StatusCode::NOT_FOUND,
            IngestError::TooLarge(_) | IngestError::TooManyRecords(_) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            IngestError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            IngestError::Malformed(_) | IngestError::Body(_) => StatusCode::BAD_REQUEST,
            IngestError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            IngestError::Store(_) | IngestError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for IngestError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match &self {
            IngestError::Store(_) | IngestError::Internal(_) => {
                tracing::error!(error = %self, "ingest failed");
                json!({ "error": "internal error: the batch may not have been stored; retry it (a stored record comes back as a duplicate)" })
            }
            IngestError::Malformed(e) => {
                json!({ "error": e.message, "line": e.line, "column": e.column })
            }
            IngestError::Invalid(invalid) if invalid.unlisted > 0 => json!({
                "error": self.to_string(),
                "errors": invalid.errors,
                "unlisted_errors": invalid.unlisted,
            }),
            IngestError::Invalid(invalid) => {
                json!({ "error": self.to_string(), "errors": invalid.errors })
            }
            other => json!({ "error": other.to_string() }),
        };
        if status.is_client_error() {
            tracing::info!(status = status.as_u16(), error = %self, "batch refused");
        }
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
