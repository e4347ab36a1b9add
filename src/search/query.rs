use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};

use super::index::{bigrams, normalise};
use crate::db::schema::article_search;
use crate::db::AnyConnection;
use crate::error::AppError;

/// Candidates read from the engine before ranking.
const MAX_CANDIDATES: i64 = 2000;

/// A parsed query: phrases that must match and phrases that must not. A
/// phrase is a sequence of index tokens that must appear in order.
#[derive(Debug, Clone, PartialEq, Default)]
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

/// Reads a query: words are ANDed, `"quoted phrases"` match in order, `-word`
/// excludes; any other character is plain text. Only an empty query (nothing
/// to look for) is an error.
pub fn parse(input: &str) -> Result<Query, AppError> {
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
    Ok(q)
}

#[derive(QueryableByName)]
struct Hit {
    #[diesel(sql_type = Integer)]
    id: i32,
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

/// Article ids whose terms match: `fts5` on SQLite, `tsquery` on PostgreSQL.
fn candidates(
    conn: &mut AnyConnection,
    fts5: String,
    tsquery: String,
) -> Result<Vec<i32>, AppError> {
    let hits = match conn {
        AnyConnection::Sqlite(_) => diesel::sql_query(
            "SELECT rowid AS id FROM article_fts WHERE article_fts MATCH $1 LIMIT $2",
        )
        .bind::<Text, _>(fts5)
        .bind::<Integer, _>(MAX_CANDIDATES as i32)
        .load::<Hit>(conn)?,
        AnyConnection::Postgresql(_) => diesel::sql_query(
            "SELECT article_id AS id FROM article_search WHERE tsv @@ to_tsquery('simple', $1) LIMIT $2",
        )
        .bind::<Text, _>(tsquery)
        .bind::<Integer, _>(MAX_CANDIDATES as i32)
        .load::<Hit>(conn)?,
    };
    Ok(hits.into_iter().map(|h| h.id).collect())
}

/// The stored (title, body) terms of these articles.
fn stored_terms(
    conn: &mut AnyConnection,
    ids: &[i32],
) -> Result<HashMap<i32, (String, String)>, AppError> {
    Ok(article_search::table
        .filter(article_search::article_id.eq_any(ids))
        .select((
            article_search::article_id,
            article_search::title_terms,
            article_search::body_terms,
        ))
        .load::<(i32, String, String)>(conn)?
        .into_iter()
        .map(|(id, t, b)| (id, (t, b)))
        .collect())
}

/// Article ids matching `q`, best first: title matches weigh three times body
/// matches; ties go to the newer id. Visibility is the caller's to apply.
pub fn search(conn: &mut AnyConnection, q: &Query) -> Result<Vec<(i32, f64)>, AppError> {
    let ids = candidates(conn, fts5_match(q), tsquery(q))?;
    let texts = stored_terms(conn, &ids)?;
    let mut scored: Vec<(i32, f64)> = ids
        .into_iter()
        .map(|id| {
            let (title, body) = texts.get(&id).cloned().unwrap_or_default();
            let score: f64 = q
                .must
                .iter()
                .map(|p| {
                    let needle = p.join(" ");
                    3.0 * title.matches(&needle).count() as f64
                        + body.matches(&needle).count() as f64
                })
                .sum();
            (id, score)
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
    Ok(scored)
}

/// Public articles matching `q`, best first, optionally within `sections`.
pub fn public_hits(
    conn: &mut AnyConnection,
    q: &Query,
    sections: Option<&[i32]>,
    now: chrono::NaiveDateTime,
) -> Result<Vec<(crate::db::articles::ArticleRow, f64)>, AppError> {
    let ranked = search(conn, q)?;
    let ids: Vec<i32> = ranked.iter().map(|(id, _)| *id).collect();
    let rows: HashMap<i32, crate::db::articles::ArticleRow> =
        crate::db::articles::by_ids(conn, &ids)?
            .into_iter()
            .filter(|r| r.is_public_at(now))
            .filter(|r| sections.is_none_or(|s| s.contains(&r.section_id)))
            .map(|r| (r.id, r))
            .collect();
    Ok(ranked
        .into_iter()
        .filter_map(|(id, score)| rows.get(&id).cloned().map(|r| (r, score)))
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
    let ids: Vec<i32> = candidates(conn, fts5, any)?
        .into_iter()
        .filter(|id| *id != article_id)
        .collect();
    let texts = stored_terms(conn, &ids)?;
    let mut scored: Vec<(i32, f64)> = ids
        .into_iter()
        .map(|id| {
            let (t, b) = texts.get(&id).cloned().unwrap_or_default();
            let tw: Vec<&str> = t.split(' ').collect();
            let bw: Vec<&str> = b.split(' ').collect();
            let score = terms
                .iter()
                .map(|term| {
                    3.0 * tw.iter().filter(|w| *w == term).count() as f64
                        + (bw.iter().filter(|w| *w == term).count() as f64).min(5.0)
                })
                .sum();
            (id, score)
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
    Ok(scored)
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
}
