//! The bodies of REST, feed and health answers that the OpenAPI document
//! names and more than one module uses: the error body every REST route
//! answers with, the health answer, and the ninjs items (written by
//! [`crate::syndication::ninjs`], described here).

use serde::Serialize;
use utoipa::ToSchema;

/// An error.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code (`BAD_USER_INPUT`, `NOT_FOUND` …).
    pub code: String,
    pub message: String,
}

/// `GET /healthz`, `/readyz`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, `ready` or `unavailable`.
    pub status: String,
    /// `sqlite` or `postgres` (`/readyz`).
    pub database: Option<String>,
}

/// An IPTC ninjs 2.1 item: a full or partial article, or a `canceled` stub
/// (`uri`, `type`, `pubstatus`, `versioncreated` only) for a withdrawn one.
#[derive(Serialize, ToSchema)]
pub struct Ninjs {
    /// `tag:HOST,2023:article:ID`.
    pub uri: String,
    /// Always `text`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `full` with bodies, `partial` without.
    pub representationtype: Option<String>,
    pub standard: Option<NinjsStandard>,
    /// The article's revision.
    pub version: Option<String>,
    pub firstcreated: Option<String>,
    pub versioncreated: String,
    /// `usable`, or `canceled` when withdrawn.
    pub pubstatus: String,
    pub headlines: Option<Vec<NinjsText>>,
    pub descriptions: Option<Vec<NinjsText>>,
    pub by: Option<String>,
    pub people: Option<Vec<NinjsName>>,
    pub copyrightholder: Option<String>,
    pub copyrightnotice: Option<String>,
    pub usageterms: Option<String>,
    pub language: Option<String>,
    pub located: Option<String>,
    pub subjects: Option<Vec<NinjsName>>,
    pub altids: Option<Vec<NinjsText>>,
    pub infosources: Option<Vec<NinjsSource>>,
    pub bodies: Option<Vec<NinjsBody>>,
}

/// ninjs `standard`.
#[derive(Serialize, ToSchema)]
pub struct NinjsStandard {
    pub name: String,
    pub version: String,
    pub schema: String,
}

/// A headline, description or alternative id.
#[derive(Serialize, ToSchema)]
pub struct NinjsText {
    pub role: String,
    pub contenttype: Option<String>,
    pub value: String,
}

/// A person or subject.
#[derive(Serialize, ToSchema)]
pub struct NinjsName {
    pub name: String,
    pub rel: String,
}

/// Where the work comes from.
#[derive(Serialize, ToSchema)]
pub struct NinjsSource {
    pub name: String,
    /// `originator` or `reprinted-from`.
    pub role: String,
}

/// The text of the article (partners, owned articles only).
#[derive(Serialize, ToSchema)]
pub struct NinjsBody {
    pub role: String,
    /// `text/plain` or `text/html`.
    pub contenttype: String,
    pub charcount: i64,
    pub value: String,
}

/// `GET /v1/ninjs/feed`.
#[derive(Serialize, ToSchema)]
pub struct NinjsFeed {
    pub items: Vec<Ninjs>,
}
