//! Search over a generated corpus (`newsdesk dev seed`, 1,200 articles) plus
//! the sample page, on both engines: every query's results are exactly the
//! public articles whose text contains the words, and the same set on SQLite
//! and PostgreSQL.

use std::collections::{BTreeSet, HashMap};

use serde_json::json;

use crate::helpers::{import_file, newsdesk, Engine, TestApp, TestDb, SEED};
use newsdesk::db::articles::ArticleRow;
use newsdesk::text::script::ScriptConverter;

const ARTICLES: &str = "1200";

/// What a query means here: simplified words every hit contains, and words
/// no hit contains.
struct Case {
    query: &'static str,
    all_of: &'static [&'static str],
    none_of: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        query: "扶贫",
        all_of: &["扶贫"],
        none_of: &[],
    },
    Case {
        query: "扶貧",
        all_of: &["扶贫"],
        none_of: &[],
    },
    Case {
        query: "社工",
        all_of: &["社工"],
        none_of: &[],
    },
    Case {
        query: "臨沂",
        all_of: &["临沂"],
        none_of: &[],
    },
    Case {
        query: "临沂",
        all_of: &["临沂"],
        none_of: &[],
    },
    Case {
        query: "劉慎平",
        all_of: &["刘慎平"],
        none_of: &[],
    },
    Case {
        query: "IPO",
        all_of: &["ipo"],
        none_of: &[],
    },
    // Two-character pieces of the sample's title and of generated titles.
    Case {
        query: "山青",
        all_of: &["山青"],
        none_of: &[],
    },
    Case {
        query: "萬人",
        all_of: &["万人"],
        none_of: &[],
    },
    Case {
        query: "募资",
        all_of: &["募资"],
        none_of: &[],
    },
    Case {
        query: "沂水县",
        all_of: &["沂水县"],
        none_of: &[],
    },
    Case {
        query: "数字经济 临沂",
        all_of: &["数字经济", "临沂"],
        none_of: &[],
    },
    Case {
        query: "\"社会工作服务中心\"",
        all_of: &["社会工作服务中心"],
        none_of: &[],
    },
    Case {
        query: "临沂 -物流",
        all_of: &["临沂"],
        none_of: &["物流"],
    },
    Case {
        query: "扶贫 -临沂 -IPO",
        all_of: &["扶贫"],
        none_of: &["临沂", "ipo"],
    },
];

struct Corpus {
    app: TestApp,
    withdrawn: i64,
    sample: i64,
    /// Every article's searchable text, simplified and lowercased, if public.
    public_text: HashMap<i64, String>,
}

async fn corpus(engine: Engine) -> Option<Corpus> {
    let db = TestDb::new(engine)?;
    let seeded = newsdesk(&db.url, &["dev", "seed", "--articles", ARTICLES]);
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let sample = import_file(&db, std::path::Path::new(SEED))
        .article_id
        .expect("sample imported") as i64;
    let converter = ScriptConverter::new().expect("converter");
    let database = db.database();
    let mut conn = database.get().expect("connection");
    let rows: Vec<ArticleRow> = {
        use diesel::prelude::*;
        use newsdesk::db::schema::articles;
        articles::table
            .select(ArticleRow::as_select())
            .load(&mut *conn)
            .expect("articles")
    };
    // Withdraw the newest generated article about 临沂: it must vanish.
    let withdrawn = rows
        .iter()
        .filter(|r| r.title.contains("临沂") && r.status == "published")
        .map(|r| r.id)
        .max()
        .expect("a generated 临沂 article");
    crate::fixtures::withdraw(&database, &mut conn, withdrawn);
    let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
    let credits = newsdesk::db::contributors::credits_of(&mut conn, &ids).expect("credits");
    let now = newsdesk::db::now();
    let public_text = rows
        .iter()
        .filter(|r| r.id != withdrawn && r.is_public_at(now))
        .map(|r| {
            let names: Vec<&str> = credits
                .iter()
                .filter(|c| c.article_id == r.id)
                .map(|c| c.name.as_str())
                .collect();
            let text = format!(
                "{}\n{}\n{}\n{}",
                r.title,
                r.summary,
                r.paragraphs().join("\n"),
                names.join(" ")
            );
            (r.id as i64, converter.to_simplified(&text).to_lowercase())
        })
        .collect();
    drop(conn);
    let address = TestApp::start(&db.url, &[]).await;
    Some(Corpus {
        app: TestApp {
            address,
            db,
            client: reqwest::Client::new(),
        },
        withdrawn: withdrawn as i64,
        sample,
        public_text,
    })
}

/// Every hit of a query, following the cursors.
async fn all_hits(app: &TestApp, query: &str) -> BTreeSet<i64> {
    let mut hits = BTreeSet::new();
    let mut after: Option<String> = None;
    loop {
        let body = app
            .graphql_with(
                "query($q: String!, $after: String) { search(query: $q, first: 100, after: $after) { totalCount edges { cursor node { article { databaseId } } } pageInfo { hasNextPage } } }",
                json!({ "q": query, "after": after }),
                &[],
            )
            .await
            .1;
        assert!(body.get("errors").is_none(), "{query}: {body}");
        let search = &body["data"]["search"];
        let edges = search["edges"].as_array().expect("edges");
        for e in edges {
            hits.insert(e["node"]["article"]["databaseId"].as_i64().expect("id"));
        }
        if !search["pageInfo"]["hasNextPage"].as_bool().unwrap_or(false) {
            assert_eq!(
                search["totalCount"].as_u64(),
                Some(hits.len() as u64),
                "{query}"
            );
            return hits;
        }
        after = edges
            .last()
            .and_then(|e| e["cursor"].as_str())
            .map(String::from);
    }
}

async fn results(corpus: &Corpus) -> Vec<BTreeSet<i64>> {
    let mut out = Vec::new();
    for case in CASES {
        let hits = all_hits(&corpus.app, case.query).await;
        let expected: BTreeSet<i64> = corpus
            .public_text
            .iter()
            .filter(|(_, text)| {
                case.all_of.iter().all(|w| text.contains(w))
                    && !case.none_of.iter().any(|w| text.contains(w))
            })
            .map(|(id, _)| *id)
            .collect();
        assert!(
            !expected.is_empty(),
            "{}: the corpus has no match",
            case.query
        );
        assert!(
            !hits.contains(&corpus.withdrawn),
            "{}: a withdrawn article was found",
            case.query
        );
        assert_eq!(hits, expected, "{}: found != containing", case.query);
        out.push(hits);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_corpus_gives_the_containing_articles_and_the_same_sets_on_both_engines() {
    let sqlite = corpus(Engine::Sqlite).await.expect("sqlite");
    let on_sqlite = results(&sqlite).await;
    for q in ["扶贫", "扶貧", "劉慎平", "山青"] {
        assert!(
            all_hits(&sqlite.app, q).await.contains(&sqlite.sample),
            "{q}"
        );
    }
    for hostile in [
        "' OR 1=1--",
        "*",
        "(",
        "NEAR(临沂",
        "\"; DROP TABLE articles;--",
        "临沂 AND -",
    ] {
        let body = sqlite
            .app
            .graphql_with(
                "query($q: String!) { search(query: $q) { totalCount } }",
                json!({ "q": hostile }),
                &[],
            )
            .await
            .1;
        let code = body["errors"][0]["extensions"]["code"].as_str();
        // Punctuation alone leaves nothing to search for: the one error allowed.
        assert!(
            code.is_none() || code == Some("BAD_USER_INPUT"),
            "{hostile}: {body}"
        );
    }
    if let Some(postgres) = corpus(Engine::Postgres).await {
        assert_eq!(
            postgres.withdrawn, sqlite.withdrawn,
            "the seed differs between engines"
        );
        let on_postgres = results(&postgres).await;
        for ((case, a), b) in CASES.iter().zip(&on_sqlite).zip(&on_postgres) {
            assert_eq!(a, b, "{}: SQLite and PostgreSQL differ", case.query);
        }
    }
}
