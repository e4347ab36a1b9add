use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{Double, Integer, Text};

use super::index::{bigrams, normalise};
use super::scope::Scope;
use crate::db::articles::PublicFacts;
use crate::db::schema::article_search;
use crate::db::search_log;
use crate::db::AnyConnection;
use crate::error::AppError;

/// Candidates read from the engine before ranking.
const MAX_CANDIDATES: i64 = 1000;

/// A parsed query: phrases that must match and phrases that must not. A
/// phrase is a sequence of index tokens that must appear in order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Query {
    pub must: Vec<Vec<String>>,
    pub must_not: Vec<Vec<String>>,
}

/// Index tokens of one query word or phrase: Han text as its bigrams (a
/// single character alone), other words as themselves.
fn phrase(text: &str) -> Vec<String> {
    let normal = normalise(text);
    let mut out = Vec::new();
    for word in normal.split_whitespace() {
        if word.chars().any(|c| c.is_alphabetic() && !c.is_ascii()) {
            out.extend(bigrams(word));
            // Latin letters or digits mixed into a Han word keep their own token.
            out.extend(
                word.split(|c: char| !c.is_ascii_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .map(String::from),
            );
        } else {
            out.push(word.to_string());
        }
    }
    out
}

/// The longest beginning of a title that suggestions read, in characters.
pub const MAX_PREFIX_CHARS: usize = 50;

/// The index tokens of what a reader has typed so far, in order; the last
/// may be the beginning of a word (a lone Chinese character, Latin letters).
/// Longer than [`MAX_PREFIX_CHARS`] is `BAD_USER_INPUT`; nothing typed is
/// no tokens.
pub fn prefix_tokens(typed: &str) -> Result<Vec<String>, AppError> {
    let chars = typed.chars().count();
    if chars > MAX_PREFIX_CHARS {
        return Err(AppError::BadInput(format!(
            "prefix: at most {MAX_PREFIX_CHARS} characters (this one has {chars})"
        )));
    }
    Ok(phrase(typed))
}

/// The longest query read, in characters: a headline and then some.
pub const MAX_QUERY_CHARS: usize = 200;

/// The most words and phrases a query may hold.
pub const MAX_QUERY_TERMS: usize = 32;

/// Reads a query: words are ANDed, `"quoted phrases"` match in order, `-word`
/// excludes; any other character is plain text. An empty query (nothing to
/// look for), one longer than [`MAX_QUERY_CHARS`] characters and one of
/// more than [`MAX_QUERY_TERMS`] words are errors (`BAD_USER_INPUT`, with
/// the limit in the message), found before any of it is tokenised.
pub fn parse(input: &str) -> Result<Query, AppError> {
    let chars = input.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(AppError::BadInput(format!(
            "query: at most {MAX_QUERY_CHARS} characters (this one has {chars})"
        )));
    }
    let mut q = Query::default();
    let mut rest = input;
    while !rest.is_empty() {
        let trimmed = rest.trim_start();
        if trimmed.is_empty() {
            break;
        }
        let negative = trimmed.starts_with('-') && trimmed.len() > 1;
        let body = if negative { &trimmed[1..] } else { trimmed };
        let (text, after) = if let Some(inner) = body.strip_prefix('"') {
            match inner.find('"') {
                Some(end) => (&inner[..end], &inner[end + 1..]),
                None => (inner, ""),
            }
        } else {
            let end = body.find(char::is_whitespace).unwrap_or(body.len());
            (&body[..end], &body[end..])
        };
        let tokens = phrase(text);
        if !tokens.is_empty() {
            if negative {
                q.must_not.push(tokens);
            } else {
                q.must.push(tokens);
            }
        }
        rest = after;
    }
    if q.must.is_empty() {
        return Err(AppError::BadInput("query: nothing to search for".into()));
    }
    let terms = q.must.len() + q.must_not.len();
    if terms > MAX_QUERY_TERMS {
        return Err(AppError::BadInput(format!(
            "query: at most {MAX_QUERY_TERMS} words and phrases (this one has {terms})"
        )));
    }
    Ok(q)
}

#[derive(QueryableByName)]
struct Hit {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Double)]
    score: f64,
}

fn fts5_match(q: &Query) -> String {
    // Tokens hold only letters and digits, so quoting cannot be broken out of.
    let phrase = |p: &Vec<String>| format!("\"{}\"", p.join(" "));
    let mut out = q.must.iter().map(phrase).collect::<Vec<_>>().join(" AND ");
    for p in &q.must_not {
        out.push_str(" NOT ");
        out.push_str(&phrase(p));
    }
    out
}

fn tsquery(q: &Query) -> String {
    let phrase = |p: &Vec<String>| {
        format!(
            "({})",
            p.iter()
                .map(|t| format!("'{t}'"))
                .collect::<Vec<_>>()
                .join(" <-> ")
        )
    };
    let mut parts: Vec<String> = q.must.iter().map(phrase).collect();
    parts.extend(q.must_not.iter().map(|p| format!("!{}", phrase(p))));
    parts.join(" & ")
}

/// How one search is written for each engine. `pg_loose` is what a GIN
/// index answers exactly (single tokens with `&` or `|`); `pg_exact` adds the
/// phrase order and exclusions, which PostgreSQL can only check by reading
/// each row's `tsvector`.
struct Matcher {
    fts5: String,
    pg_loose: String,
    pg_exact: String,
}

/// The newest `MAX_CANDIDATES` matching article ids (by id, which follows
/// creation) with the engine's relevance: FTS5's BM25 with the title weighing
/// three times the rest on SQLite, `ts_rank` with the title in weight A on
/// PostgreSQL. Bounding the candidates keeps a query for a word in every
/// other article as fast as a rare one; both engines take the same set.
fn candidates(conn: &mut AnyConnection, m: &Matcher) -> Result<Vec<(i32, f64)>, AppError> {
    match conn {
        AnyConnection::Sqlite(_) => Ok(diesel::sql_query(
            "SELECT rowid AS id, -bm25(article_fts, 3.0, 1.0) AS score FROM article_fts \
             WHERE article_fts MATCH $1 ORDER BY rowid DESC LIMIT $2",
        )
        .bind::<Text, _>(&m.fts5)
        .bind::<Integer, _>(MAX_CANDIDATES as i32)
        .load::<Hit>(conn)?
        .into_iter()
        .map(|h| (h.id, h.score))
        .collect()),
        AnyConnection::Postgresql(pg) => pg_candidates(pg, m),
    }
}

/// Checking a phrase against a row's large `tsvector` costs PostgreSQL
/// about 15 µs, so a phrase of two common bigrams over 100,000 articles took
/// 570 ms. The GIN index answers the phrase's tokens ANDed without reading
/// rows; only the newest of those are checked for order and exclusions and
/// ranked, batch by batch until enough pass.
fn pg_candidates(pg: &mut diesel::PgConnection, m: &Matcher) -> Result<Vec<(i32, f64)>, AppError> {
    let mut below = i32::MAX;
    let mut found: Vec<(i32, f64)> = Vec::new();
    loop {
        let ids: Vec<i32> = diesel::sql_query(
            "SELECT article_id AS id FROM article_search \
             WHERE article_id < $1 AND tsv @@ to_tsquery('simple', $2) \
             ORDER BY article_id DESC LIMIT $3",
        )
        .bind::<Integer, _>(below)
        .bind::<Text, _>(&m.pg_loose)
        .bind::<Integer, _>(MAX_CANDIDATES as i32)
        .load::<IdRow>(pg)?
        .into_iter()
        .map(|r| r.id)
        .collect();
        let Some(&oldest) = ids.last() else { break };
        let exhausted = (ids.len() as i64) < MAX_CANDIDATES;
        found.extend(
            diesel::sql_query(
                "SELECT article_id AS id, ts_rank(tsv, q)::float8 AS score \
                 FROM article_search, to_tsquery('simple', $1) AS q \
                 WHERE article_id = ANY($2) AND tsv @@ q",
            )
            .bind::<Text, _>(&m.pg_exact)
            .bind::<diesel::sql_types::Array<Integer>, _>(ids)
            .load::<Hit>(pg)?
            .into_iter()
            .map(|h| (h.id, h.score)),
        );
        if exhausted || found.len() as i64 >= MAX_CANDIDATES {
            break;
        }
        below = oldest;
    }
    found.sort_by_key(|(id, _)| std::cmp::Reverse(*id));
    found.truncate(MAX_CANDIDATES as usize);
    Ok(found)
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = Integer)]
    id: i32,
}

/// Best first; equal scores go to the newer id.
fn rank(mut scored: Vec<(i32, f64)>) -> Vec<(i32, f64)> {
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
    scored
}

/// Article ids matching `q`, best first. Visibility is the caller's to apply.
pub fn search(conn: &mut AnyConnection, q: &Query) -> Result<Vec<(i32, f64)>, AppError> {
    let matcher = Matcher {
        fts5: fts5_match(q),
        // Every other bigram of a phrase (and its last) still covers each of
        // its characters; fewer posting lists make the GIN step cheaper.
        pg_loose: q
            .must
            .iter()
            .flat_map(|p| {
                p.iter()
                    .enumerate()
                    .filter(|(i, _)| i % 2 == 0 || *i == p.len() - 1)
                    .map(|(_, t)| t)
            })
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(" & "),
        pg_exact: tsquery(q),
    };
    Ok(rank(candidates(conn, &matcher)?))
}

/// Public articles matching `q` within `scope` (ids, scores and what
/// their rows say), best first; callers load the rows of the page they
/// show.
pub fn public_hits(
    conn: &mut AnyConnection,
    q: &Query,
    scope: &Scope,
    now: chrono::NaiveDateTime,
) -> Result<Vec<(i32, f64, PublicFacts)>, AppError> {
    let ranked = search(conn, q)?;
    let mut ids: Vec<i32> = ranked.iter().map(|(id, _)| *id).collect();
    if let Some(people) = &scope.contributors {
        ids = search_log::crediting(conn, &ids, people)?;
    }
    if let Some(tags) = &scope.tags {
        ids = search_log::tagged(conn, &ids, tags)?;
    }
    let public = crate::db::articles::public_facts(conn, &ids, now)?;
    Ok(ranked
        .into_iter()
        .filter_map(|(id, score)| {
            let facts = *public.get(&id)?;
            scope
                .admits(facts.section_id, facts.source_id, facts.published_at)
                .then_some((id, score, facts))
        })
        .collect())
}

/// Articles sharing the most distinctive terms with `article_id` (its title
/// words and its most frequent longer body words), best first, without itself.
pub fn related(conn: &mut AnyConnection, article_id: i32) -> Result<Vec<(i32, f64)>, AppError> {
    let Some((title, body)) = article_search::table
        .find(article_id)
        .select((article_search::title_terms, article_search::body_terms))
        .first::<(String, String)>(conn)
        .optional()?
    else {
        return Ok(vec![]);
    };
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for w in body.split(' ').filter(|w| w.chars().count() >= 2) {
        *counts.entry(w).or_default() += 1;
    }
    let mut frequent: Vec<(&str, usize)> = counts.into_iter().collect();
    frequent.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut terms: Vec<String> = title
        .split(' ')
        .filter(|w| w.chars().count() >= 2)
        .map(String::from)
        .collect();
    terms.extend(frequent.into_iter().take(8).map(|(w, _)| w.to_string()));
    terms.sort();
    terms.dedup();
    if terms.is_empty() {
        return Ok(vec![]);
    }
    let fts5 = terms
        .iter()
        .map(|t| format!("\"{t}\""))
        .collect::<Vec<_>>()
        .join(" OR ");
    let any = terms
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(" | ");
    let matcher = Matcher {
        fts5,
        pg_loose: any.clone(),
        pg_exact: any,
    };
    let scored = candidates(conn, &matcher)?
        .into_iter()
        .filter(|(id, _)| *id != article_id)
        .collect();
    Ok(rank(scored))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_become_phrases_of_index_tokens() {
        let q = parse("扶貧 IPO \"社會工作\" -禁毒").expect("query");
        assert_eq!(q.must[0], ["扶贫"]);
        assert_eq!(q.must[1], ["ipo"]);
        assert_eq!(q.must[2], ["社会", "会工", "工作"]);
        assert_eq!(q.must_not[0], ["禁毒"]);
    }

    #[test]
    fn hostile_input_is_just_text() {
        for input in ["*", "(", ":", "\"", "' OR 1=1--", "a AND -", "NEAR(x y)"] {
            if let Ok(q) = parse(input) {
                assert!(!fts5_match(&q).contains('('), "{input}");
            }
        }
        assert!(parse("   ").is_err());
        assert!(parse("-only").is_err());
    }

    #[test]
    fn long_queries_are_refused_with_their_limit() {
        let long = "港".repeat(MAX_QUERY_CHARS + 1);
        let refused = parse(&long).expect_err("too long");
        assert_eq!(refused.code(), "BAD_USER_INPUT");
        assert!(
            refused.to_string().contains("at most 200 characters"),
            "{refused}"
        );
        assert!(parse(&"港".repeat(MAX_QUERY_CHARS)).is_ok());

        let many = vec!["港口"; MAX_QUERY_TERMS + 1].join(" ");
        let refused = parse(&many).expect_err("too many words");
        assert!(
            refused.to_string().contains("at most 32 words"),
            "{refused}"
        );
        assert!(parse(&vec!["港口"; MAX_QUERY_TERMS].join(" ")).is_ok());
        // 10,000 characters, or 1,000 words, never reach the tokeniser.
        assert!(parse(&"港口 ".repeat(1_000)).is_err());
        assert!(parse(&"a".repeat(10_000)).is_err());
    }

    proptest::proptest! {
        // Any text a reader types is a query or a BAD_USER_INPUT, and what
        // reaches FTS5 never carries its operators.
        #[test]
        fn any_text_is_a_query_or_bad_input(input in "(?s).{0,300}") {
            match parse(&input) {
                Ok(q) => {
                    let expression = fts5_match(&q);
                    proptest::prop_assert!(!expression.contains('('), "{}", expression);
                }
                Err(e) => proptest::prop_assert_eq!(e.code(), "BAD_USER_INPUT"),
            }
        }
    }
}
