//! Pictures: uploads checked by their content and cleaned of metadata
//! ([`picture`]), kept in an object store ([`store`]), served as
//! renditions at content-addressed URLs.
//!
//! A media id is the first 24 hex digits of the SHA-256 of the cleaned
//! master: the same picture uploaded twice is one asset, and a URL that
//! names an id names fixed bytes (served `immutable`).

pub mod picture;
pub mod samples;
pub mod store;

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::db::media::MediaRow;

pub use picture::{Format, Master};
pub use store::MediaStore;

pub use crate::error::MediaRefusal;

/// The id of a master.
pub fn id_of(master: &[u8]) -> String {
    let digest = Sha256::digest(master);
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

pub use crate::domain::is_media_id as is_id;

/// Where a master is kept in the store.
pub fn master_key(id: &str) -> String {
    format!("masters/{id}")
}

/// Where a rendition is kept in the store.
pub fn rendition_key(id: &str, width: u32, format: Format) -> String {
    format!("renditions/{id}/{width}.{}", format.extension())
}

/// The public path of a rendition.
pub fn rendition_path(id: &str, width: u32, format: Format) -> String {
    format!("/media/{id}/{width}.{}", format.extension())
}

/// The URL of the rendition of `id` (a picture `width` wide) nearest to
/// `wanted`: the smallest standard width at least `wanted`, at most the
/// picture's own.
pub fn url(base: &str, id: &str, width: u32, wanted: u32, format: Format) -> String {
    let chosen = picture::nearest_width(width, wanted);
    format!(
        "{}{}",
        base.trim_end_matches('/'),
        rendition_path(id, chosen, format)
    )
}

/// Every rendition of `id` in `format`, as a `srcset`.
pub fn srcset(base: &str, id: &str, width: u32, format: Format) -> String {
    picture::widths_for(width)
        .into_iter()
        .map(|w| {
            format!(
                "{}{} {w}w",
                base.trim_end_matches('/'),
                rendition_path(id, w, format)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The pictures a page names, as readers may see them: a picture under a
/// legal hold is withheld from every surface (its renditions, lead images,
/// image blocks with their captions, feeds, search).
#[derive(Debug, Clone, Default)]
pub struct Pictures(HashMap<String, MediaRow>);

impl Pictures {
    pub fn of(rows: impl IntoIterator<Item = MediaRow>) -> Pictures {
        Pictures(rows.into_iter().map(|r| (r.id.clone(), r)).collect())
    }

    /// The picture `id` when readers may see it: `None` when there is no
    /// such picture or a hold withholds it.
    pub fn shown(&self, id: &str) -> Option<&MediaRow> {
        self.0.get(id).filter(|r| !r.is_withheld())
    }

    /// Whether a hold withholds picture `id`.
    pub fn is_withheld(&self, id: &str) -> bool {
        self.0.get(id).is_some_and(MediaRow::is_withheld)
    }

    /// Marks `body`'s withheld pictures (see [`Body::withhold`]).
    ///
    /// [`Body::withhold`]: crate::body::Body::withhold
    pub fn withhold(&self, body: &mut crate::body::Body) {
        body.withhold(&|id| self.is_withheld(id));
    }

    /// How body HTML shows each picture readers may see, by id.
    pub fn html_pictures(&self, base: &str) -> HashMap<String, crate::body::Picture> {
        self.0
            .values()
            .filter(|r| !r.is_withheld())
            .map(|r| (r.id.clone(), html_picture(r, base)))
            .collect()
    }

    /// How body HTML shows picture `id` under `base`, if readers may see it.
    pub fn html(&self, id: &str, base: &str) -> Option<crate::body::Picture> {
        self.shown(id).map(|m| html_picture(m, base))
    }
}

/// How body HTML shows picture `row`: its 1,280-wide JPEG (or its own
/// width) and every JPEG rendition, under `base`.
pub fn html_picture(row: &MediaRow, base: &str) -> crate::body::Picture {
    let own = u32::try_from(row.width).unwrap_or(0);
    let own_height = u32::try_from(row.height).unwrap_or(0);
    let shown = picture::nearest_width(own, 1280);
    crate::body::Picture {
        src: url(base, &row.id, own, 1280, Format::Jpeg),
        srcset: srcset(base, &row.id, own, Format::Jpeg),
        width: shown,
        height: picture::scaled_height(own, own_height, shown),
    }
}

/// The media store with the limits of its pictures; decoding runs on a
/// blocking thread, one picture at a time per node, so that a burst of
/// uploads cannot hold several decoded pictures in memory at once.
#[derive(Debug)]
pub struct Library {
    pub store: MediaStore,
    pub max_bytes: usize,
    pub max_pixels: u64,
    work: tokio::sync::Semaphore,
}

impl Library {
    /// The library `config` describes: its bucket, or else its folder.
    pub fn new(config: &crate::config::MediaConfig) -> Result<Library, String> {
        let store = match &config.s3 {
            Some(s3) => MediaStore::bucket(s3)?,
            None => MediaStore::folder(&config.dir),
        };
        Ok(Library {
            store,
            max_bytes: config.max_bytes,
            max_pixels: config.max_pixels,
            work: tokio::sync::Semaphore::new(1),
        })
    }

    /// Runs `job` on a blocking thread once no other picture is being worked on.
    async fn work<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> Result<T, MediaRefusal> + Send + 'static,
    ) -> Result<T, crate::error::AppError> {
        let _permit = self
            .work
            .acquire()
            .await
            .map_err(|e| crate::error::AppError::Internal(e.to_string()))?;
        let done = tokio::task::spawn_blocking(job)
            .await
            .map_err(|e| crate::error::AppError::Internal(format!("picture work: {e}")))?;
        Ok(done?)
    }

    /// The clean master of an upload, kept in the store; its id.
    pub async fn keep(&self, upload: Vec<u8>) -> Result<(String, Master), crate::error::AppError> {
        if upload.len() > self.max_bytes {
            return Err(MediaRefusal::TooLarge {
                limit: self.max_bytes,
            }
            .into());
        }
        let max_pixels = self.max_pixels;
        let master = self
            .work(move || picture::master(&upload, max_pixels))
            .await?;
        let id = id_of(&master.bytes);
        self.store
            .put(&master_key(&id), master.bytes.clone())
            .await?;
        Ok((id, master))
    }

    /// A rendition of master `id`, made and kept the first time it is asked
    /// for; `None` when there is no such master.
    pub async fn rendition(
        &self,
        id: &str,
        width: u32,
        format: Format,
    ) -> Result<Option<Vec<u8>>, crate::error::AppError> {
        let key = rendition_key(id, width, format);
        if let Some(kept) = self.store.get(&key).await? {
            return Ok(Some(kept));
        }
        let Some(master) = self.store.get(&master_key(id)).await? else {
            return Ok(None);
        };
        let max_pixels = self.max_pixels;
        let made = self
            .work(move || picture::rendition(&master, width, format, max_pixels))
            .await?;
        self.store.put(&key, made.clone()).await?;
        Ok(Some(made))
    }
}
