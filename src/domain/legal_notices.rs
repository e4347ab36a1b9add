//! What the parties to a takedown write: the rights holder's notice (every
//! element 信息网络传播权保护条例 Art. 14 asks for), the article's side's
//! counter-notice (Art. 16), and legal's reason for turning a notice down.
//! Texts are trimmed; a blank one counts as missing.

use super::input_error::{given, MissingElements};
use crate::error::AppError;

/// Keeps notices from being built other than by parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Checked;

/// A takedown notice as submitted, before it is checked.
#[derive(Debug, Clone, Default)]
pub struct NoticeForm {
    pub claimant_name: Option<String>,
    pub organisation: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub contact_address: Option<String>,
    /// Our articles, in the order given; `None` for an id that cannot name one.
    pub articles: Vec<Option<i32>>,
    /// Our pictures, by media id, in the order given.
    pub media: Vec<String>,
    pub urls: Vec<String>,
    pub rights_statement: Option<String>,
    pub evidence_links: Vec<String>,
    pub reason: Option<String>,
    pub good_faith_statement: Option<bool>,
}

/// A complete takedown notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakedownNotice {
    pub claimant_name: String,
    pub organisation: Option<String>,
    /// At least one of the phone and the e-mail is there.
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub contact_address: String,
    /// The works: at least one article, picture or URL.
    pub articles: Vec<i32>,
    /// Media ids, each well formed (whether it exists is the filing's check).
    pub media: Vec<String>,
    pub urls: Vec<String>,
    pub rights_statement: String,
    pub evidence_links: Vec<String>,
    pub reason: String,
    checked: Checked,
}

/// Why a takedown notice was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidNotice {
    #[error(transparent)]
    Missing(#[from] MissingElements),
    /// The article at this position of `articles` is not one readers can see.
    #[error("articles[{0}]: unknown article")]
    UnknownArticle(usize),
    /// The picture at this position of `media` does not exist.
    #[error("media[{0}]: unknown picture")]
    UnknownMedia(usize),
}

impl From<InvalidNotice> for AppError {
    fn from(e: InvalidNotice) -> Self {
        AppError::BadInput(e.to_string())
    }
}

impl TakedownNotice {
    /// Checks every element; a refusal names each one that is missing, then
    /// the first article id that names nothing.
    pub fn parse(form: NoticeForm) -> Result<TakedownNotice, InvalidNotice> {
        let claimant_name = given(form.claimant_name.as_deref());
        let contact_phone = given(form.contact_phone.as_deref());
        let contact_email = given(form.contact_email.as_deref());
        let contact_address = given(form.contact_address.as_deref());
        let rights_statement = given(form.rights_statement.as_deref());
        let reason = given(form.reason.as_deref());
        let mut missing = Vec::new();
        if claimant_name.is_none() {
            missing.push("claimantName");
        }
        if contact_phone.is_none() && contact_email.is_none() {
            missing.push("contactPhone or contactEmail");
        }
        if contact_address.is_none() {
            missing.push("contactAddress");
        }
        if form.articles.is_empty() && form.media.is_empty() && form.urls.is_empty() {
            missing.push("articles, media or urls");
        }
        if rights_statement.is_none() {
            missing.push("rightsStatement");
        }
        if reason.is_none() {
            missing.push("reason");
        }
        if form.good_faith_statement != Some(true) {
            missing.push("goodFaithStatement");
        }
        let (
            Some(claimant_name),
            Some(contact_address),
            Some(rights_statement),
            Some(reason),
            true,
        ) = (
            claimant_name,
            contact_address,
            rights_statement,
            reason,
            missing.is_empty(),
        )
        else {
            return Err(MissingElements(missing).into());
        };
        let articles = form
            .articles
            .iter()
            .enumerate()
            .map(|(i, id)| id.ok_or(InvalidNotice::UnknownArticle(i)))
            .collect::<Result<Vec<i32>, _>>()?;
        let mut media: Vec<String> = Vec::with_capacity(form.media.len());
        for (i, id) in form.media.into_iter().enumerate() {
            let id = id.trim().to_ascii_lowercase();
            if !super::is_media_id(&id) {
                return Err(InvalidNotice::UnknownMedia(i));
            }
            if !media.contains(&id) {
                media.push(id);
            }
        }
        Ok(TakedownNotice {
            claimant_name,
            organisation: given(form.organisation.as_deref()),
            contact_phone,
            contact_email,
            contact_address,
            articles,
            media,
            urls: form.urls,
            rights_statement,
            evidence_links: form.evidence_links,
            reason,
            checked: Checked,
        })
    }
}

/// The article's side's answer to an accepted request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterNotice {
    /// Who answers: the outlet or person that supplied the work.
    pub name: String,
    pub contact: String,
    pub address: String,
    /// Why the work does not infringe.
    pub statement: String,
    pub evidence_links: Vec<String>,
    checked: Checked,
}

impl CounterNotice {
    /// Checks every element; a refusal names each one that is blank.
    pub fn parse(
        name: &str,
        contact: &str,
        address: &str,
        statement: &str,
        evidence_links: Vec<String>,
    ) -> Result<CounterNotice, MissingElements> {
        let elements = [
            ("name", name),
            ("contact", contact),
            ("address", address),
            ("statement", statement),
        ];
        let missing: Vec<&'static str> = elements
            .iter()
            .filter(|(_, value)| value.trim().is_empty())
            .map(|(element, _)| *element)
            .collect();
        if !missing.is_empty() {
            return Err(MissingElements(missing));
        }
        Ok(CounterNotice {
            name: name.trim().to_string(),
            contact: contact.trim().to_string(),
            address: address.trim().to_string(),
            statement: statement.trim().to_string(),
            evidence_links,
            checked: Checked,
        })
    }
}

/// Why legal turns a notice down, told to the claimant: required, and kept
/// as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason(String);

impl Reason {
    pub fn parse(value: String) -> Result<Reason, super::InvalidText> {
        if value.trim().is_empty() {
            return Err(super::InvalidText::new("reason", "required"));
        }
        Ok(Reason(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<Reason> for String {
    fn from(r: Reason) -> String {
        r.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete() -> NoticeForm {
        NoticeForm {
            claimant_name: Some(" 王權利 ".into()),
            organisation: Some("  ".into()),
            contact_phone: None,
            contact_email: Some("rights@example.test".into()),
            contact_address: Some("濟南市某路1號".into()),
            articles: vec![Some(1)],
            media: vec![],
            urls: vec![],
            rights_statement: Some("本社擁有著作權".into()),
            evidence_links: vec!["https://example.test/proof".into()],
            reason: Some("未經授權轉載".into()),
            good_faith_statement: Some(true),
        }
    }

    #[test]
    fn a_notice_may_name_only_pictures_each_well_formed() {
        let id = "0123456789abcdef01234567";
        let notice = TakedownNotice::parse(NoticeForm {
            articles: vec![],
            media: vec![format!(" {} ", id.to_uppercase()), id.into()],
            ..complete()
        })
        .expect("pictures alone are a work");
        assert_eq!(notice.media, vec![id.to_string()]);
        let refused = TakedownNotice::parse(NoticeForm {
            media: vec![id.into(), "../x".into()],
            ..complete()
        });
        assert_eq!(refused, Err(InvalidNotice::UnknownMedia(1)));
    }

    #[test]
    fn a_complete_notice_is_trimmed_and_kept() {
        let notice = TakedownNotice::parse(complete()).expect("complete");
        assert_eq!(notice.claimant_name, "王權利");
        assert_eq!(notice.organisation, None);
        assert_eq!(notice.contact_email.as_deref(), Some("rights@example.test"));
        assert_eq!(notice.articles, vec![1]);
    }

    #[test]
    fn an_empty_notice_names_every_missing_element_in_order() {
        let refused = TakedownNotice::parse(NoticeForm::default()).expect_err("empty");
        assert_eq!(
            refused.to_string(),
            "missing: claimantName, contactPhone or contactEmail, contactAddress, \
             articles, media or urls, rightsStatement, reason, goodFaithStatement"
        );
    }

    #[test]
    fn a_url_alone_names_the_work_and_a_phone_alone_the_contact() {
        let form = NoticeForm {
            articles: vec![],
            urls: vec!["https://example.test/a".into()],
            contact_email: None,
            contact_phone: Some("0531-1".into()),
            ..complete()
        };
        assert!(TakedownNotice::parse(form).is_ok());
    }

    #[test]
    fn good_faith_must_be_stated() {
        for statement in [None, Some(false)] {
            let form = NoticeForm {
                good_faith_statement: statement,
                ..complete()
            };
            assert_eq!(
                TakedownNotice::parse(form).map_err(|e| e.to_string()),
                Err("missing: goodFaithStatement".into())
            );
        }
    }

    #[test]
    fn an_id_naming_nothing_is_reported_by_position_after_missing_elements() {
        let form = NoticeForm {
            articles: vec![Some(1), None],
            ..complete()
        };
        assert_eq!(
            TakedownNotice::parse(form).map_err(|e| e.to_string()),
            Err("articles[1]: unknown article".into())
        );
        let both = NoticeForm {
            articles: vec![None],
            reason: None,
            ..complete()
        };
        assert_eq!(
            TakedownNotice::parse(both).map_err(|e| e.to_string()),
            Err("missing: reason".into())
        );
    }

    #[test]
    fn a_counter_notice_names_every_blank_element() {
        let refused = CounterNotice::parse(" ", "0531", "", "持有授權", vec![]).expect_err("blank");
        assert_eq!(refused.to_string(), "missing: name, address");
        let answer = CounterNotice::parse(" 經濟導報 ", "0531", "濟南", " 持有授權 ", vec![])
            .expect("complete");
        assert_eq!(
            (answer.name.as_str(), answer.statement.as_str()),
            ("經濟導報", "持有授權")
        );
    }

    #[test]
    fn a_reason_is_required_and_kept_as_written() {
        assert_eq!(
            Reason::parse(" \t".into()).map_err(|e| e.to_string()),
            Err("reason: required".into())
        );
        assert_eq!(
            Reason::parse(" 證據不足 ".into()).map(String::from),
            Ok(" 證據不足 ".into())
        );
    }
}
