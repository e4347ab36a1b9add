//! What a search is narrowed to and how its hits are ordered.

use chrono::NaiveDateTime;

use crate::db::search_log;
use crate::db::AnyConnection;
use crate::error::AppError;

/// A filter's names as readers give them: a source's name, a
/// contributor's name, a tag's slug, each exactly as stored.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub source: Option<String>,
    pub contributor: Option<String>,
    pub tag: Option<String>,
}

/// The articles a search may return besides matching: every field that is
/// given must hold. Names and slugs are resolved to ids before the search
/// (a name no one has leaves an empty list, which nothing matches).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Scope {
    /// Sections, as ids (a section and its subsections when the reader
    /// asked for them).
    pub sections: Option<Vec<i32>>,
    /// Sources, as ids: the ones with the name asked for.
    pub sources: Option<Vec<i32>>,
    /// Contributors, as ids: the ones with the name asked for; an article
    /// with any of them in its byline matches.
    pub contributors: Option<Vec<i32>>,
    /// Tags, as ids.
    pub tags: Option<Vec<i32>>,
    /// Published at or after.
    pub published_after: Option<NaiveDateTime>,
    /// Published before.
    pub published_before: Option<NaiveDateTime>,
}

impl Scope {
    /// The whole site.
    pub fn everything() -> Self {
        Scope::default()
    }

    /// Within `sections`, when given.
    pub fn sections(sections: Option<Vec<i32>>) -> Self {
        Scope {
            sections,
            ..Scope::default()
        }
    }

    /// This scope narrowed further to `names`, resolved to ids.
    pub fn with_names(mut self, conn: &mut AnyConnection, names: &Names) -> Result<Self, AppError> {
        if let Some(name) = &names.source {
            self.sources = Some(search_log::sources_named(conn, name)?);
        }
        if let Some(name) = &names.contributor {
            self.contributors = Some(search_log::contributors_named(conn, name)?);
        }
        if let Some(slug) = &names.tag {
            self.tags = Some(search_log::tags_with_slug(conn, slug)?);
        }
        Ok(self)
    }

    /// Whether some filter names nothing that exists, so nothing matches.
    pub fn is_empty(&self) -> bool {
        [
            &self.sections,
            &self.sources,
            &self.contributors,
            &self.tags,
        ]
        .iter()
        .any(|ids| ids.as_ref().is_some_and(Vec::is_empty))
            || matches!(
                (self.published_after, self.published_before),
                (Some(after), Some(before)) if after >= before
            )
    }

    /// Whether an article with these facts is within the scope as far as
    /// its row tells (people and tags are the index's to check): hits are
    /// checked again against the rows they show.
    pub fn admits(
        &self,
        section: i32,
        source: Option<i32>,
        published: Option<NaiveDateTime>,
    ) -> bool {
        let within = |list: &Option<Vec<i32>>, id: Option<i32>| {
            list.as_ref()
                .is_none_or(|ids| id.is_some_and(|id| ids.contains(&id)))
        };
        within(&self.sections, Some(section))
            && within(&self.sources, source)
            && self
                .published_after
                .is_none_or(|after| published.is_some_and(|at| at >= after))
            && self
                .published_before
                .is_none_or(|before| published.is_some_and(|at| at < before))
    }
}

/// The order of hits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Order {
    /// Best match first (BM25 with the freshness boost); ties newest first.
    #[default]
    Relevance,
    /// Newest first; ties by the higher id.
    Newest,
    /// Oldest first; ties by the lower id.
    Oldest,
}
