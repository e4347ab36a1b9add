//! Article bodies as typed blocks: every block type written through
//! `createArticle` and read back through GraphQL, REST, ninjs and the
//! feeds; hostile HTML kept off every surface; bad blocks refused whole.

use std::time::Duration;

use serde_json::{json, Value};

use crate::both_engines;
use crate::helpers::{newsdesk, Engine, Newsroom};

const BLOCKS_QUERY: &str = r#"
mutation($input: CreateArticleInput!) {
  createArticle(input: $input) {
    databaseId revision
    bodyWarnings { code subject count message }
  }
}"#;

const READ_QUERY: &str = r#"
query($id: ID!, $script: Script) {
  article(id: $id, script: $script) {
    paragraphs bodyText bodyHtml
    body {
      __typename
      ... on ParagraphBlock { position text html runs { text href emphasis strong } }
      ... on HeadingBlock { position level text }
      ... on QuoteBlock { text html attribution }
      ... on ListBlock { ordered items { text html } }
      ... on TableBlock { caption header rows }
      ... on ImageBlock { mediaId alt caption credit }
      ... on EmbedBlock { provider url }
      ... on DividerBlock { position }
    }
  }
}"#;

fn every_block(media: &str) -> Value {
    json!([
        { "heading": { "text": "營收概況", "level": 2 } },
        { "paragraph": { "runs": [
            { "text": "山東港口營收" },
            { "text": "公告", "href": "https://www.sse.com.cn/disclosure" },
            { "text": "增長", "emphasis": true },
            { "text": "三成", "strong": true }
        ] } },
        { "quote": { "text": "穩中求進。", "attribution": "董事長" } },
        { "list": { "ordered": true, "items": [ { "text": "集裝箱" }, { "text": "散貨" } ] } },
        { "table": { "caption": "營收表", "header": ["年度", "億元"], "rows": [["2025", "貨櫃吞吐"]] } },
        { "image": { "mediaId": media, "alt": "日照港", "caption": "碼頭", "credit": "攝影 王偉" } },
        { "embed": { "url": "https://www.youtube.com/watch?v=abc" } },
        { "divider": true }
    ])
}

async fn create(room: &Newsroom, input: Value) -> Value {
    let bearer = format!("Bearer {}", room.token("editor"));
    room.app
        .graphql_with(
            BLOCKS_QUERY,
            json!({ "input": input }),
            &[("authorization", &bearer)],
        )
        .await
        .1
}

/// Publishes article `id` as an editor.
pub(crate) async fn publish(room: &Newsroom, id: i64) {
    let published = room
        .as_user(
            Some(&room.token("editor")),
            &format!(r#"mutation {{ publishArticle(id: "{id}") {{ status }} }}"#),
        )
        .await;
    assert_eq!(
        published["data"]["publishArticle"]["status"], "PUBLISHED",
        "{published}"
    );
}

async fn read(room: &Newsroom, id: i64, script: &str) -> Value {
    let answer = room
        .app
        .graphql_with(
            READ_QUERY,
            json!({ "id": id.to_string(), "script": script }),
            &[],
        )
        .await
        .1;
    assert!(answer.get("errors").is_none(), "{answer}");
    answer["data"]["article"].clone()
}

async fn get_text(room: &Newsroom, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut request = room.app.client.get(format!("{}{path}", room.app.address));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.expect("get");
    let status = response.status().as_u16();
    (status, response.text().await.expect("text"))
}

/// A partner key, and an owned source so that partners get full text.
fn partner_and_source(room: &Newsroom) -> String {
    let database = room.app.db.database();
    let mut conn = database.get().expect("connection");
    newsdesk::db::sources::find_or_create(&mut conn, "經濟導報", true).expect("source");
    let made = newsdesk(&room.app.db.url, &["partner", "add", "portal"]);
    assert!(made.status.success());
    String::from_utf8_lossy(&made.stdout)
        .lines()
        .last()
        .unwrap_or("")
        .to_string()
}

/// Every surface an article's body reaches, as text: GraphQL (both
/// scripts), REST, ninjs, RSS, Atom and JSON Feed for a partner, and search.
async fn every_surface(room: &Newsroom, id: i64, key: &str, word: &str) -> Vec<(String, String)> {
    let mut out = vec![
        (
            "graphql".into(),
            read(room, id, "ORIGINAL").await.to_string(),
        ),
        (
            "graphql-hans".into(),
            read(room, id, "HANS").await.to_string(),
        ),
    ];
    let partner = [("x-api-key", key)];
    for path in [
        format!("/v1/articles/{id}"),
        format!("/v1/ninjs/articles/{id}"),
        "/feeds/all.rss".into(),
        "/feeds/all.atom".into(),
        "/feeds/all.json".into(),
    ] {
        let (status, text) = get_text(room, &path, &partner).await;
        assert_eq!(status, 200, "{path}: {text}");
        out.push((path, text));
    }
    let search = room
        .app
        .graphql_with(
            "query($q: String!) { search(query: $q) { nodes { snippet article { databaseId bodyHtml } } } }",
            json!({ "q": word }),
            &[],
        )
        .await
        .1;
    out.push(("search".into(), search.to_string()));
    out
}

both_engines!(a_body_of_every_block_type_reaches_every_surface);
async fn a_body_of_every_block_type_reaches_every_surface(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let key = partner_and_source(&room);
    let picture = newsdesk::media::samples::picture(400, 300, image::ImageFormat::Png);
    let (_, uploaded) = crate::media::upload(&room, "editor", "port.png", &picture).await;
    let media = uploaded["id"].as_str().expect("media id").to_string();
    let created = create(
        &room,
        json!({ "title": "山東港口營收", "section": "lin-yi", "source": "經濟導報", "blocks": every_block(&media) }),
    )
    .await;
    let id = created["data"]["createArticle"]["databaseId"]
        .as_i64()
        .unwrap_or_else(|| panic!("{created}"));
    assert_eq!(created["data"]["createArticle"]["bodyWarnings"], json!([]));
    publish(&room, id).await;

    let article = read(&room, id, "ORIGINAL").await;
    let kinds: Vec<&str> = article["body"]
        .as_array()
        .expect("blocks")
        .iter()
        .map(|b| b["__typename"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        kinds,
        [
            "HeadingBlock",
            "ParagraphBlock",
            "QuoteBlock",
            "ListBlock",
            "TableBlock",
            "ImageBlock",
            "EmbedBlock",
            "DividerBlock"
        ]
    );
    let body = &article["body"];
    assert_eq!(
        body[0],
        json!({"__typename": "HeadingBlock", "position": 0, "level": 2, "text": "營收概況"})
    );
    assert_eq!(body[1]["text"], "山東港口營收公告增長三成");
    assert_eq!(
        body[1]["runs"][1],
        json!({"text": "公告", "href": "https://www.sse.com.cn/disclosure", "emphasis": false, "strong": false})
    );
    assert!(body[1]["html"]
        .as_str()
        .is_some_and(|h| h.contains(r#"<a href="https://www.sse.com.cn/disclosure" rel="noopener noreferrer">公告</a><em>增長</em><strong>三成</strong>"#)), "{}", body[1]);
    assert_eq!(body[2]["attribution"], "董事長");
    assert_eq!(body[3]["ordered"], true);
    assert_eq!(body[3]["items"][1]["text"], "散貨");
    assert_eq!(
        body[4],
        json!({"__typename": "TableBlock", "caption": "營收表", "header": ["年度", "億元"], "rows": [["2025", "貨櫃吞吐"]]})
    );
    assert_eq!(
        body[5],
        json!({"__typename": "ImageBlock", "mediaId": media, "alt": "日照港", "caption": "碼頭", "credit": "攝影 王偉"})
    );
    assert_eq!(
        body[6],
        json!({"__typename": "EmbedBlock", "provider": "youtube", "url": "https://www.youtube.com/watch?v=abc"})
    );
    assert_eq!(
        body[7],
        json!({"__typename": "DividerBlock", "position": 7})
    );
    assert_eq!(
        article["paragraphs"],
        json!([
            "營收概況",
            "山東港口營收公告增長三成",
            "穩中求進。",
            "集裝箱",
            "散貨"
        ])
    );
    let html = article["bodyHtml"].as_str().expect("html");
    for piece in [
        "<h2>營收概況</h2>",
        r#"<blockquote class="nd-quote"><p>穩中求進。</p><footer>董事長</footer></blockquote>"#,
        r#"<ol class="nd-list"><li>集裝箱</li><li>散貨</li></ol>"#,
        r#"<table class="nd-table"><caption>營收表</caption><thead><tr><th>年度</th><th>億元</th></tr></thead><tbody><tr><td>2025</td><td>貨櫃吞吐</td></tr></tbody></table>"#,
        r#"<small class="nd-credit">攝影 王偉</small>"#,
        r#"<figure class="nd-embed" data-provider="youtube">"#,
        "<hr>",
    ] {
        assert!(html.contains(piece), "{piece} not in {html}");
    }

    // Script conversion reaches every block's text, not its links.
    let hans = read(&room, id, "HANS").await;
    assert_eq!(hans["body"][4]["header"], json!(["年度", "亿元"]));
    assert_eq!(hans["body"][4]["rows"][0][1], "货柜吞吐");
    assert_eq!(hans["body"][5]["credit"], "摄影 王伟");
    assert_eq!(
        hans["body"][1]["runs"][1]["href"],
        "https://www.sse.com.cn/disclosure"
    );
    assert!(hans["bodyHtml"]
        .as_str()
        .is_some_and(|h| h.contains("<th>亿元</th>")));

    let rest: Value =
        serde_json::from_str(&get_text(&room, &format!("/v1/articles/{id}"), &[]).await.1)
            .expect("REST JSON");
    let rest_kinds: Vec<&str> = rest["body"]
        .as_array()
        .expect("REST blocks")
        .iter()
        .map(|b| b["type"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        rest_kinds,
        [
            "heading",
            "paragraph",
            "quote",
            "list",
            "table",
            "image",
            "embed",
            "divider"
        ]
    );
    assert_eq!(rest["body"][4]["rows"], json!([["2025", "貨櫃吞吐"]]));
    assert_eq!(rest["bodyHtml"], article["bodyHtml"]);

    let partner = [("x-api-key", key.as_str())];
    let ninjs: Value = serde_json::from_str(
        &get_text(&room, &format!("/v1/ninjs/articles/{id}"), &partner)
            .await
            .1,
    )
    .expect("ninjs");
    crate::feeds::assert_ninjs(&crate::feeds::ninjs_validator(), &ninjs);
    let bodies = ninjs["bodies"].as_array().expect("bodies");
    let html_body = bodies
        .iter()
        .find(|b| b["contenttype"] == "text/html")
        .expect("html body");
    assert_eq!(html_body["value"], article["bodyHtml"]);

    let rss = get_text(&room, "/feeds/all.rss", &partner).await.1;
    let feed = feed_rs::parser::parse(rss.as_bytes()).expect("RSS parses");
    let item = feed
        .entries
        .iter()
        .find(|e| {
            e.title
                .as_ref()
                .is_some_and(|t| t.content == "山東港口營收")
        })
        .expect("the article in the feed");
    let encoded = item
        .content
        .as_ref()
        .and_then(|c| c.body.clone())
        .unwrap_or_default();
    assert!(encoded.contains("<th>億元</th>"), "{encoded}");
    let json_feed: Value =
        serde_json::from_str(&get_text(&room, "/feeds/all.json", &partner).await.1)
            .expect("JSON Feed");
    let text = json_feed["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["title"] == "山東港口營收"))
        .map(|i| i["content_text"].to_string())
        .unwrap_or_default();
    assert!(text.contains("穩中求進") && text.contains("散貨"), "{text}");

    // Search reads table cells and captions too.
    let mut found = Value::Null;
    for _ in 0..50 {
        found = room
            .app
            .graphql_with(
                "query { search(query: \"貨櫃吞吐\") { totalCount nodes { article { databaseId } } } }",
                json!({}),
                &[],
            )
            .await
            .1;
        if found["data"]["search"]["totalCount"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        found["data"]["search"]["nodes"][0]["article"]["databaseId"], id,
        "{found}"
    );
}

/// Markup that has got past sanitisers before: script, event attributes,
/// `javascript:` in several spellings, CSS expressions, SVG and MathML
/// with script, mutation-XSS shapes, frames and forms.
const HOSTILE_HTML: &str = concat!(
    "<p onclick=\"alert(1)\" style=\"width:expression(alert(1))\">港口正文",
    "<a href=\"javascript:alert(1)\">一</a><a href=\" &#106;avascript:alert(1)\">二</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">三</a><a href=\"data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;\">四</a></p>",
    "<script>alert(1)</script><style>p { background: url(javascript:alert(1)) }</style>",
    "<svg onload=\"alert(1)\"><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    "<img src=\"x\" onerror=\"alert(1)\"><iframe src=\"javascript:alert(1)\"></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\" src=\"https://www.youtube.com/embed/x\"></iframe>",
    "<form action=\"javascript:alert(1)\"><button formaction=\"javascript:alert(1)\">按</button></form>",
    "<table><tr><td background=\"javascript:alert(1)\" onmouseover=\"alert(1)\">格</td></tr></table>",
    "<object data=\"javascript:alert(1)\"></object><embed src=\"javascript:alert(1)\">",
    "<blockquote><p>引言</p><footer onclick=\"alert(1)\">某人</footer></blockquote>",
);

both_engines!(hostile_html_never_reaches_any_output);
async fn hostile_html_never_reaches_any_output(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let key = partner_and_source(&room);
    let created = create(
        &room,
        json!({ "title": "港口正文", "section": "lin-yi", "source": "經濟導報", "bodyHtml": HOSTILE_HTML }),
    )
    .await;
    let id = created["data"]["createArticle"]["databaseId"]
        .as_i64()
        .unwrap_or_else(|| panic!("{created}"));
    let warnings = &created["data"]["createArticle"]["bodyWarnings"];
    let named: Vec<String> = warnings
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| {
            format!(
                "{}:{}",
                w["code"].as_str().unwrap_or(""),
                w["subject"].as_str().unwrap_or("")
            )
        })
        .collect();
    for want in [
        "DROPPED_ELEMENT:script",
        "DROPPED_ELEMENT:style",
        "DROPPED_ELEMENT:svg",
        "DROPPED_ELEMENT:math",
        "DROPPED_ELEMENT:noscript",
        "DROPPED_ELEMENT:form",
        "DROPPED_ELEMENT:object",
        "DROPPED_ATTRIBUTE:onclick",
        "DROPPED_ATTRIBUTE:style",
        "DROPPED_ATTRIBUTE:onmouseover",
        "UNSAFE_LINK:javascript",
        "UNSAFE_LINK:data",
        "IMAGE_NOT_UPLOADED:(no host)",
        "EMBED_NOT_ALLOWED:(no host)",
    ] {
        assert!(named.contains(&want.to_string()), "{want} not in {named:?}");
    }
    publish(&room, id).await;

    for (surface, text) in every_surface(&room, id, &key, "港口正文").await {
        let lower = text.to_ascii_lowercase();
        for bad in [
            "alert",
            "javascript",
            "expression(",
            "<script",
            "onerror",
            "onload",
            "onclick",
            "<svg",
            "<iframe",
            "srcdoc",
        ] {
            assert!(!lower.contains(bad), "{surface} carries {bad}: {text}");
        }
        assert!(text.contains("港口正文"), "{surface} lost the text: {text}");
    }
    // What could be kept was: the text of links, the table, the quote, the embed.
    let article = read(&room, id, "ORIGINAL").await;
    assert_eq!(article["paragraphs"][0], "港口正文一二三四");
    let html = article["bodyHtml"].as_str().expect("html");
    assert!(html.contains("<td>格</td>"), "{html}");
    assert!(html.contains("<footer>某人</footer>"), "{html}");
    assert!(html.contains(r#"data-provider="youtube""#), "{html}");
}

both_engines!(bad_blocks_are_refused_whole_and_named);
async fn bad_blocks_are_refused_whole_and_named(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let id = room.draft("editor", "草稿").await;
    let cases = [
        (
            json!([{ "embed": { "url": "https://evil.example/video" } }]),
            "blocks[0].embed.url",
        ),
        (
            json!([{ "paragraph": { "text": "x" } }, { "paragraph": { "runs": [{ "text": "鏈", "href": "javascript:alert(1)" }] } }]),
            "blocks[1].paragraph.runs[0].href",
        ),
        (
            json!([{ "heading": { "text": "大標", "level": 1 } }]),
            "blocks[0].heading.level",
        ),
        (
            json!([{ "paragraph": { "text": "  " } }]),
            "blocks[0].paragraph",
        ),
        (json!([{ "paragraph": {} }]), "blocks[0].paragraph"),
        (
            json!([{ "image": { "mediaId": "../../etc/passwd" } }]),
            "blocks[0].image.mediaId",
        ),
        (json!([{ "list": { "items": [] } }]), "blocks[0].list.items"),
        (
            json!([{ "table": { "rows": [vec!["1"; 51]] } }]),
            "blocks[0].table",
        ),
    ];
    let bearer = format!("Bearer {}", room.token("editor"));
    let update = "mutation($id: ID!, $input: UpdateArticleInput!) { updateArticle(id: $id, input: $input, expectedRevision: 1) { revision } }";
    for (blocks, field) in cases {
        let answer = room
            .app
            .graphql_with(
                update,
                json!({ "id": id.to_string(), "input": { "blocks": blocks } }),
                &[("authorization", &bearer)],
            )
            .await
            .1;
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{answer}"
        );
        let message = answer["errors"][0]["message"].as_str().unwrap_or("");
        assert!(message.starts_with(field), "{field}: {message}");
    }
    // Two fields of one block, and two ways of giving a body, are refused too.
    for input in [
        json!({ "blocks": [{ "paragraph": { "text": "x" }, "divider": true }] }),
        json!({ "blocks": [{ "divider": true }], "paragraphs": ["x"] }),
        json!({ "paragraphs": ["x"], "bodyHtml": "<p>x</p>" }),
    ] {
        let answer = room
            .app
            .graphql_with(
                update,
                json!({ "id": id.to_string(), "input": input }),
                &[("authorization", &bearer)],
            )
            .await
            .1;
        assert!(
            answer["errors"][0]["message"].is_string(),
            "{input}: {answer}"
        );
        assert!(
            answer["data"].is_null() || answer["data"]["updateArticle"].is_null(),
            "{answer}"
        );
    }
    // Markup nested 200,000 deep (a megabyte of `<div>`) is refused before it is parsed.
    let deep = room
        .app
        .graphql_with(
            update,
            json!({ "id": id.to_string(), "input": { "bodyHtml": "<div>".repeat(200_000) } }),
            &[("authorization", &bearer)],
        )
        .await
        .1;
    assert_eq!(
        deep["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{deep}"
    );
    assert!(
        deep["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("bodyHtml: must hold at most 10000 tags")),
        "{deep}"
    );
    // Nothing was written: the draft is still at revision 1 with its body.
    let read = room
        .as_user(
            Some(&room.token("editor")),
            &format!(r#"{{ article(id: "{id}", preview: true) {{ revision paragraphs bodyWarnings {{ code }} }} }}"#),
        )
        .await;
    assert_eq!(read["data"]["article"]["revision"], 1, "{read}");
    assert_eq!(read["data"]["article"]["paragraphs"], json!(["正文。"]));
    assert_eq!(read["data"]["article"]["bodyWarnings"], json!([]));

    // An update with HTML reports what it dropped, once; reading it again does not.
    let answer = room
        .app
        .graphql_with(
            "mutation($id: ID!) { updateArticle(id: $id, input: { bodyHtml: \"<p>新<script>x</script></p>\" }, expectedRevision: 1) { revision paragraphs bodyWarnings { code subject } } }",
            json!({ "id": id.to_string() }),
            &[("authorization", &bearer)],
        )
        .await
        .1;
    assert_eq!(
        answer["data"]["updateArticle"],
        json!({ "revision": 2, "paragraphs": ["新"], "bodyWarnings": [{ "code": "DROPPED_ELEMENT", "subject": "script" }] }),
        "{answer}"
    );
}
