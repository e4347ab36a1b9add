//! RSS, Atom and JSON Feed, read back with a real feed parser; partner keys;
//! conditional GET and compression.

use chrono::Duration;
use newsdesk::domain::CreditRole;

use crate::both_engines;
use crate::fixtures::{section, ArticleBuilder};
use crate::helpers::{newsdesk, Engine, TestApp};

const HOSTILE: &str = "危險]]><script>alert(1)</script> & \u{1}標題";

/// The sample page plus an owned article and a hostile-titled reprint.
async fn syndicated(engine: Engine) -> Option<(TestApp, i32, i32)> {
    syndicated_with(engine, &[]).await
}

async fn syndicated_with(engine: Engine, vars: &[(&str, &str)]) -> Option<(TestApp, i32, i32)> {
    let app = TestApp::spawn_with(engine, vars).await?;
    app.import_seed();
    let database = app.db.database();
    let mut conn = database.get().expect("connection");
    let lin_yi = newsdesk::db::sections::by_slug(&mut conn, "lin-yi")
        .expect("q")
        .expect("section")
        .id;
    let own = ArticleBuilder::new(lin_yi, "本網原創稿件")
        .source(&mut conn, "經濟導報", true)
        .credit("劉玉", CreditRole::Reporter)
        .credit("付建", CreditRole::Editor)
        .published_at(newsdesk::db::now() - Duration::minutes(5))
        .insert(&mut conn);
    let reprint = ArticleBuilder::new(section(&mut conn, "國際", None), HOSTILE)
        .source(&mut conn, "新華社", false)
        .credit("外電記者", CreditRole::Reporter)
        .published_at(newsdesk::db::now() - Duration::minutes(1))
        .insert(&mut conn);
    Some((app, own, reprint))
}

async fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app.client.get(format!("{}{path}", app.address));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    request.send().await.expect("get")
}

both_engines!(every_feed_format_parses_with_attribution);
async fn every_feed_format_parses_with_attribution(engine: Engine) {
    let Some((app, own, reprint)) = syndicated(engine).await else {
        return;
    };

    for format in ["rss", "atom", "json"] {
        let response = get(&app, &format!("/feeds/all.{format}"), &[]).await;
        assert_eq!(response.status(), 200, "{format}");
        assert!(response.headers()["surrogate-key"]
            .to_str()
            .unwrap_or("")
            .contains(&format!("article-{own}")));
        let bytes = response.bytes().await.expect("body");
        let feed = feed_rs::parser::parse(&bytes[..])
            .unwrap_or_else(|e| panic!("{format} does not parse: {e}"));

        assert_eq!(feed.entries.len(), 3, "{format}");
        let newest = &feed.entries[0];
        // XML cannot carry U+0001 at all; JSON escapes it. The rest survives intact.
        assert_eq!(
            newest
                .title
                .as_ref()
                .map(|t| t.content.replace('\u{1}', "")),
            Some(HOSTILE.replace('\u{1}', "")),
            "{format}"
        );
        assert!(
            newest.id.ends_with(&format!("article:{reprint}")),
            "{format}: {}",
            newest.id
        );
        let own_entry = &feed.entries[1];
        assert_eq!(
            own_entry.title.as_ref().map(|t| t.content.as_str()),
            Some("本網原創稿件")
        );
        assert_eq!(
            own_entry.links[0].href,
            format!(
                "https://news.example.test/a/{own}-a-{}",
                &own_entry.links[0].href.rsplit("-a-").next().unwrap_or("")
            )
        );
        assert!(
            own_entry.published.is_some() && own_entry.updated.is_some(),
            "{format}"
        );
        let authors: Vec<&str> = own_entry
            .authors
            .iter()
            .filter_map(|a| a.name.as_deref())
            .collect();
        assert_eq!(authors, ["劉玉"], "{format}");
        let sample = &feed.entries[2];
        assert_eq!(
            sample.title.as_ref().map(|t| t.content.as_str()),
            Some("臨沂山青社會工作服務中心累計服務群眾20余萬人次")
        );
        assert_eq!(
            sample.published.map(|p| p.to_rfc3339()),
            Some("2023-03-21T09:13:59+00:00".into()),
            "{format}"
        );
        // Without a partner key nothing is syndicated in full.
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("取得良好社會效果"),
            "{format} carries full text without a key"
        );
    }
    let rss = get(&app, "/feeds/all.rss", &[])
        .await
        .text()
        .await
        .expect("rss");
    for attribution in [
        "<dc:creator>劉慎平</dc:creator>",
        "大眾報業·經濟導報</source>",
        "編輯/Editor: 付建",
        "版權均屬于",
    ] {
        assert!(rss.contains(attribution), "RSS lacks {attribution}");
    }
    let section = feed_rs::parser::parse(
        &get(&app, "/feeds/lin-yi.atom", &[])
            .await
            .bytes()
            .await
            .expect("atom")[..],
    )
    .expect("atom");
    assert_eq!(section.entries.len(), 2);
    assert_eq!(
        get(&app, "/feeds/no-such-section.rss", &[]).await.status(),
        404
    );
    assert_eq!(
        get(&app, "/feeds/all.rss?script=klingon", &[])
            .await
            .status(),
        400
    );
    let hans = get(&app, "/feeds/all.json?script=hans", &[])
        .await
        .text()
        .await
        .expect("json");
    assert!(
        hans.contains("临沂山青社会工作服务中心"),
        "no simplified text"
    );
}

both_engines!(partners_get_full_text_of_owned_articles_only);
async fn partners_get_full_text_of_owned_articles_only(engine: Engine) {
    let Some((app, _own, _reprint)) = syndicated(engine).await else {
        return;
    };
    let made = newsdesk(
        &app.db.url,
        &["partner", "add", "portal", "--requests-per-minute", "5"],
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let key = String::from_utf8_lossy(&made.stdout)
        .lines()
        .last()
        .unwrap_or("")
        .to_string();

    let with_key = get(&app, "/feeds/all.json", &[("x-api-key", &key)]).await;
    assert_eq!(with_key.headers()["cache-control"], "private, no-store");
    let feed: serde_json::Value = with_key.json().await.expect("json");
    let bearer = get(
        &app,
        "/feeds/all.rss",
        &[("authorization", &format!("Bearer {key}"))],
    )
    .await
    .text()
    .await
    .expect("rss");

    let items = feed["items"].as_array().expect("items");
    let reprint = &items[0];
    let sample = &items[2];
    assert_eq!(reprint["_newsdesk"]["owned"], false);
    assert_eq!(
        reprint["content_text"], reprint["summary"],
        "a reprint went out in full"
    );
    assert!(sample["content_text"]
        .as_str()
        .is_some_and(|t| t.contains("取得良好社會效果")));
    assert!(bearer.contains("<content:encoded>"));
    assert!(
        !bearer.contains("危險]]&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; 標題&lt;/p&gt;")
    );

    for _ in 0..3 {
        get(&app, "/feeds/all.rss", &[("x-api-key", &key)]).await;
    }
    let limited = get(&app, "/feeds/all.rss", &[("x-api-key", &key)]).await;
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().get("retry-after").is_some());
    let usage = newsdesk(&app.db.url, &["partner", "usage"]);
    assert!(
        String::from_utf8_lossy(&usage.stdout).contains("\tportal\t5"),
        "{}",
        String::from_utf8_lossy(&usage.stdout)
    );

    let revoked = newsdesk(&app.db.url, &["partner", "revoke", "portal"]);
    assert!(revoked.status.success());
    assert_eq!(
        get(&app, "/feeds/all.rss", &[("x-api-key", &key)])
            .await
            .status(),
        401
    );
    assert_eq!(
        get(&app, "/feeds/all.rss", &[("x-api-key", "nd_made_up")])
            .await
            .status(),
        401
    );
}

both_engines!(conditional_get_answers_304_until_the_feed_changes);
async fn conditional_get_answers_304_until_the_feed_changes(engine: Engine) {
    // This test changes the database behind the server's back, which only
    // the cache's time limit would notice: it runs without the cache.
    let Some((app, _own, _reprint)) =
        syndicated_with(engine, &[("NEWSDESK_RESPONSE_CACHE_MB", "0")]).await
    else {
        return;
    };

    // HTTP dates count seconds: a date is a validator once its second is over.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let first = get(&app, "/feeds/all.rss", &[]).await;
    let etag = first.headers()["etag"].to_str().expect("etag").to_string();
    let modified = first.headers()["last-modified"]
        .to_str()
        .expect("last-modified")
        .to_string();
    let again = get(&app, "/feeds/all.rss", &[("if-none-match", &etag)]).await;
    let since = get(&app, "/feeds/all.rss", &[("if-modified-since", &modified)]).await;
    let gzip = get(&app, "/feeds/all.rss", &[("accept-encoding", "gzip")]).await;
    let brotli = get(&app, "/feeds/all.rss", &[("accept-encoding", "br")]).await;
    let rest_first = get(&app, "/v1/articles/1", &[]).await;
    let rest_etag = rest_first.headers()["etag"]
        .to_str()
        .expect("etag")
        .to_string();
    let rest_again = get(&app, "/v1/articles/1", &[("if-none-match", &rest_etag)]).await;
    {
        let database = app.db.database();
        let mut conn = database.get().expect("connection");
        let id = newsdesk::db::sections::by_slug(&mut conn, "lin-yi")
            .expect("q")
            .expect("s")
            .id;
        ArticleBuilder::new(id, "新發稿件").insert(&mut conn);
    }
    let changed = get(&app, "/feeds/all.rss", &[("if-none-match", &etag)]).await;

    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().ok(), Some(etag.as_str()));
    assert!(again.bytes().await.expect("body").is_empty());
    assert_eq!(since.status(), 304);
    assert_eq!(gzip.headers()["content-encoding"], "gzip");
    assert_eq!(brotli.headers()["content-encoding"], "br");
    assert_ne!(gzip.headers()["etag"], brotli.headers()["etag"]);
    assert_eq!(rest_again.status(), 304);
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"].to_str().ok(), Some(etag.as_str()));
}

pub(crate) fn ninjs_validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/specs/ninjs-schema_2.1.json"
    )))
    .expect("schema JSON");
    // The schema points at GeoJSON for `places`, which we never emit; tests
    // run offline, so a permissive stand-in takes its place.
    let registry = jsonschema::Registry::new()
        .add(
            "https://geojson.org/schema/GeoJSON.json",
            serde_json::json!({}),
        )
        .expect("resource")
        .prepare()
        .expect("registry");
    jsonschema::options()
        .with_registry(&registry)
        .build(&schema)
        .expect("a valid schema")
}

pub(crate) fn assert_ninjs(validator: &jsonschema::Validator, doc: &serde_json::Value) {
    let errors: Vec<String> = validator.iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "not valid ninjs 2.1: {errors:?}\n{doc}");
}

both_engines!(ninjs_output_is_valid_and_cancels_withdrawn_articles);
async fn ninjs_output_is_valid_and_cancels_withdrawn_articles(engine: Engine) {
    let Some((app, own, reprint)) = syndicated(engine).await else {
        return;
    };
    let validator = ninjs_validator();
    let made = newsdesk(&app.db.url, &["partner", "add", "wire"]);
    let key = String::from_utf8_lossy(&made.stdout)
        .lines()
        .last()
        .unwrap_or("")
        .to_string();

    let anonymous: serde_json::Value = get(&app, &format!("/v1/ninjs/articles/{own}"), &[])
        .await
        .json()
        .await
        .expect("json");
    let full: serde_json::Value = get(
        &app,
        &format!("/v1/ninjs/articles/{own}"),
        &[("x-api-key", &key)],
    )
    .await
    .json()
    .await
    .expect("json");
    let foreign: serde_json::Value = get(
        &app,
        &format!("/v1/ninjs/articles/{reprint}"),
        &[("x-api-key", &key)],
    )
    .await
    .json()
    .await
    .expect("json");
    let sample: serde_json::Value = get(
        &app,
        "/v1/ninjs/articles/1?script=hans",
        &[("x-api-key", &key)],
    )
    .await
    .json()
    .await
    .expect("json");

    for doc in [&anonymous, &full, &foreign, &sample] {
        assert_ninjs(&validator, doc);
    }
    assert_eq!(anonymous["representationtype"], "partial");
    assert!(anonymous.get("bodies").is_none());
    assert_eq!(full["representationtype"], "full");
    assert_eq!(full["bodies"][1]["contenttype"], "text/html");
    assert_eq!(
        full["people"],
        serde_json::json!([{ "name": "劉玉", "rel": "reporter" }, { "name": "付建", "rel": "editor" }])
    );
    assert!(
        foreign.get("bodies").is_none(),
        "a reprint went out in full"
    );
    assert_eq!(foreign["infosources"][0]["name"], "新華社");
    assert_eq!(sample["language"], "zh-Hans");
    assert_eq!(
        sample["headlines"][0]["value"],
        "临沂山青社会工作服务中心累计服务群众20余万人次"
    );
    assert_eq!(sample["firstcreated"], "2023-03-21T17:13:59+08:00");
    assert_eq!(sample["located"], "临沂");
    assert!(sample["bodies"][0]["charcount"]
        .as_u64()
        .is_some_and(|n| n > 500));

    let before = newsdesk::db::now().and_utc().to_rfc3339();
    {
        let database = app.db.database();
        let mut conn = database.get().expect("connection");
        crate::fixtures::withdraw(&database, &mut conn, reprint);
    }
    let changes: serde_json::Value = get(
        &app,
        &format!("/v1/ninjs/feed?since={}", before.replace('+', "%2B")),
        &[],
    )
    .await
    .json()
    .await
    .expect("json");
    let items = changes["items"].as_array().expect("items");
    for doc in items {
        assert_ninjs(&validator, doc);
    }
    assert!(
        items.iter().any(|d| d["pubstatus"] == "canceled"
            && d["uri"]
                .as_str()
                .is_some_and(|u| u.ends_with(&format!(":{reprint}")))),
        "{changes}"
    );
    assert!(
        items.iter().all(|d| d["uri"] != anonymous["uri"]),
        "an unchanged article was listed as changed: {:?} since {before}",
        items
            .iter()
            .map(|d| (d["uri"].to_string(), d["versioncreated"].to_string()))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        get(&app, &format!("/v1/ninjs/articles/{reprint}"), &[])
            .await
            .status(),
        451
    );
}
