//! Uploading a picture: checked and cleaned ([`crate::media::picture`]),
//! its master kept in the store, then its row and an audit event written
//! in one transaction. The same picture uploaded again is the same asset.

use crate::db::audit::{Actor, Event};
use crate::db::media::{self, MediaRow};
use crate::db::Database;
use crate::error::AppError;
use crate::media::Library;

/// Characters each of an upload's texts may hold.
pub const MAX_TEXT_CHARS: usize = 500;

/// What an uploader says about a picture.
#[derive(Debug, Clone, Default)]
pub struct Description {
    /// For readers who cannot see it.
    pub alt: String,
    pub caption: String,
    /// Who made it (攝影 王偉).
    pub credit: String,
    /// Where it comes from (an agency, a reader).
    pub source: String,
    /// The terms it may be used under.
    pub rights: String,
}

impl Description {
    /// Each text trimmed and at most [`MAX_TEXT_CHARS`].
    pub fn parse(fields: [(&'static str, Option<&str>); 5]) -> Result<Description, AppError> {
        let mut texts = Vec::with_capacity(5);
        for (name, value) in fields {
            let text = value.unwrap_or("").trim().to_string();
            if text.chars().count() > MAX_TEXT_CHARS {
                return Err(AppError::BadInput(format!(
                    "{name}: must be at most {MAX_TEXT_CHARS} characters"
                )));
            }
            texts.push(text);
        }
        let [alt, caption, credit, source, rights]: [String; 5] = texts
            .try_into()
            .map_err(|_| AppError::Internal("five texts".into()))?;
        Ok(Description {
            alt,
            caption,
            credit,
            source,
            rights,
        })
    }
}

/// Keeps an uploaded picture; returns its row (the earlier one when the
/// same picture was uploaded before).
pub async fn upload(
    db: &Database,
    library: &Library,
    actor: Actor,
    upload: Vec<u8>,
    about: Description,
) -> Result<MediaRow, AppError> {
    let (id, master) = library.keep(upload).await?;
    let row = MediaRow {
        id,
        content_type: master.content_type.to_string(),
        width: i32::try_from(master.width).unwrap_or(i32::MAX),
        height: i32::try_from(master.height).unwrap_or(i32::MAX),
        bytes: i32::try_from(master.bytes.len()).unwrap_or(i32::MAX),
        blurhash: master.blurhash,
        alt: about.alt,
        caption: about.caption,
        credit: about.credit,
        source: about.source,
        rights: about.rights,
        uploaded_by: actor.user_id,
        created_at: crate::db::now(),
        held_since: None,
    };
    db.transact(actor, move |tx| {
        let kept = media::insert_or_existing(tx.conn(), &row)?;
        let details =
            serde_json::json!({ "media": kept.id, "width": kept.width, "height": kept.height });
        tx.audit(Event::action("media.upload", "media", None, details));
        Ok(kept)
    })
    .await
}
