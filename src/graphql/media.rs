//! Pictures in GraphQL: the `Image` type, `uploadMedia` (the GraphQL
//! multipart request spec, as Apollo Upload Client sends it) and `media`.

use async_graphql::{Context, Enum, InputObject, Object, Result, Upload, ID};

use super::context::RequestContext;
use super::script::Script;
use crate::auth::policy::Action;
use crate::db::media::MediaRow;
use crate::error::{AppError, GqlResultExt};
use crate::media::Format;
use crate::services::media::{self as service, Description};

/// The format of a rendition.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    /// JPEG, for every browser and app.
    Jpeg,
    /// WebP (lossless), smaller for flat pictures and graphics.
    Webp,
}

impl From<ImageFormat> for Format {
    fn from(f: ImageFormat) -> Format {
        match f {
            ImageFormat::Jpeg => Format::Jpeg,
            ImageFormat::Webp => Format::Webp,
        }
    }
}

/// An uploaded picture, served as renditions at content-addressed URLs
/// (cache them for ever: the id is a digest of the picture).
pub struct Image {
    row: MediaRow,
    base: String,
    /// The script its texts are shown in.
    script: Script,
}

impl Image {
    /// The picture of `row`, its texts in `script`.
    pub fn new(row: MediaRow, ctx: &Context<'_>, script: Script) -> Image {
        Image::at(
            row,
            RequestContext::of(ctx).state.config.public_base_url.clone(),
            script,
        )
    }

    /// The picture of `row`, its URLs under `base`.
    pub fn at(row: MediaRow, base: String, script: Script) -> Image {
        Image { row, base, script }
    }

    fn text(&self, ctx: &Context<'_>, text: &str) -> String {
        RequestContext::of(ctx).line(text, self.script)
    }

    fn own_width(&self) -> u32 {
        u32::try_from(self.row.width).unwrap_or(0)
    }
}

/// An uploaded picture, served as renditions at content-addressed URLs
/// (cache them for ever: the id is a digest of the picture).
#[Object]
impl Image {
    /// The media id, for image blocks and `leadImage`.
    async fn id(&self) -> ID {
        ID(self.row.id.clone())
    }
    /// The URL of the rendition nearest `width` (the smallest of 320, 640,
    /// 1280, 2048 at least as wide, never wider than the picture).
    async fn url(
        &self,
        #[graphql(desc = "The width wanted, in pixels.", default = 1280)] width: i32,
        #[graphql(desc = "The format.", default_with = "ImageFormat::Jpeg")] format: ImageFormat,
    ) -> String {
        let wanted = u32::try_from(width.max(1)).unwrap_or(1);
        crate::media::url(
            &self.base,
            &self.row.id,
            self.own_width(),
            wanted,
            format.into(),
        )
    }
    /// Every rendition in `format`, for `<img srcset>` or `<source srcset>`.
    async fn srcset(
        &self,
        #[graphql(desc = "The format.", default_with = "ImageFormat::Jpeg")] format: ImageFormat,
    ) -> String {
        crate::media::srcset(&self.base, &self.row.id, self.own_width(), format.into())
    }
    /// Width of the picture, in pixels.
    async fn width(&self) -> i32 {
        self.row.width
    }
    /// Height of the picture, in pixels.
    async fn height(&self) -> i32 {
        self.row.height
    }
    /// A description for readers who cannot see it.
    async fn alt(&self, ctx: &Context<'_>) -> String {
        self.text(ctx, &self.row.alt)
    }
    /// The caption given at upload.
    async fn caption(&self, ctx: &Context<'_>) -> String {
        self.text(ctx, &self.row.caption)
    }
    /// Who made it (攝影 …).
    async fn credit(&self, ctx: &Context<'_>) -> String {
        self.text(ctx, &self.row.credit)
    }
    /// Where it comes from.
    async fn source(&self, ctx: &Context<'_>) -> String {
        self.text(ctx, &self.row.source)
    }
    /// The terms it may be used under.
    async fn rights(&self, ctx: &Context<'_>) -> String {
        self.text(ctx, &self.row.rights)
    }
    /// Who took it: a contributor (role photographer), if known.
    async fn photographer(&self, ctx: &Context<'_>) -> Option<super::curation::Contributor> {
        Some(super::curation::Contributor {
            database_id: self.row.photographer_id?,
            name: self.text(ctx, self.row.photographer.as_deref()?),
        })
    }
    /// A placeholder to paint while it loads (blurhash.org, 4×3 components).
    async fn blurhash(&self) -> &str {
        &self.row.blurhash
    }
}

/// The pictures among `ids`, as readers may see them.
pub async fn images(ctx: &Context<'_>, ids: Vec<String>) -> Result<crate::media::Pictures> {
    if ids.is_empty() {
        return Ok(crate::media::Pictures::default());
    }
    let rows = RequestContext::of(ctx).media().load_many(ids).await.gql()?;
    Ok(crate::media::Pictures::of(rows.into_values()))
}

#[derive(Default)]
pub struct MediaQuery;

#[Object]
impl MediaQuery {
    /// One uploaded picture by its media id; null when there is none, and
    /// null with `UNAVAILABLE_FOR_LEGAL_REASONS` while a takedown request
    /// withholds it.
    async fn media(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The media id.")] id: ID,
        #[graphql(desc = "Script of the texts; default from `Accept-Language`.")] script: Option<
            Script,
        >,
    ) -> Result<Option<Image>> {
        if !crate::media::is_id(&id) {
            return Ok(None);
        }
        let rc = RequestContext::of(ctx);
        let script = rc.choose_script(script).await.gql()?;
        rc.tag(crate::domain::CacheKey::Media(id.0.clone()));
        match rc.media().load_one(id.0).await.gql()? {
            Some(row) if row.is_withheld() => Err(AppError::UnavailableForLegalReasons).gql(),
            found => Ok(found.map(|row| Image::new(row, ctx, script))),
        }
    }
}

/// The texts of an upload, each at most 500 characters.
#[derive(Debug, Clone, Default, InputObject)]
pub struct MediaTextsInput {
    /// A description for readers who cannot see it.
    pub alt: Option<String>,
    /// The caption.
    pub caption: Option<String>,
    /// Who made it (攝影 …).
    pub credit: Option<String>,
    /// Where it comes from.
    pub source: Option<String>,
    /// The terms it may be used under.
    pub rights: Option<String>,
    /// Who took it: a contributor's name (made when new); `credit`
    /// defaults to `攝影 {name}`.
    pub photographer: Option<String>,
}

#[derive(Default)]
pub struct MediaMutation;

#[Object]
impl MediaMutation {
    /// Uploads a picture (reporters, editors, admins), sent as the GraphQL
    /// multipart request spec says. JPEG, PNG, WebP or GIF, read from its
    /// content; refused before decoding when it has too many pixels; kept
    /// upright and without metadata. The same picture again is the same asset.
    async fn upload_media(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The picture.")] file: Upload,
        #[graphql(desc = "What to say about it (null or absent: nothing).")] about: Option<
            MediaTextsInput,
        >,
    ) -> Result<Image> {
        let rc = RequestContext::of(ctx);
        let staff = rc.credentials.require_right(Action::WriteOwnDrafts).gql()?;
        // Nullable, not `= {}`: an operation declaring `$about:
        // MediaTextsInput` and leaving it out sends null here.
        let about = about.unwrap_or_default();
        let about = Description::parse(
            [
                ("alt", about.alt.as_deref()),
                ("caption", about.caption.as_deref()),
                ("credit", about.credit.as_deref()),
                ("source", about.source.as_deref()),
                ("rights", about.rights.as_deref()),
            ],
            about.photographer.as_deref(),
        )
        .gql()?;
        let bytes = file.value(ctx)?.content.to_vec();
        let state = &rc.state;
        let row = service::upload(&rc.db, &state.media, rc.actor(staff), bytes, about)
            .await
            .gql()?;
        // The uploader reads back what they wrote.
        Ok(Image::new(row, ctx, Script::Original))
    }
}
