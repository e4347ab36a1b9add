//! What a page head shows of an article: `Article.seo` (title,
//! description, canonical URL, hreflang alternates, Open Graph, Twitter
//! card) and `Article.jsonLd` (schema.org `NewsArticle`, read back with the
//! JSON-LD processor PyLD), in GraphQL and REST, for the sample page and a
//! reprint, and never for an article readers may not see.

use std::process::Command;

use serde_json::{json, Value};

use crate::both_engines;
use crate::fixtures::file_takedown;
use crate::helpers::{assert_bad_input, piped, venv_program, Engine, Newsroom};
use crate::legal_holds::{decide, Step};

const BASE: &str = "https://news.example.test";
const LOGO: &str = "https://news.example.test/logo.png";

const HEAD: &str = r#"
query Head($id: ID!, $script: Script) {
  article(id: $id, script: $script) {
    title summary url seoTitle seoDescription
    seo {
      title description canonicalUrl
      alternates { hreflang href }
      openGraph { type title description url siteName locale alternateLocales
                  image { url width height alt } publishedTime modifiedTime section authors }
      twitter { card title description image imageAlt }
    }
    jsonLd
  }
}"#;

async fn head(room: &Newsroom, token: Option<&str>, id: i32, script: &str) -> Value {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = bearer
        .as_deref()
        .map(|b| vec![("authorization", b)])
        .unwrap_or_default();
    let (_, body) = room
        .app
        .graphql_with(
            HEAD,
            json!({ "id": id.to_string(), "script": script }),
            &headers,
        )
        .await;
    body
}

/// What PyLD reads in `json_ld`: the article node, schema.org names short,
/// every value a list.
fn processed(json_ld: &str) -> Value {
    let output = piped(
        Command::new(venv_program("python")).arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/py/jsonld_check.py"
        )),
        json_ld.as_bytes(),
    );
    assert!(
        output.status.success(),
        "PyLD refused it: {}\n{json_ld}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert!(read["statements"].as_u64().unwrap_or(0) > 10, "{read}");
    read["node"].clone()
}

fn names(nodes: &Value) -> Vec<(String, String)> {
    nodes
        .as_array()
        .map(|all| {
            all.iter()
                .map(|n| {
                    (
                        n["name"][0].as_str().unwrap_or_default().to_string(),
                        n["jobTitle"][0].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `GET /v1/articles/{id}{query}` as JSON.
async fn rest_article(room: &Newsroom, id: i32, query: &str) -> Value {
    room.app
        .client
        .get(format!("{}/v1/articles/{id}{query}", room.app.address))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("JSON")
}

async fn mutate(room: &Newsroom, who: &str, mutation: &str) -> Value {
    let done = room.as_user(Some(&room.token(who)), mutation).await;
    assert!(done["errors"].is_null(), "{mutation}: {done}");
    done
}

both_engines!(the_sample_page_has_its_head_in_both_scripts_in_graphql_and_rest);
async fn the_sample_page_has_its_head_in_both_scripts_in_graphql_and_rest(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let id = room.app.import_seed().article_id.expect("imported");
    mutate(
        &room,
        "admin",
        &format!(
            r#"mutation {{ updateSiteSettings(input: {{logoUrl: "{LOGO}"}}) {{ logoUrl }} }}"#
        ),
    )
    .await;

    let body = head(&room, None, id, "ORIGINAL").await;
    assert!(body["errors"].is_null(), "{body}");
    let article = &body["data"]["article"];
    let url = article["url"].as_str().expect("url").to_string();
    assert!(url.starts_with(&format!("{BASE}/a/{id}-")), "{url}");
    let seo = &article["seo"];
    assert_eq!(
        seo["title"],
        "臨沂山青社會工作服務中心累計服務群眾20余萬人次"
    );
    assert_eq!(article["seoTitle"], Value::Null);
    let description = seo["description"].as_str().expect("description");
    let summary = article["summary"].as_str().expect("summary");
    assert!(
        description.chars().count() < summary.chars().count(),
        "{description}"
    );
    assert!(description.ends_with('…'), "cut: {description}");
    assert!(
        summary.starts_with(description.trim_end_matches('…')),
        "{description} / {summary}"
    );
    // The sample is stored in traditional characters: that page is the
    // canonical one and x-default; simplified is `?script=hans`.
    assert_eq!(seo["canonicalUrl"], url.as_str());
    assert_eq!(
        seo["alternates"],
        json!([
            { "hreflang": "zh-Hans", "href": format!("{url}?script=hans") },
            { "hreflang": "zh-Hant", "href": url },
            { "hreflang": "x-default", "href": url },
        ])
    );
    let og = &seo["openGraph"];
    assert_eq!(og["type"], "article");
    assert_eq!(og["url"], url.as_str());
    assert_eq!(og["siteName"], "山東財經網");
    assert_eq!(og["locale"], "zh_TW");
    assert_eq!(og["alternateLocales"], json!(["zh_CN"]));
    assert_eq!(og["publishedTime"], "2023-03-21T17:13:59+08:00");
    assert_eq!(og["section"], "臨沂");
    assert_eq!(og["authors"], json!(["劉慎平", "劉玉"]));
    assert_eq!(og["image"], Value::Null);
    assert_eq!(seo["twitter"]["card"], "summary");
    assert_eq!(seo["twitter"]["title"], seo["title"]);

    let json_ld = article["jsonLd"].as_str().expect("jsonLd");
    let node = processed(json_ld);
    assert_eq!(node["@type"], json!(["NewsArticle"]), "{node}");
    assert_eq!(
        node["headline"],
        json!(["臨沂山青社會工作服務中心累計服務群眾20余萬人次"])
    );
    assert_eq!(node["datePublished"], json!(["2023-03-21T17:13:59+08:00"]));
    let modified = node["dateModified"][0].as_str().expect("dateModified");
    assert!(modified.ends_with("+08:00"), "{modified}");
    assert_eq!(node["inLanguage"], json!(["zh-Hant"]));
    assert_eq!(node["url"], json!([url]));
    assert_eq!(
        names(&node["author"]),
        vec![
            ("劉慎平".to_string(), "記者".to_string()),
            ("劉玉".to_string(), "記者".to_string())
        ]
    );
    assert_eq!(node["author"][0]["@type"], json!(["Person"]));
    assert_eq!(names(&node["editor"]), vec![("付建".into(), "編輯".into())]);
    let publisher = &node["publisher"][0];
    assert_eq!(publisher["@type"], json!(["NewsMediaOrganization"]));
    assert_eq!(publisher["name"], json!(["山東財經網"]));
    assert_eq!(publisher["logo"][0]["url"], json!([LOGO]));
    assert_eq!(node["isAccessibleForFree"], json!([true]));
    assert_eq!(node["copyrightHolder"][0]["name"], json!(["山東財經網"]));
    assert_eq!(node["copyrightYear"], json!([2023]));
    assert!(node["copyrightNotice"][0]
        .as_str()
        .is_some_and(|n| n.contains("版權均屬於") || n.contains("版權均屬于")));
    assert!(node.get("isBasedOn").is_none(), "original work: {node}");

    // Simplified: its own canonical page, the same cluster, converted text.
    let body = head(&room, None, id, "HANS").await;
    let seo = &body["data"]["article"]["seo"];
    assert_eq!(seo["canonicalUrl"], format!("{url}?script=hans"));
    assert_eq!(seo["alternates"][0]["href"], format!("{url}?script=hans"));
    assert_eq!(seo["alternates"][2]["href"], url.as_str());
    assert_eq!(
        seo["title"],
        "临沂山青社会工作服务中心累计服务群众20余万人次"
    );
    assert_eq!(seo["openGraph"]["locale"], "zh_CN");
    let node = processed(body["data"]["article"]["jsonLd"].as_str().expect("jsonLd"));
    assert_eq!(node["inLanguage"], json!(["zh-Hans"]));
    assert_eq!(names(&node["editor"]), vec![("付建".into(), "编辑".into())]);
    assert_eq!(node["publisher"][0]["name"], json!(["山东财经网"]));

    // REST carries the same values beside the article.
    for (script, query) in [("ORIGINAL", ""), ("HANS", "?script=hans")] {
        let graphql = head(&room, None, id, script).await;
        let rest = rest_article(&room, id, query).await;
        assert_eq!(rest["seo"], graphql["data"]["article"]["seo"], "{script}");
        let ld: Value = serde_json::from_str(
            graphql["data"]["article"]["jsonLd"]
                .as_str()
                .expect("jsonLd"),
        )
        .expect("JSON-LD is JSON");
        assert_eq!(rest["jsonLd"], ld, "{script}");
    }
    // One entity in both scripts.
    assert_eq!(
        processed(body["data"]["article"]["jsonLd"].as_str().expect("jsonLd"))["@id"],
        format!("{url}#article")
    );

    // A new logo reaches the cached article at once (its answer is tagged
    // with the site).
    let logo = "https://news.example.test/logo-2.png";
    mutate(
        &room,
        "admin",
        &format!(
            r#"mutation {{ updateSiteSettings(input: {{logoUrl: "{logo}"}}) {{ logoUrl }} }}"#
        ),
    )
    .await;
    let rest = rest_article(&room, id, "").await;
    assert_eq!(rest["jsonLd"]["publisher"]["logo"]["url"], logo, "{rest}");
    let body = head(&room, None, id, "ORIGINAL").await;
    assert!(
        body["data"]["article"]["jsonLd"]
            .as_str()
            .is_some_and(|ld| ld.contains(logo)),
        "{body}"
    );
}

both_engines!(a_reprint_is_based_on_its_source_and_editors_override_the_search_texts);
async fn a_reprint_is_based_on_its_source_and_editors_override_the_search_texts(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    mutate(
        &room,
        "editor",
        r#"mutation { upsertSource(name: "新華社", owned: false, url: "https://www.news.cn/") { name } }"#,
    )
    .await;
    let created = mutate(
        &room,
        "editor",
        r#"mutation { createArticle(input: {
            title: "港口貨物吞吐量創新高</script><script>alert(1)</script>",
            summary: "日照港前十個月貨物吞吐量同比增長。",
            section: "lin-yi", source: "新華社", paragraphs: ["正文。"],
            byline: [{name: "王記", role: REPORTER}, {name: "李攝", role: PHOTOGRAPHER}, {name: "付建", role: EDITOR}],
            seoTitle: "  日照港  吞吐量\n創新高 ",
        }) { databaseId seoTitle } }"#,
    )
    .await;
    let id = created["data"]["createArticle"]["databaseId"]
        .as_i64()
        .expect("id") as i32;
    assert_eq!(
        created["data"]["createArticle"]["seoTitle"],
        "日照港 吞吐量 創新高"
    );
    mutate(
        &room,
        "editor",
        &format!(r#"mutation {{ publishArticle(id: "{id}") {{ status }} }}"#),
    )
    .await;

    let body = head(&room, None, id, "ORIGINAL").await;
    assert!(body["errors"].is_null(), "{body}");
    let seo = &body["data"]["article"]["seo"];
    assert_eq!(seo["title"], "日照港 吞吐量 創新高");
    assert_eq!(seo["openGraph"]["title"], "日照港 吞吐量 創新高");
    assert_eq!(seo["description"], "日照港前十個月貨物吞吐量同比增長。");
    // Photographers are contributors, not authors.
    assert_eq!(seo["openGraph"]["authors"], json!(["王記"]));
    let json_ld = body["data"]["article"]["jsonLd"].as_str().expect("jsonLd");
    assert!(
        !json_ld.contains('<') && !json_ld.contains('>'),
        "embeddable in a script element: {json_ld}"
    );
    let node = processed(json_ld);
    assert_eq!(
        node["headline"],
        json!(["港口貨物吞吐量創新高</script><script>alert(1)</script>"])
    );
    assert_eq!(names(&node["author"]), vec![("王記".into(), "記者".into())]);
    assert_eq!(
        names(&node["contributor"]),
        vec![("李攝".into(), "攝影".into())]
    );
    assert_eq!(node["copyrightHolder"][0]["name"], json!(["新華社"]));
    assert_eq!(node["sourceOrganization"][0]["name"], json!(["新華社"]));
    let based_on = &node["isBasedOn"][0];
    assert_eq!(based_on["@type"], json!(["NewsArticle"]), "{node}");
    assert_eq!(based_on["publisher"][0]["name"], json!(["新華社"]));
    assert_eq!(
        based_on["publisher"][0]["url"],
        json!(["https://www.news.cn/"])
    );
    assert!(node["publisher"][0].get("logo").is_none(), "no logo set");

    // Overrides are checked, and cleared with null; the cached answer follows.
    for (input, field) in [
        (format!(r#"seoTitle: "{}""#, "長".repeat(101)), "seoTitle"),
        (
            format!(r#"seoDescription: "{}""#, "長".repeat(301)),
            "seoDescription",
        ),
        (r#"seoTitle: "a\u0007b""#.to_string(), "seoTitle"),
    ] {
        let refused = room
            .as_user(
                Some(&room.token("editor")),
                &format!(
                    r#"mutation {{ updateArticle(id: "{id}", expectedRevision: 2, input: {{ {input} }}) {{ revision }} }}"#
                ),
            )
            .await;
        assert_bad_input(&refused, field);
    }
    let revision = mutate(
        &room,
        "editor",
        &format!(
            r#"mutation {{ updateArticle(id: "{id}", expectedRevision: 2, input: {{ seoTitle: null, seoDescription: "港口的新紀錄" }}) {{ revision }} }}"#
        ),
    )
    .await;
    assert!(revision["data"]["updateArticle"]["revision"].is_number());
    let body = head(&room, None, id, "HANS").await;
    let seo = &body["data"]["article"]["seo"];
    assert_eq!(
        seo["title"], "港口货物吞吐量创新高</script><script>alert(1)</script>",
        "the headline again, simplified"
    );
    assert_eq!(seo["description"], "港口的新纪录");
    assert_eq!(seo["twitter"]["description"], "港口的新纪录");
}

both_engines!(hidden_articles_have_no_head_nor_json_ld);
async fn hidden_articles_have_no_head_nor_json_ld(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let editor = room.token("editor");
    let draft = room.draft("reporter-a", "還是草稿").await;
    let scheduled = room.draft("reporter-a", "明年的稿件").await;
    mutate(
        &room,
        "editor",
        &format!(
            r#"mutation {{ publishArticle(id: "{scheduled}", at: "2099-01-01T08:00:00+08:00") {{ status }} }}"#
        ),
    )
    .await;
    for id in [draft, scheduled] {
        // Editors preview them; the preview has no page head.
        let body = room
            .as_user(
                Some(&editor),
                &format!(
                    r#"{{ article(id: "{id}", preview: true) {{ title seo {{ title }} jsonLd }} }}"#
                ),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
        assert!(body["data"]["article"]["title"].is_string(), "{body}");
        assert_eq!(body["data"]["article"]["seo"], Value::Null, "{body}");
        assert_eq!(body["data"]["article"]["jsonLd"], Value::Null, "{body}");
        let anonymous = head(&room, None, id, "ORIGINAL").await;
        assert_eq!(anonymous["data"]["article"], Value::Null, "{anonymous}");
    }

    // Withdrawn: the article is announced gone (451), without a head.
    let public = crate::takedowns::published(&room, "被撤下的稿件", "pulled", 1);
    let before = head(&room, None, public, "ORIGINAL").await;
    assert!(before["data"]["article"]["jsonLd"].is_string(), "{before}");
    let request = {
        let database = room.app.db.database();
        let mut conn = database.get().expect("connection");
        file_takedown(&mut conn, &[public])
    };
    decide(&room, request, Step::Accept).await;
    let after = head(&room, None, public, "ORIGINAL").await;
    assert_eq!(after["data"]["article"], Value::Null, "{after}");
    assert_eq!(
        after["errors"][0]["extensions"]["code"],
        "UNAVAILABLE_FOR_LEGAL_REASONS"
    );
    assert!(!after.to_string().contains("NewsArticle"), "{after}");
    let rest = room
        .app
        .client
        .get(format!("{}/v1/articles/{public}", room.app.address))
        .send()
        .await
        .expect("get");
    assert_eq!(rest.status().as_u16(), 451);
    let text = rest.text().await.expect("text");
    assert!(
        !text.contains("NewsArticle") && !text.contains("canonicalUrl"),
        "{text}"
    );

    // A source's home page must be a web address too.
    let refused = room
        .as_user(
            Some(&editor),
            r#"mutation { upsertSource(name: "某報", owned: false, url: "javascript:alert(1)") { name } }"#,
        )
        .await;
    assert_bad_input(&refused, "url");

    // A logo must be a web address.
    let refused = room
        .as_user(
            Some(&room.token("admin")),
            r#"mutation { updateSiteSettings(input: {logoUrl: "javascript:alert(1)"}) { logoUrl } }"#,
        )
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{refused}"
    );
}
