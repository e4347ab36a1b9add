//! The public read API over HTTP: the sample article page, scripts, the footer.

use serde_json::{json, Value};

use crate::both_engines;
use crate::helpers::{Engine, TestApp, NO_POLLING};

/// The query a front end runs for the whole article page.
pub const ARTICLE_PAGE: &str = r#"
query ArticlePage($slug: String!, $script: Script) {
  site(script: $script) {
    name address postcode email icpFiling newsServiceFiling
    complaintPhone complaintEmail copyrightHolder timeZone
    navigation { name slug kind }
  }
  article(slug: $slug, script: $script) {
    id databaseId slug title summary paragraphs
    section { name slug kind }
    breadcrumb { name }
    source { name owned }
    byline { name role }
    editor { name role }
    publishedAt revision url
    copyrightNotice { kind text removalTerms removalWindowDays }
  }
  recommendations(script: $script) { headline article { id } }
}"#;

async fn seeded(engine: Engine) -> Option<(TestApp, String)> {
    let app = TestApp::spawn(engine).await?;
    let outcome = app.import_seed();
    let id = outcome.article_id.expect("imported");
    let body = app
        .graphql(&format!("{{ article(id: \"{id}\") {{ slug }} }}"))
        .await;
    let slug = body["data"]["article"]["slug"]
        .as_str()
        .expect("slug")
        .to_string();
    Some((app, slug))
}

both_engines!(the_article_page_shows_every_field_of_the_sample);
async fn the_article_page_shows_every_field_of_the_sample(engine: Engine) {
    let Some((app, slug)) = seeded(engine).await else {
        return;
    };

    let (headers, body) = app
        .graphql_with(ARTICLE_PAGE, json!({ "slug": slug }), &[])
        .await;

    assert!(body.get("errors").is_none(), "{body}");
    let site = &body["data"]["site"];
    assert_eq!(site["name"], "山東財經網");
    assert_eq!(site["icpFiling"], "魯ICP備09023866-44號");
    assert_eq!(site["newsServiceFiling"], "201000112");
    assert_eq!(site["complaintPhone"], "0531-85196503");
    assert_eq!(site["complaintEmail"], "sdenews@126.com");
    assert_eq!(site["postcode"], "250014");
    assert_eq!(site["address"], "濟南市濼源大街2號 大眾傳媒大廈F24");
    assert_eq!(site["timeZone"], "Asia/Shanghai");
    let nav: Vec<&str> = site["navigation"]
        .as_array()
        .expect("navigation")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(nav.len(), 13);
    assert_eq!(nav[0], "經濟導報");
    assert_eq!(nav[7], "鷹眼IPO");
    assert_eq!(nav[12], "樓市");

    let a = &body["data"]["article"];
    assert_eq!(a["title"], "臨沂山青社會工作服務中心累計服務群眾20余萬人次");
    assert_eq!(a["section"]["name"], "臨沂");
    assert_eq!(a["section"]["kind"], "REGION");
    assert_eq!(a["breadcrumb"], json!([{ "name": "臨沂" }]));
    assert_eq!(
        a["source"],
        json!({ "name": "大眾報業·經濟導報", "owned": true })
    );
    assert_eq!(
        a["byline"],
        json!([{ "name": "劉慎平", "role": "REPORTER" }, { "name": "劉玉", "role": "REPORTER" }])
    );
    assert_eq!(a["editor"], json!({ "name": "付建", "role": "EDITOR" }));
    assert_eq!(a["publishedAt"], "2023-03-21T17:13:59+08:00");
    assert_eq!(a["revision"], 1);
    assert_eq!(a["paragraphs"].as_array().map(Vec::len), Some(4));
    assert!(a["paragraphs"][3]
        .as_str()
        .is_some_and(|p| p.contains("在村(社區)")));
    assert_eq!(
        a["url"],
        format!("https://news.example.test/a/{}-{}", a["databaseId"], slug)
    );
    let notice = &a["copyrightNotice"];
    assert_eq!(notice["kind"], "ORIGINAL");
    assert!(notice["text"]
        .as_str()
        .is_some_and(|t| t.contains("版權均屬于")));
    assert!(notice["removalTerms"]
        .as_str()
        .is_some_and(|t| t.contains("請30日內進行")));
    assert_eq!(notice["removalWindowDays"], 30);

    let recs = body["data"]["recommendations"]
        .as_array()
        .expect("recommendations");
    assert_eq!(recs.len(), 8);
    assert_eq!(
        recs[0]["headline"],
        "這些地區間鐵路旅行時間大幅壓縮!回家更快了!"
    );
    assert_eq!(recs[0]["article"], Value::Null);

    assert_eq!(headers["content-language"], "zh-Hant");
    assert_eq!(headers["cache-control"], "private, no-store");
}

both_engines!(text_is_served_in_the_script_asked_for);
async fn text_is_served_in_the_script_asked_for(engine: Engine) {
    let Some((app, slug)) = seeded(engine).await else {
        return;
    };
    let query = r#"query($slug: String!, $script: Script) {
        article(slug: $slug, script: $script) { title source { name } byline { name } section { name } }
        site(script: $script) { name }
    }"#;

    let (_, hans) = app
        .graphql_with(query, json!({ "slug": slug, "script": "HANS" }), &[])
        .await;
    let (_, hant) = app
        .graphql_with(query, json!({ "slug": slug, "script": "HANT" }), &[])
        .await;
    let (by_header, from_header) = app
        .graphql_with(
            query,
            json!({ "slug": slug }),
            &[("accept-language", "zh-CN,zh;q=0.9")],
        )
        .await;

    let a = &hans["data"]["article"];
    assert_eq!(a["source"]["name"], "大众报业·经济导报");
    assert_eq!(a["section"]["name"], "临沂");
    assert_eq!(a["byline"][0]["name"], "刘慎平");
    assert_eq!(a["title"], "临沂山青社会工作服务中心累计服务群众20余万人次");
    assert_eq!(hans["data"]["site"]["name"], "山东财经网");
    assert_eq!(
        hant["data"]["article"]["source"]["name"],
        "大眾報業·經濟導報"
    );
    // Served as traditional, text takes the standard forms throughout
    // (the page typed 余; 餘 is the traditional form of "more than").
    assert_eq!(
        hant["data"]["article"]["title"],
        "臨沂山青社會工作服務中心累計服務群眾20餘萬人次"
    );
    assert_eq!(from_header["data"], hans["data"]);
    assert_eq!(by_header["content-language"], "zh-Hans");
}

both_engines!(article_needs_exactly_one_of_id_and_slug);
async fn article_needs_exactly_one_of_id_and_slug(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };

    let both = app
        .graphql(r#"{ article(id: "1", slug: "x") { id } }"#)
        .await;
    let neither = app.graphql("{ article { id } }").await;
    let missing = app
        .graphql(r#"{ article(slug: "no-such-article") { id } }"#)
        .await;

    assert_eq!(both["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(neither["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(missing, json!({ "data": { "article": null } }));
}

both_engines!(one_document_sent_again_follows_each_request_s_variables);
/// A document is parsed once and kept; each request runs its own copy, so
/// `@include`, arguments and bad values follow that request's variables,
/// in any order.
async fn one_document_sent_again_follows_each_request_s_variables(engine: Engine) {
    let Some((app, slug)) = seeded(engine).await else {
        return;
    };
    let query = "query($slug: String!, $full: Boolean!) { article(slug: $slug) { slug summary @include(if: $full) } }";
    for full in [true, false, true, false] {
        let (_, body) = app
            .graphql_with(query, json!({ "slug": slug, "full": full }), &[])
            .await;
        let article = &body["data"]["article"];
        assert_eq!(article["slug"], slug.as_str(), "{body}");
        assert_eq!(
            article.get("summary").is_some(),
            full,
            "full={full}: {body}"
        );
    }
    let (_, missing) = app
        .graphql_with(
            query,
            json!({ "slug": "no-such-article", "full": true }),
            &[],
        )
        .await;
    assert_eq!(missing, json!({ "data": { "article": null } }));
    let (_, bad) = app
        .graphql_with(query, json!({ "slug": slug, "full": "yes" }), &[])
        .await;
    assert!(bad["data"].is_null(), "{bad}");
    assert_eq!(
        bad["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{bad}"
    );
    let (_, again) = app
        .graphql_with(query, json!({ "slug": slug, "full": false }), &[])
        .await;
    assert_eq!(again["data"]["article"], json!({ "slug": slug }));
}

both_engines!(a_page_costs_the_same_number_of_statements_at_any_size);
async fn a_page_costs_the_same_number_of_statements_at_any_size(engine: Engine) {
    let Some(app) = TestApp::spawn_with(engine, &NO_POLLING).await else {
        return;
    };
    {
        let database = app.db.database();
        let mut conn = database.get().expect("connection");
        let section = crate::fixtures::section(&mut conn, "金融", None);
        for i in 0..25 {
            crate::fixtures::ArticleBuilder::new(section, &format!("第{i}篇"))
                .source(
                    &mut conn,
                    if i % 2 == 0 {
                        "新華社"
                    } else {
                        "經濟導報"
                    },
                    i % 2 == 1,
                )
                .credit(&format!("記者{i}"), newsdesk::domain::CreditRole::Reporter)
                .credit("付建", newsdesk::domain::CreditRole::Editor)
                .insert(&mut conn);
        }
    }
    let page = |n: usize| {
        format!(
            "{{ articles(first: {n}) {{ nodes {{ title section {{ name }} breadcrumb {{ name }} \
             source {{ name owned }} byline {{ name role }} editor {{ name }} \
             copyrightNotice {{ kind text }} }} }} }}"
        )
    };
    // Warm-up, so one-time work does not count.
    app.graphql(&page(1)).await;

    let before = app.statements().await;
    let small = app.graphql(&page(5)).await;
    let middle = app.statements().await;
    let large = app.graphql(&page(20)).await;
    let after = app.statements().await;

    assert_eq!(
        small["data"]["articles"]["nodes"].as_array().map(Vec::len),
        Some(5)
    );
    assert_eq!(
        large["data"]["articles"]["nodes"].as_array().map(Vec::len),
        Some(20)
    );
    let (five, twenty) = (middle - before, after - middle);
    assert_eq!(
        five, twenty,
        "5 articles took {five} statements, 20 took {twenty}"
    );
    assert!(twenty <= 8, "20 articles took {twenty} statements");
}

both_engines!(cacheable_get_queries_name_what_they_depend_on);
async fn cacheable_get_queries_name_what_they_depend_on(engine: Engine) {
    let Some((app, _slug)) = seeded(engine).await else {
        return;
    };
    let url = format!("{}/graphql", app.address);

    let response = app
        .client
        .get(&url)
        .query(&[(
            "query",
            r#"{ article(id: "1") { title } site { name } recommendations { headline } }"#,
        )])
        .send()
        .await
        .expect("get");
    let with_token = app
        .client
        .get(&url)
        .header("authorization", "Bearer anything")
        .query(&[("query", "{ site { name } }")])
        .send()
        .await
        .expect("get");

    let keys = response.headers()["surrogate-key"]
        .to_str()
        .expect("ascii")
        .to_string();
    for key in ["article-1", "site", "list-home"] {
        assert!(
            keys.split(' ').any(|k| k == key),
            "{key} missing from {keys}"
        );
    }
    assert_eq!(response.headers()["cache-control"], "public, max-age=60");
    assert_eq!(with_token.headers()["cache-control"], "private, no-store");
    assert!(with_token.headers().get("surrogate-key").is_none());
}
