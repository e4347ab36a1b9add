//! A deterministic generated newsroom (`newsdesk dev seed`): the dataset that
//! `make bench` measures on and that the search corpus tests query.
//!
//! The same options give the same sections, contributors and articles
//! (titles, bodies, bylines, publish times) on either engine, so results can
//! be compared across engines and runs. Generation uses its own small PRNG
//! (SplitMix64) so that the data cannot change under a dependency upgrade.

mod vocab;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{article_credits, article_revisions};
use crate::db::{self, articles, contributors, sections, AnyConnection};
use crate::domain::{slugify, ArticleStatus, CreditRole, SectionKind};
use crate::error::AppError;
use vocab::{COMPANIES, GIVEN, INDUSTRIES, PLACES, SENTENCES, SURNAMES, TITLES, TOPICS};

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct SeedOptions {
    pub articles: usize,
    pub sections: usize,
    pub contributors: usize,
    pub seed: u64,
}

/// Articles written per transaction.
const BATCH: usize = 500;
/// Every n-th generated article is a draft, so visibility filters have work to do.
const DRAFT_EVERY: usize = 97;

/// SplitMix64: tiny, fast, and fixed forever.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.below(list.len())]
    }
}

/// Fills a template's `{p}`, `{c}`, `{i}` and `{n}` slots.
fn fill(rng: &mut Rng, template: &str) -> String {
    let mut out = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let slot = &rest[start..start + 3];
        match slot {
            "{p}" => out.push_str(rng.pick(PLACES)),
            "{c}" => out.push_str(rng.pick(COMPANIES)),
            "{i}" => out.push_str(rng.pick(INDUSTRIES)),
            _ => out.push_str(&(2 + rng.below(98)).to_string()),
        }
        rest = &rest[start + 3..];
    }
    out.push_str(rest);
    out
}

/// Section names: the topics first, then regional channels under them.
fn section_names(n: usize) -> Vec<(String, Option<usize>)> {
    (0..n)
        .map(|i| {
            if i < TOPICS.len() {
                (TOPICS[i].to_string(), None)
            } else {
                let k = i - TOPICS.len();
                let place = PLACES[k % PLACES.len()];
                let name = match k / PLACES.len() {
                    0 => place.to_string(),
                    round => format!("{place}{round}"),
                };
                (name, Some(k % TOPICS.len().min(n)))
            }
        })
        .collect()
}

/// Distinct person names: surname × given name, in a fixed order.
fn contributor_name(k: usize) -> String {
    let surname = SURNAMES[k % SURNAMES.len()];
    let given = GIVEN[(k / SURNAMES.len()) % GIVEN.len()];
    match k / (SURNAMES.len() * GIVEN.len()) {
        0 => format!("{surname}{given}"),
        round => format!("{surname}{given}{round}"),
    }
}

/// One generated article, ready to write.
struct Generated {
    title: String,
    paragraphs: Vec<String>,
    section: usize,
    byline: Vec<usize>,
    published_at: NaiveDateTime,
    draft: bool,
}

fn generate(rng: &mut Rng, index: usize, options: &SeedOptions, start: NaiveDateTime) -> Generated {
    let template = rng.pick(TITLES);
    let title = fill(rng, template);
    // Bodies of 1-3 KB: 330 to 1,000 Han characters in 3-6 paragraphs.
    let target_bytes = 1024 + rng.below(2048);
    let mut paragraphs = Vec::new();
    let mut bytes = 0;
    while bytes < target_bytes {
        let mut paragraph = String::new();
        for _ in 0..(2 + rng.below(3)) {
            let sentence = rng.pick(SENTENCES);
            paragraph.push_str(&fill(rng, sentence));
        }
        bytes += paragraph.len();
        paragraphs.push(paragraph);
    }
    let people = 1 + rng.below(3);
    let mut byline: Vec<usize> = Vec::with_capacity(people);
    while byline.len() < people.min(options.contributors) {
        let k = rng.below(options.contributors);
        if !byline.contains(&k) {
            byline.push(k);
        }
    }
    // Three years of publish times, in no particular order of ids.
    let minutes = rng.below(3 * 365 * 24 * 60) as i64;
    Generated {
        title,
        paragraphs,
        section: rng.below(options.sections),
        byline,
        published_at: start + Duration::minutes(minutes),
        draft: index % DRAFT_EVERY == DRAFT_EVERY - 1,
    }
}

/// What was written.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct SeedReport {
    pub articles: usize,
    pub sections: usize,
    pub contributors: usize,
}

/// Writes the generated newsroom into an empty database, `BATCH` articles
/// per transaction; `progress` is called after each batch with the count done.
pub fn seed(
    conn: &mut AnyConnection,
    options: &SeedOptions,
    mut progress: impl FnMut(usize),
) -> Result<SeedReport, AppError> {
    if options.sections == 0 || options.contributors == 0 {
        return Err(AppError::BadInput(
            "at least one section and one contributor are needed".into(),
        ));
    }
    if articles::count(conn)? > 0 {
        return Err(AppError::Conflict(
            "the database already has articles; seed an empty database".into(),
        ));
    }
    let mut rng = Rng(options.seed);
    let section_ids = conn.transaction::<_, AppError, _>(|conn| {
        let mut ids: Vec<i32> = Vec::new();
        for (position, (name, parent)) in section_names(options.sections).iter().enumerate() {
            let id = sections::create(
                conn,
                &sections::NewSection {
                    name,
                    parent_id: parent.map(|p| ids[p]),
                    kind: if parent.is_some() {
                        SectionKind::Region
                    } else {
                        SectionKind::Topic
                    },
                    position: position as i32,
                    in_navigation: parent.is_none(),
                },
            )?;
            ids.push(id);
        }
        Ok(ids)
    })?;
    let people: Vec<(i32, String)> = conn.transaction::<_, AppError, _>(|conn| {
        (0..options.contributors)
            .map(|k| {
                let name = contributor_name(k);
                contributors::find_or_create(conn, &name).map(|id| (id, name))
            })
            .collect()
    })?;
    crate::search::dictionary::load_site_words(conn)?;
    let start = NaiveDate::from_ymd_opt(2023, 7, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .ok_or_else(|| AppError::Internal("seed start date".into()))?;
    let now = db::now();
    let mut done = 0;
    while done < options.articles {
        let batch = BATCH.min(options.articles - done);
        let generated: Vec<Generated> = (done..done + batch)
            .map(|i| generate(&mut rng, i, options, start))
            .collect();
        conn.transaction::<_, AppError, _>(|conn| {
            for (offset, g) in generated.iter().enumerate() {
                write_article(conn, done + offset, g, &section_ids, &people, now)?;
            }
            Ok(())
        })?;
        done += batch;
        progress(done);
    }
    Ok(SeedReport {
        articles: options.articles,
        sections: section_ids.len(),
        contributors: people.len(),
    })
}

fn write_article(
    conn: &mut AnyConnection,
    index: usize,
    g: &Generated,
    section_ids: &[i32],
    people: &[(i32, String)],
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let base = slugify(&g.title, 50)
        .map(|s| s.to_string())
        .unwrap_or_else(|| "article".into());
    let status = if g.draft {
        ArticleStatus::Draft
    } else {
        ArticleStatus::Published
    };
    let body = crate::body::Body::from_paragraphs(&g.paragraphs).to_stored();
    let summary = crate::text::summarize(&g.paragraphs, 120);
    let new = articles::NewArticle {
        slug: format!("{base}-{index}"),
        title: g.title.clone(),
        original_title: None,
        summary: summary.clone(),
        body: body.clone(),
        body_format: crate::domain::BLOCKS.into(),
        raw_text: None,
        script: "hans".into(),
        section_id: section_ids[g.section],
        source_id: None,
        owner_id: None,
        status: status.as_str().into(),
        published_at: (!g.draft).then_some(g.published_at),
        created_at: now,
        updated_at: now,
        revision: 1,
        import_key: None,
        import_warnings: "[]".into(),
        ruby_stripped_count: 0,
    };
    let id = articles::insert(conn, &new)?;
    let mut names = Vec::with_capacity(g.byline.len());
    for (position, &k) in g.byline.iter().enumerate() {
        let (contributor_id, name) = &people[k];
        diesel::insert_into(article_credits::table)
            .values((
                article_credits::article_id.eq(id),
                article_credits::position.eq(position as i32),
                article_credits::contributor_id.eq(*contributor_id),
                article_credits::role.eq(CreditRole::Reporter.as_str()),
            ))
            .execute(conn)?;
        names.push(name.as_str());
    }
    let kept: Vec<(String, CreditRole)> = names
        .iter()
        .map(|n| (n.to_string(), CreditRole::Reporter))
        .collect();
    crate::db::contributors::keep_with_article(conn, id, &kept)?;
    crate::db::placements::refresh(conn, id)?;
    let snapshot = serde_json::json!({
        "title": new.title, "summary": new.summary, "body": new.body,
        "section_id": new.section_id, "status": new.status, "published_at": new.published_at,
    });
    diesel::insert_into(article_revisions::table)
        .values((
            article_revisions::article_id.eq(id),
            article_revisions::revision.eq(1),
            article_revisions::snapshot.eq(snapshot.to_string()),
            article_revisions::created_at.eq(now),
        ))
        .execute(conn)?;
    if new.status != crate::domain::ArticleStatus::Published.as_str() {
        // Search indexes public articles only (see `search::index_article`).
        return Ok(());
    }
    let rest = crate::search::indexed_text(&summary, &g.paragraphs, &names);
    crate::search::write_terms(
        conn,
        id,
        &crate::search::ArticleTerms::of(&new.title, &rest),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_generates_the_same_articles() {
        let options = SeedOptions {
            articles: 5,
            sections: 40,
            contributors: 500,
            seed: 7,
        };
        let start = NaiveDate::from_ymd_opt(2023, 7, 1)
            .expect("a date")
            .and_hms_opt(0, 0, 0)
            .expect("a time");
        let run = || {
            let mut rng = Rng(options.seed);
            (0..5)
                .map(|i| generate(&mut rng, i, &options, start))
                .map(|g| (g.title, g.paragraphs, g.byline, g.published_at))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
        for (title, paragraphs, byline, _) in run() {
            let bytes: usize = paragraphs.iter().map(String::len).sum();
            assert!((1024..=4096).contains(&bytes), "{title}: {bytes} bytes");
            assert!((1..=3).contains(&byline.len()));
        }
    }

    #[test]
    fn names_are_distinct() {
        let sections = section_names(40);
        let mut seen: Vec<_> = sections.iter().map(|(n, p)| (n.clone(), *p)).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 40);
        let mut people: Vec<String> = (0..500).map(contributor_name).collect();
        people.sort();
        people.dedup();
        assert_eq!(people.len(), 500);
    }
}
