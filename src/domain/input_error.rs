//! How parsed input is refused: the message names the field first, as every
//! `BAD_USER_INPUT` does, so clients can point at it.

use crate::error::AppError;

/// A text that does not fit its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct InvalidText {
    /// The input field, as the API names it (`title`, `byline` …).
    pub field: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

impl InvalidText {
    pub fn new(field: &'static str, problem: impl Into<String>) -> Self {
        InvalidText {
            field,
            problem: problem.into(),
        }
    }
}

impl From<InvalidText> for AppError {
    fn from(e: InvalidText) -> Self {
        AppError::BadInput(e.to_string())
    }
}

/// Required elements of a notice that were left out, all named at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("missing: {}", .0.join(", "))]
pub struct MissingElements(pub Vec<&'static str>);

impl From<MissingElements> for AppError {
    fn from(e: MissingElements) -> Self {
        AppError::BadInput(e.to_string())
    }
}

/// A text with its surrounding blanks trimmed, or `None` when nothing is left.
pub(crate) fn given(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// Checks that `value` is empty (nothing set) or an absolute http(s) URL
/// of at most 2,048 bytes without credentials.
pub fn check_absolute_url(field: &'static str, value: &str) -> Result<(), InvalidText> {
    if value.is_empty() {
        return Ok(());
    }
    let fits = value.len() <= 2048
        && url::Url::parse(value).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some()
                && u.username().is_empty()
                && u.password().is_none()
        });
    if fits {
        Ok(())
    } else {
        Err(InvalidText::new(
            field,
            "must be an absolute http(s) URL of at most 2,048 bytes, or empty",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_start_with_the_field() {
        assert_eq!(
            InvalidText::new("title", "must be 1-200 characters, got 0").to_string(),
            "title: must be 1-200 characters, got 0"
        );
        assert_eq!(
            MissingElements(vec!["name", "address"]).to_string(),
            "missing: name, address"
        );
    }

    #[test]
    fn blank_texts_are_not_given() {
        assert_eq!(given(None), None);
        assert_eq!(given(Some(" \n ")), None);
        assert_eq!(given(Some(" 王 ")).as_deref(), Some("王"));
    }
}
