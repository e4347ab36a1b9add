//! Pictures over HTTP: `POST /v1/media` (a `multipart/form-data` upload
//! for reporters, editors and admins) and `GET /media/{id}/{width}.{jpg|webp}`
//! (renditions at content-addressed URLs, cached as immutable).

use actix_web::http::header;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Serialize;
use utoipa::ToSchema;

use super::graphql::authentication;
use super::AppState;
use crate::auth::policy::Action;
use crate::db::audit::Actor;
use crate::db::media::MediaRow;
use crate::domain::CacheKey;
use crate::error::{AppError, MediaRefusal, RequestRefusal};
use crate::media::{self, picture, Format};
use crate::services::media::{self as service, Description};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/media", web::post().to(upload_media))
        .route("/media/{id}/{file}", web::get().to(media_file));
}

/// An uploaded picture and where its renditions are.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MediaView {
    /// The media id (use it in image blocks and `leadImage`).
    pub id: String,
    pub width: i32,
    pub height: i32,
    /// The kept master's type: `image/jpeg`, `image/png` or `image/webp`.
    pub content_type: String,
    pub alt: String,
    pub caption: String,
    pub credit: String,
    pub source: String,
    pub rights: String,
    /// Who took it (a contributor's name), if known.
    pub photographer: Option<String>,
    /// A placeholder to paint while the picture loads (blurhash.org).
    pub blurhash: String,
    /// A JPEG rendition 1,280 pixels wide (or the picture's width).
    pub url: String,
    /// JPEG renditions for `<img srcset>`.
    pub srcset: String,
    /// WebP renditions for `<source type="image/webp" srcset>`.
    pub webp_srcset: String,
}

impl MediaView {
    /// The view of `row`, its URLs under `base`, its texts through `line`
    /// (script conversion).
    pub fn of(row: &MediaRow, base: &str, line: &dyn Fn(&str) -> String) -> MediaView {
        let width = u32::try_from(row.width).unwrap_or(0);
        MediaView {
            id: row.id.clone(),
            width: row.width,
            height: row.height,
            content_type: row.content_type.clone(),
            alt: line(&row.alt),
            caption: line(&row.caption),
            credit: line(&row.credit),
            source: line(&row.source),
            rights: line(&row.rights),
            photographer: row.photographer.as_deref().map(line),
            blurhash: row.blurhash.clone(),
            url: media::url(base, &row.id, width, 1280, Format::Jpeg),
            srcset: media::srcset(base, &row.id, width, Format::Jpeg),
            webp_srcset: media::srcset(base, &row.id, width, Format::Webp),
        }
    }
}

/// The form of an upload, as documented.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The picture: JPEG, PNG, WebP or GIF (read from its content), at most
    /// `NEWSDESK_MEDIA_MAX_BYTES` and `NEWSDESK_MEDIA_MAX_PIXELS`.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    alt: Option<String>,
    caption: Option<String>,
    credit: Option<String>,
    source: Option<String>,
    rights: Option<String>,
    /// Who took it: a contributor's name (made when new); the credit
    /// defaults to `攝影 {name}`.
    photographer: Option<String>,
}

/// Uploads a picture. Its type is read from its content, its size from its
/// header before it is decoded; it is turned upright and kept without
/// metadata (EXIF and GPS are gone). The same picture uploaded again
/// answers 200 with the asset kept before.
#[utoipa::path(post, path = "/v1/media",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Kept", body = MediaView),
        (status = 200, description = "The same picture was kept before", body = MediaView),
        (status = 400, description = "No `file` part, or a text too long", body = super::bodies::ErrorBody),
        (status = 401, description = "No valid token", body = super::bodies::ErrorBody),
        (status = 403, description = "The role may not upload", body = super::bodies::ErrorBody),
        (status = 413, description = "Larger than the upload limit", body = super::bodies::ErrorBody),
        (status = 415, description = "Not a JPEG, PNG, WebP or GIF image", body = super::bodies::ErrorBody),
        (status = 422, description = "Too many pixels (`IMAGE_TOO_LARGE`) or unreadable (`IMAGE_UNREADABLE`)", body = super::bodies::ErrorBody)))]
pub async fn upload_media(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let credentials = authentication::credentials(&state, &req).await;
    let staff = credentials.require_right(Action::WriteOwnDrafts)?;
    let actor = Actor {
        user_id: Some(staff.user_id),
        role: staff.role.as_str().to_string(),
        request_id: req
            .extensions()
            .get::<super::request_id::CurrentRequestId>()
            .map(|r| r.0.clone()),
        idempotency: None,
    };
    let limit = state.media.max_bytes;
    let form = tokio::time::timeout(
        state.config.limits.body_timeout * 6,
        read_form(&req, payload, limit),
    )
    .await
    .map_err(|_| RequestRefusal::BodyTooSlow {
        millis: (state.config.limits.body_timeout * 6).as_millis(),
    })??;
    let text = |name: &str| {
        form.texts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let about = Description::parse(
        [
            ("alt", text("alt")),
            ("caption", text("caption")),
            ("credit", text("credit")),
            ("source", text("source")),
            ("rights", text("rights")),
        ],
        text("photographer"),
    )?;
    let file = form.file.ok_or(MediaRefusal::NoFile)?;
    let uploaded_at = crate::db::now();
    let row = service::upload(&state.db, &state.media, actor, file, about).await?;
    let mut answer = if row.created_at < uploaded_at {
        HttpResponse::Ok()
    } else {
        HttpResponse::Created()
    };
    answer
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::LOCATION,
            format!("/media/{}/{}.jpg", row.id, row.width.min(1280)),
        ));
    // The uploader reads back what they wrote.
    Ok(answer.json(MediaView::of(
        &row,
        &state.config.public_base_url,
        &str::to_string,
    )))
}

struct Form {
    file: Option<Vec<u8>>,
    texts: Vec<(String, String)>,
}

/// Text parts are short; more than this is not a description.
const MAX_TEXT_PART: usize = 8 * 1024;

/// The parts of a `multipart/form-data` body: the `file` part held to
/// `limit` bytes (a larger one is refused as soon as it passes the limit,
/// or before a byte is read when `Content-Length` says so), text parts to
/// a few kilobytes.
async fn read_form(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<Form, AppError> {
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let overhead = 64 * 1024;
    if announced.is_some_and(|n| n > (limit + overhead) as u64) {
        return Err(MediaRefusal::TooLarge { limit }.into());
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        AppError::BadInput(
            "send the picture as multipart/form-data with a part named `file`".into(),
        )
    })?;
    // The body is read whole (it is at most the limit) because the form
    // parser wants a stream it can send between threads, which actix's is not.
    let mut payload = payload;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| RequestRefusal::UnreadableBody)?;
        if body.len() + chunk.len() > limit + overhead {
            return Err(MediaRefusal::TooLarge { limit }.into());
        }
        body.extend_from_slice(&chunk);
    }
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(body.freeze()) });
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .whole_stream((limit + overhead) as u64)
            .per_field(limit as u64),
    );
    let mut multipart = multer::Multipart::with_constraints(stream, boundary, constraints);
    let mut form = Form {
        file: None,
        texts: Vec::new(),
    };
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| form_error(e, limit))?
    {
        let name = field.name().unwrap_or("").to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| form_error(e, limit))? {
            let cap = if name == "file" { limit } else { MAX_TEXT_PART };
            if bytes.len() + chunk.len() > cap {
                return Err(if name == "file" {
                    MediaRefusal::TooLarge { limit }.into()
                } else {
                    AppError::BadInput(format!("{name}: too long"))
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        if name == "file" {
            form.file = Some(bytes);
        } else {
            let text = String::from_utf8(bytes)
                .map_err(|_| AppError::BadInput(format!("{name}: not UTF-8 text")))?;
            form.texts.push((name, text));
        }
    }
    Ok(form)
}

fn form_error(e: multer::Error, limit: usize) -> AppError {
    match e {
        multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
            MediaRefusal::TooLarge { limit }.into()
        }
        other => AppError::BadInput(format!("the form cannot be read: {other}")),
    }
}

/// A rendition of an uploaded picture. The URL names fixed bytes (the id
/// is a digest of the picture), so it is cached for a year as immutable.
#[utoipa::path(get, path = "/media/{id}/{file}",
    params(("id" = String, Path, description = "Media id"),
           ("file" = String, Path, description = "`{width}.jpg` or `{width}.webp`; width 320, 640, 1280, 2048 or the picture's own")),
    responses(
        (status = 200, description = "The picture", content(
            (String = "image/jpeg"),
            (String = "image/webp"))),
        (status = 404, description = "No such picture or width", body = super::bodies::ErrorBody),
        (status = 451, description = "Withheld by a takedown request (`Link: <…/takedowns/TD-n>; rel=\"blocked-by\"`)", body = super::bodies::ErrorBody)))]
pub async fn media_file(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (id, file) = path.into_inner();
    let (width, format) = file
        .rsplit_once('.')
        .and_then(|(w, ext)| Some((w.parse::<u32>().ok()?, Format::parse(ext)?)))
        .ok_or(AppError::NotFound)?;
    if !media::is_id(&id) {
        return Err(AppError::NotFound);
    }
    let row = state
        .db
        .run(move |conn| crate::db::media::by_ids(conn, &[id]))
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    let own = u32::try_from(row.width).unwrap_or(0);
    if !picture::widths_for(own).contains(&width) {
        return Err(AppError::NotFound);
    }
    // Before the validators: a client holding the tag must not hear 304.
    if row.is_withheld() {
        return withheld(&state, row.id).await;
    }
    // The URL names fixed bytes: the tag can be made from it alone.
    let etag = format!("\"{}-{width}.{}\"", row.id, format.extension());
    let cache = (header::CACHE_CONTROL, "public, max-age=31536000, immutable");
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if unchanged {
        return Ok(HttpResponse::NotModified()
            .insert_header(cache)
            .insert_header((header::ETAG, etag))
            .finish());
    }
    let bytes = state
        .media
        .rendition(&row.id, width, format)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, format.content_type()))
        .insert_header(cache)
        .insert_header((header::ETAG, etag))
        .insert_header(("x-content-type-options", "nosniff"))
        .insert_header(("Surrogate-Key", CacheKey::Media(row.id.clone()).to_string()))
        .body(bytes))
}

/// 451 (RFC 7725) for a picture a takedown request withholds, linking the
/// request that holds it; never cached.
async fn withheld(state: &AppState, id: String) -> Result<HttpResponse, AppError> {
    let references = state
        .db
        .run(move |conn| crate::db::media_holds::references(conn, &id))
        .await?;
    let mut response = HttpResponse::UnavailableForLegalReasons();
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(reference) = references.first() {
        response.insert_header((
            header::LINK,
            format!(
                "<{}/takedowns/{reference}>; rel=\"blocked-by\"",
                state.config.public_base_url
            ),
        ));
    }
    Ok(response.json(super::bodies::ErrorBody {
        error: super::bodies::ErrorDetail {
            code: "UNAVAILABLE_FOR_LEGAL_REASONS".into(),
            message: "withheld for legal reasons".into(),
        },
    }))
}
