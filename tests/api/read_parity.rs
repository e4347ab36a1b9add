//! One read model: GraphQL, REST, the three feeds and ninjs say the same
//! thing about every article, in every script.

use std::collections::BTreeMap;

use chrono::Duration;
use newsdesk::domain::CreditRole;
use serde_json::{json, Value};

use crate::both_engines;
use crate::fixtures::{section, ArticleBuilder};
use crate::helpers::{Engine, TestApp};

/// What every surface must agree on, per article.
#[derive(Debug, Clone, PartialEq, Default)]
struct Facts {
    title: String,
    url: String,
    published: String,
    section: String,
    source: Option<String>,
    owned: Option<bool>,
    /// (name, ROLE) of the byline; the role where the surface carries it.
    byline: Vec<(String, Option<String>)>,
    editor: Option<String>,
    notice_kind: Option<String>,
}

/// Stored texts mix scripts on purpose: sections, sources, people and
/// headlines typed in simplified on a traditional site, and the reverse.
fn newsroom(app: &TestApp) {
    let database = app.db.database();
    let mut conn = database.get().expect("connection");
    let finance = section(&mut conn, "財經要聞", None);
    let banks = section(&mut conn, "银行业", Some(finance));
    let economy = section(&mut conn, "經濟新聞", None);
    let sections = [finance, banks, economy];
    let sources = [
        ("大眾報業·經濟導報", true),
        ("新华社", false),
        ("經濟參考報", false),
    ];
    let people = [
        ("劉慎平", CreditRole::Reporter),
        ("张伟", CreditRole::Correspondent),
        ("攝影記者王", CreditRole::Photographer),
    ];
    let base = newsdesk::db::now() - Duration::days(2);
    for i in 0..12usize {
        let hans = i % 2 == 0;
        let title = if hans {
            format!("第{i}号发布会：银行业头发般细的变化")
        } else {
            format!("第{i}號發布會：銀行業頭髮般細的變化")
        };
        let (source, owned) = sources[i % 3];
        let mut builder = ArticleBuilder::new(sections[i % 3], &title)
            .slug(&format!("parity-{i}"))
            .script(if hans { "hans" } else { "hant" })
            .published_at(base + Duration::minutes(i as i64 * 7))
            .source(&mut conn, source, owned);
        for (name, role) in people.iter().take(1 + i % 3) {
            builder = builder.credit(name, *role);
        }
        if i % 4 != 3 {
            builder = builder.credit(if hans { "付建" } else { "编辑李" }, CreditRole::Editor);
        }
        builder.insert(&mut conn);
    }
}

async fn get_json(app: &TestApp, path: &str) -> Value {
    let response = app
        .client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.expect("json")
}

async fn get_text(app: &TestApp, path: &str) -> String {
    app.client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body")
}

fn id_of_url(url: &str) -> i32 {
    url.rsplit("/a/")
        .next()
        .and_then(|tail| tail.split('-').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no article id in {url}"))
}

fn string(v: &Value) -> Option<String> {
    v.as_str().map(String::from)
}

async fn from_graphql(app: &TestApp, script: &str) -> BTreeMap<i32, Facts> {
    let answer = app
        .graphql(&format!(
            r#"{{ articles(first: 100, script: {script}) {{ nodes {{ databaseId title url publishedAt script
                 section {{ name }} source {{ name owned }} byline {{ name role }} editor {{ name }}
                 copyrightNotice {{ kind }} }} }} }}"#
        ))
        .await;
    let nodes = answer["data"]["articles"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .clone();
    nodes
        .iter()
        .map(|n| {
            assert_eq!(n["script"], script, "{n}");
            (
                n["databaseId"].as_i64().expect("id") as i32,
                Facts {
                    title: string(&n["title"]).unwrap_or_default(),
                    url: string(&n["url"]).unwrap_or_default(),
                    published: string(&n["publishedAt"]).unwrap_or_default(),
                    section: string(&n["section"]["name"]).unwrap_or_default(),
                    source: string(&n["source"]["name"]),
                    owned: n["source"]["owned"].as_bool(),
                    byline: n["byline"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|c| (string(&c["name"]).unwrap_or_default(), string(&c["role"])))
                        .collect(),
                    editor: string(&n["editor"]["name"]),
                    notice_kind: string(&n["copyrightNotice"]["kind"]),
                },
            )
        })
        .collect()
}

async fn from_rest(app: &TestApp, script: &str) -> BTreeMap<i32, Facts> {
    let page = get_json(app, &format!("/v1/articles?limit=100&script={script}")).await;
    let mut out = BTreeMap::new();
    for item in page["items"].as_array().expect("items") {
        let id = item["id"].as_i64().expect("id") as i32;
        let detail = get_json(app, &format!("/v1/articles/{id}?script={script}")).await;
        assert_eq!(&detail["title"], &item["title"]);
        out.insert(
            id,
            Facts {
                title: string(&item["title"]).unwrap_or_default(),
                url: string(&item["url"]).unwrap_or_default(),
                published: string(&item["publishedAt"]).unwrap_or_default(),
                section: string(&item["sectionName"]).unwrap_or_default(),
                source: string(&item["source"]),
                owned: item["owned"].as_bool(),
                byline: item["byline"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| (string(&c["name"]).unwrap_or_default(), string(&c["role"])))
                    .collect(),
                editor: string(&item["editor"]),
                notice_kind: string(&detail["copyrightNotice"]["kind"]),
            },
        );
    }
    out
}

async fn from_json_feed(app: &TestApp, script: &str) -> BTreeMap<i32, Facts> {
    let feed = get_json(app, &format!("/feeds/all.json?script={script}")).await;
    feed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| {
            let extra = &item["_newsdesk"];
            let url = string(&item["url"]).unwrap_or_default();
            (
                id_of_url(&url),
                Facts {
                    title: string(&item["title"]).unwrap_or_default(),
                    published: string(&item["date_published"]).unwrap_or_default(),
                    section: string(&item["tags"][0]).unwrap_or_default(),
                    source: string(&extra["source"]),
                    owned: extra["owned"].as_bool(),
                    byline: extra["byline"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|c| (string(&c["name"]).unwrap_or_default(), string(&c["role"])))
                        .collect(),
                    editor: string(&extra["editor"]),
                    notice_kind: string(&extra["copyright_notice_kind"]),
                    url,
                },
            )
        })
        .collect()
}

/// RSS and Atom carry names without roles, and no notice kind or `owned`.
async fn from_xml_feed(app: &TestApp, format: &str, script: &str) -> BTreeMap<i32, Facts> {
    let text = get_text(app, &format!("/feeds/all.{format}?script={script}")).await;
    let feed = feed_rs::parser::parse(text.as_bytes()).expect(format);
    feed.entries
        .iter()
        .map(|entry| {
            let url = entry
                .links
                .first()
                .map(|l| l.href.clone())
                .unwrap_or_default();
            let published = entry.published.map(|t| t.timestamp()).expect("published");
            (
                id_of_url(&url),
                Facts {
                    title: entry
                        .title
                        .as_ref()
                        .map(|t| t.content.clone())
                        .unwrap_or_default(),
                    published: published.to_string(),
                    section: entry
                        .categories
                        .first()
                        .map(|c| c.term.clone())
                        .unwrap_or_default(),
                    byline: entry
                        .authors
                        .iter()
                        .map(|a| (a.name.clone().unwrap_or_default(), None))
                        .collect(),
                    url,
                    ..Facts::default()
                },
            )
        })
        .collect()
}

async fn from_ninjs(app: &TestApp, script: &str) -> BTreeMap<i32, Facts> {
    let feed = get_json(app, &format!("/v1/ninjs/feed?script={script}")).await;
    feed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|doc| {
            let url = string(&doc["altids"][0]["value"]).unwrap_or_default();
            let people = doc["people"].as_array().cloned().unwrap_or_default();
            (
                id_of_url(&url),
                Facts {
                    title: string(&doc["headlines"][0]["value"]).unwrap_or_default(),
                    published: string(&doc["firstcreated"]).unwrap_or_default(),
                    section: string(&doc["located"]).unwrap_or_default(),
                    source: string(&doc["infosources"][0]["name"]),
                    byline: people
                        .iter()
                        .filter(|p| p["rel"] != "editor")
                        .map(|p| {
                            (
                                string(&p["name"]).unwrap_or_default(),
                                string(&p["rel"]).map(|r| r.to_ascii_uppercase()),
                            )
                        })
                        .collect(),
                    editor: people
                        .iter()
                        .find(|p| p["rel"] == "editor")
                        .and_then(|p| string(&p["name"])),
                    url,
                    ..Facts::default()
                },
            )
        })
        .collect()
}

/// Compares the fields `other` carries with the GraphQL facts.
fn agree(
    surface: &str,
    script: &str,
    graphql: &BTreeMap<i32, Facts>,
    other: &BTreeMap<i32, Facts>,
) {
    assert_eq!(
        graphql.keys().collect::<Vec<_>>(),
        other.keys().collect::<Vec<_>>(),
        "{surface} ({script}) lists other articles"
    );
    for (id, g) in graphql {
        let o = &other[id];
        let context = format!("{surface} ({script}), article {id}");
        assert_eq!(o.title, g.title, "{context}: title");
        assert_eq!(o.url, g.url, "{context}: url");
        assert_eq!(o.section, g.section, "{context}: section");
        let names = |f: &Facts| f.byline.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(names(o), names(g), "{context}: byline names");
        if o.byline.iter().all(|(_, r)| r.is_some()) {
            assert_eq!(o.byline, g.byline, "{context}: byline roles");
        }
        if surface.ends_with("feed") && !surface.starts_with("JSON") {
            let g_time = chrono::DateTime::parse_from_rfc3339(&g.published)
                .expect("time")
                .timestamp();
            assert_eq!(o.published, g_time.to_string(), "{context}: published");
        } else {
            assert_eq!(o.published, g.published, "{context}: published");
        }
        if o.source.is_some() || surface != "RSS feed" && surface != "Atom feed" {
            assert_eq!(o.source, g.source, "{context}: source");
        }
        if o.owned.is_some() {
            assert_eq!(o.owned, g.owned, "{context}: owned");
        }
        if o.notice_kind.is_some() {
            assert_eq!(o.notice_kind, g.notice_kind, "{context}: notice kind");
        }
        if surface != "RSS feed" && surface != "Atom feed" && surface != "REST" {
            assert_eq!(o.editor, g.editor, "{context}: editor");
        }
    }
}

both_engines!(graphql_rest_feeds_and_ninjs_agree_on_every_article_in_every_script);
async fn graphql_rest_feeds_and_ninjs_agree_on_every_article_in_every_script(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    newsroom(&app);
    for (graphql_script, rest_script) in
        [("ORIGINAL", "original"), ("HANS", "hans"), ("HANT", "hant")]
    {
        let graphql = from_graphql(&app, graphql_script).await;
        assert_eq!(graphql.len(), 12, "{graphql_script}");
        agree(
            "REST",
            rest_script,
            &graphql,
            &from_rest(&app, rest_script).await,
        );
        agree(
            "JSON feed",
            rest_script,
            &graphql,
            &from_json_feed(&app, rest_script).await,
        );
        agree(
            "RSS feed",
            rest_script,
            &graphql,
            &from_xml_feed(&app, "rss", rest_script).await,
        );
        agree(
            "Atom feed",
            rest_script,
            &graphql,
            &from_xml_feed(&app, "atom", rest_script).await,
        );
        agree(
            "ninjs",
            rest_script,
            &graphql,
            &from_ninjs(&app, rest_script).await,
        );
    }
}

both_engines!(every_human_readable_string_follows_the_requested_script_and_identifiers_do_not);
async fn every_human_readable_string_follows_the_requested_script_and_identifiers_do_not(
    engine: Engine,
) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    app.import_seed();
    newsroom(&app);

    let hant = app
        .graphql(
            r#"{ sections(script: HANT) { name } site(script: HANT) { icpFiling newsServiceFiling script }
                 articles(first: 100, script: HANT) { nodes { title section { name script } source { name } byline { name } } } }"#,
        )
        .await;
    let hans = app
        .graphql(r#"{ site(script: HANS) { name icpFiling } recommendations(script: HANS) { headline script } }"#)
        .await;
    let hans_rss = get_text(&app, "/feeds/all.rss?script=hans").await;
    let hant_rss = get_text(&app, "/feeds/all.rss?script=hant").await;

    let text = hant.to_string();
    for simplified in ["银行业", "新华社", "张伟", "号发布会", "头发"] {
        assert!(
            !text.contains(simplified),
            "{simplified} stayed simplified in HANT: {text}"
        );
    }
    assert!(text.contains("銀行業") && text.contains("新華社") && text.contains("張偉"));
    // One variant throughout: every headline of the same words reads the same.
    let titles: Vec<String> = hant["data"]["articles"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["title"].as_str())
        .filter(|t| t.contains("會：銀行業"))
        .map(|t| {
            t.split_once('：')
                .map(|(_, rest)| rest.to_string())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(titles.len(), 12, "{titles:?}");
    assert!(titles.windows(2).all(|w| w[0] == w[1]), "{titles:?}");
    assert_eq!(hant["data"]["site"]["icpFiling"], "魯ICP備09023866-44號");
    assert_eq!(hans["data"]["site"]["icpFiling"], "魯ICP備09023866-44號");
    assert_eq!(hans["data"]["site"]["name"], "山东财经网");
    assert_eq!(hans["data"]["recommendations"][0]["script"], "HANS");
    assert!(!hans["data"]["recommendations"].to_string().contains("這些"));
    assert!(hans_rss.contains("来源/Source") && hans_rss.contains("编辑/Editor"));
    assert!(!hans_rss.contains("來源/Source") && !hans_rss.contains("編輯/Editor"));
    assert!(hant_rss.contains("來源/Source"));
    let _ = json!(null);
}

both_engines!(rest_speaks_the_accepted_language_and_an_unknown_section_is_not_found_everywhere);
async fn rest_speaks_the_accepted_language_and_an_unknown_section_is_not_found_everywhere(
    engine: Engine,
) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    app.import_seed();
    let response = app
        .client
        .get(format!("{}/v1/articles", app.address))
        .header("accept-language", "zh-CN,zh;q=0.9")
        .send()
        .await
        .expect("get");
    let language = response.headers()["content-language"]
        .to_str()
        .expect("language")
        .to_string();
    let page: Value = response.json().await.expect("json");
    let feed = app
        .client
        .get(format!("{}/feeds/all.atom", app.address))
        .header("accept-language", "zh-TW")
        .send()
        .await
        .expect("get");
    let feed_language = feed.headers()["content-language"]
        .to_str()
        .expect("language")
        .to_string();
    let statuses = [
        app.client
            .get(format!("{}/v1/articles?section=nowhere", app.address))
            .send()
            .await
            .expect("get")
            .status()
            .as_u16(),
        app.client
            .get(format!("{}/feeds/nowhere.rss", app.address))
            .send()
            .await
            .expect("get")
            .status()
            .as_u16(),
    ];
    let graphql = app
        .graphql(r#"{ articles(filter: {section: "nowhere"}) { totalCount } }"#)
        .await;
    let id = page["items"][0]["id"].as_i64().expect("id");
    let detail = get_json(&app, &format!("/v1/articles/{id}")).await;

    assert_eq!(language, "zh-Hans");
    assert_eq!(
        page["items"][0]["title"],
        "临沂山青社会工作服务中心累计服务群众20余万人次"
    );
    assert_eq!(feed_language, "zh-Hant");
    assert_eq!(statuses, [404, 404]);
    assert_eq!(
        graphql["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{graphql}"
    );
    assert_eq!(detail["sectionName"], "臨沂");
    assert_eq!(
        detail["byline"],
        json!([{ "name": "劉慎平", "role": "REPORTER" }, { "name": "劉玉", "role": "REPORTER" }])
    );
    assert_eq!(detail["copyrightNotice"]["kind"], "ORIGINAL");
    assert!(
        detail["copyrightNotice"]["removalWindowDays"].is_number(),
        "{detail}"
    );
    assert!(detail["related"].is_array());
}
