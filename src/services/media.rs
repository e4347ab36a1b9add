//! Uploading a picture: checked and cleaned ([`crate::media::picture`]),
//! its master kept in the store, then its row and an audit event written
//! in one transaction. The same picture uploaded again is the same asset.

use crate::db::audit::{Actor, Event};
use crate::db::media::{self, MediaRow};
use crate::db::{contributors, Database};
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
    /// Who took it, a contributor by name (made when new); the credit
    /// line is `攝影 {name}` unless one is given.
    pub photographer: Option<String>,
}

impl Description {
    /// Each text trimmed and at most [`MAX_TEXT_CHARS`]; `photographer` a
    /// name of at most 50 characters (blank: nobody).
    pub fn parse(
        fields: [(&'static str, Option<&str>); 5],
        photographer: Option<&str>,
    ) -> Result<Description, AppError> {
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
        let photographer = match photographer.map(str::trim).filter(|p| !p.is_empty()) {
            Some(name) => Some(
                crate::domain::PersonName::parse(name)
                    .map_err(|_| {
                        AppError::BadInput(format!(
                            "photographer: must be at most {} characters",
                            crate::domain::PersonName::MAX_CHARS
                        ))
                    })?
                    .into(),
            ),
            None => None,
        };
        let credit = match (&photographer, credit.is_empty()) {
            (Some(name), true) => format!("攝影 {name}"),
            _ => credit,
        };
        Ok(Description {
            alt,
            caption,
            credit,
            source,
            rights,
            photographer,
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
        photographer_id: None,
        photographer: about.photographer.clone(),
    };
    db.transact(actor, move |tx| {
        let mut row = row;
        if let Some(name) = &about.photographer {
            row.photographer_id = Some(contributors::find_or_create(tx.conn(), name)?);
        }
        let kept = media::insert_or_existing(tx.conn(), &row)?;
        let details =
            serde_json::json!({ "media": kept.id, "width": kept.width, "height": kept.height });
        tx.audit(Event::action("media.upload", "media", None, details));
        Ok(kept)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(credit: Option<&str>) -> [(&'static str, Option<&str>); 5] {
        [
            ("alt", None),
            ("caption", None),
            ("credit", credit),
            ("source", None),
            ("rights", None),
        ]
    }

    #[test]
    fn a_photographer_is_a_name_and_makes_the_credit_line() {
        let about = Description::parse(texts(None), Some(" 王偉 ")).expect("valid");
        assert_eq!(
            (about.photographer.as_deref(), about.credit.as_str()),
            (Some("王偉"), "攝影 王偉")
        );
        let about = Description::parse(texts(Some("新華社")), Some("王偉")).expect("valid");
        assert_eq!(about.credit, "新華社", "a given credit line stays");
        let about = Description::parse(texts(None), Some("  ")).expect("blank is nobody");
        assert_eq!((about.photographer, about.credit), (None, String::new()));
        let long = "王".repeat(51);
        assert!(matches!(
            Description::parse(texts(None), Some(&long)),
            Err(AppError::BadInput(m)) if m.starts_with("photographer:")
        ));
    }
}
