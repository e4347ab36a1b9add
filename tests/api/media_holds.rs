//! Takedowns that name pictures: a withdrawn picture is withheld from every
//! surface (renditions, `media`, lead images, image blocks with their
//! captions, body HTML, REST, feeds, ninjs, search) until the last request
//! holding it ends, in whatever order the requests end, on every node.

use std::time::{Duration, Instant};

use image::ImageFormat;
use newsdesk::media::samples::picture;
use serde_json::{json, Value};

use crate::both_engines;
use crate::helpers::{assert_bad_input, newsdesk, Engine, Newsroom};
use crate::legal_holds::{decide, Step};
use crate::media::{upload, upload_with};

/// The renditions' URL prefix of picture `id`.
fn renditions(id: &str) -> String {
    format!("/media/{id}/")
}

/// A published article made through `createArticle` from `input`.
async fn article(room: &Newsroom, input: Value) -> i64 {
    let bearer = format!("Bearer {}", room.token("editor"));
    let answer = room
        .app
        .graphql_with(
            "mutation($input: CreateArticleInput!) { createArticle(input: $input) { databaseId } }",
            json!({ "input": input }),
            &[("authorization", &bearer)],
        )
        .await
        .1;
    let id = answer["data"]["createArticle"]["databaseId"]
        .as_i64()
        .unwrap_or_else(|| panic!("{answer}"));
    crate::bodies::publish(room, id).await;
    id
}

/// Files a request naming `media` as the claimant; its number.
async fn file(room: &Newsroom, media: &[&str]) -> Value {
    room.as_user(
        Some(&room.token("claimant")),
        &format!(
            r#"mutation {{ submitTakedownRequest(input: {{ claimantName: "王攝影", contactEmail: "photo@example.test",
                contactAddress: "濟南市某路2號", media: {media:?}, rightsStatement: "本人拍攝",
                reason: "未經授權使用照片", goodFaithStatement: true }}) {{ id mediaIds }} }}"#
        ),
    )
    .await
}

fn number(filed: &Value) -> i32 {
    crate::takedowns::filed_id(filed)
        .trim_start_matches("TD-")
        .parse()
        .expect("TD-n")
}

async fn get(room: &Newsroom, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = room.app.client.get(format!("{}{path}", room.app.address));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("get")
}

/// Everything a reader or partner can fetch about the two articles, as text.
async fn every_surface(room: &Newsroom, key: &str, articles: [i64; 2]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for article in articles {
        let graphql = room
            .app
            .graphql(&format!(
                r#"{{ article(id: "{article}") {{ leadImage {{ id url srcset }} bodyHtml body {{ ... on ImageBlock {{ mediaId alt caption credit withheld image {{ url srcset }} }} }} seo {{ openGraph {{ image {{ url alt }} }} twitter {{ image imageAlt }} }} jsonLd }} }}"#
            ))
            .await;
        out.push((format!("graphql {article}"), graphql.to_string()));
        for path in [
            format!("/v1/articles/{article}"),
            format!("/v1/ninjs/articles/{article}"),
        ] {
            let text = get(room, &path, &[("x-api-key", key)])
                .await
                .text()
                .await
                .expect("text");
            out.push((path, text));
        }
    }
    for path in [
        "/feeds/all.rss",
        "/feeds/all.atom",
        "/feeds/all.json",
        "/v1/ninjs/articles",
    ] {
        for headers in [vec![], vec![("x-api-key", key)]] {
            let text = get(room, path, &headers).await.text().await.expect("text");
            out.push((format!("{path} {}", headers.len()), text));
        }
    }
    out
}

/// Polls the search for `word` until it does (or does not) find `article`;
/// the index applies the change log after commit.
async fn search_finds(room: &Newsroom, word: &str, article: i64, wanted: bool) {
    let started = Instant::now();
    loop {
        let found = room
            .app
            .graphql_with(
                "query($q: String!) { search(query: $q, first: 50) { nodes { article { databaseId } snippet } } }",
                json!({ "q": word }),
                &[],
            )
            .await
            .1;
        let hit = found["data"]["search"]["nodes"]
            .as_array()
            .is_some_and(|n| n.iter().any(|h| h["article"]["databaseId"] == article));
        if hit == wanted {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "search for {word}: found {article} = {hit}, wanted {wanted}: {found}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The status of a rendition and its `Link` header.
async fn rendition(room: &Newsroom, id: &str, etag: Option<&str>) -> (u16, String, String) {
    let headers: Vec<(&str, &str)> = etag.map(|e| vec![("if-none-match", e)]).unwrap_or_default();
    let response = get(room, &format!("/media/{id}/320.jpg"), &headers).await;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    (
        response.status().as_u16(),
        header("link"),
        header("cache-control"),
    )
}

both_engines!(a_withdrawn_picture_is_gone_from_every_surface_until_its_last_hold_ends);
async fn a_withdrawn_picture_is_gone_from_every_surface_until_its_last_hold_ends(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    // The picture's maker is a contributor; the credit line follows.
    let (_, a) = upload_with(
        &room,
        "reporter-a",
        "a.png",
        &picture(1500, 1000, ImageFormat::Png),
        &[("photographer", " 王偉 ")],
    )
    .await;
    assert_eq!(
        (&a["photographer"], &a["credit"]),
        (&json!("王偉"), &json!("攝影 王偉")),
        "{a}"
    );
    let (_, b) = upload(
        &room,
        "reporter-a",
        "b.png",
        &picture(900, 600, ImageFormat::Png),
    )
    .await;
    let (a, b) = (
        a["id"].as_str().expect("a").to_string(),
        b["id"].as_str().expect("b").to_string(),
    );
    {
        let database = room.app.db.database();
        let mut conn = database.get().expect("connection");
        newsdesk::db::sources::find_or_create(&mut conn, "經濟導報", true).expect("source");
    }
    let made = newsdesk(&room.app.db.url, &["partner", "add", "portal"]);
    let key = String::from_utf8_lossy(&made.stdout)
        .lines()
        .last()
        .unwrap_or("")
        .to_string();
    let x = article(&room, json!({ "title": "日照港新碼頭", "section": "lin-yi", "source": "經濟導報", "leadImage": a,
        "byline": [{ "name": "劉慎平", "role": "REPORTER" }],
        "blocks": [{ "paragraph": { "text": "碼頭啟用。" } },
                   { "image": { "mediaId": a, "alt": "碼頭航拍", "caption": "獨家航拍", "credit": "攝影 王偉" } },
                   { "image": { "mediaId": b, "caption": "港區夜景" } }] })).await;
    let y = article(
        &room,
        json!({ "title": "港口新聞", "section": "lin-yi", "source": "經濟導報",
        "blocks": [{ "paragraph": { "text": "港口繁忙。" } },
                   { "image": { "mediaId": a, "caption": "鯨魚灣全景" } }] }),
    )
    .await;

    // Before: the picture is everywhere, and pages are in the caches.
    let before = every_surface(&room, &key, [x, y]).await;
    for (surface, text) in &before[..6] {
        assert!(
            text.contains(&renditions(&a)),
            "{surface} lacks the picture: {text}"
        );
    }
    let head: Value = serde_json::from_str(&before[0].1).expect("GraphQL answer");
    let head = &head["data"]["article"];
    for card in [
        &head["seo"]["openGraph"]["image"]["url"],
        &head["seo"]["twitter"]["image"],
        &head["jsonLd"],
    ] {
        assert!(
            card.as_str().is_some_and(|c| c.contains(&renditions(&a))),
            "the page head shows the lead picture: {head}"
        );
    }
    let (status, _, _) = rendition(&room, &a, None).await;
    assert_eq!(status, 200);
    let etag = get(&room, &format!("/media/{a}/320.jpg"), &[])
        .await
        .headers()["etag"]
        .to_str()
        .expect("etag")
        .to_string();
    search_finds(&room, "鯨魚灣", y, true).await;

    // Requests naming no picture of ours are refused, naming the element.
    for (media, wanted) in [
        (vec!["aaaaaaaaaaaaaaaaaaaaaaaa"], "media[0]"),
        (vec!["../etc"], "media[0]"),
    ] {
        let refused = file(&room, &media).await;
        assert_bad_input(&refused, wanted);
    }

    let first = file(&room, &[&a]).await;
    assert_eq!(
        first["data"]["submitTakedownRequest"]["mediaIds"],
        json!([a]),
        "{first}"
    );
    let first = number(&first);
    let second = number(&file(&room, &[&a]).await);
    let stream = get(&room, "/v1/stream", &[]).await;
    decide(&room, first, Step::Accept).await;
    let case = room
        .as_user(
            Some(&room.token("legal")),
            &format!(r#"{{ takedownRequest(id: "TD-{first}") {{ forwardedTo }} }}"#),
        )
        .await;
    let forwarded = &case["data"]["takedownRequest"]["forwardedTo"];
    for who in ["photographer:王偉", "contributor:劉慎平"] {
        assert!(
            forwarded.as_array().is_some_and(|f| f
                .iter()
                .any(|n| n.as_str().is_some_and(|n| n.starts_with(who)))),
            "{who} not in {case}"
        );
    }
    // Live updates: both articles showing the picture changed for readers.
    let text = crate::live::read_stream(stream, &format!("\"id\":{y},")).await;
    for article in [x, y] {
        let block = text
            .split("\n\n")
            .find(|b| b.contains(&format!("\"id\":{article},")))
            .unwrap_or_else(|| panic!("no event for {article}: {text}"));
        assert!(block.contains("event: updated"), "{block}");
    }

    // Withheld: renditions answer 451 (also to a client holding the tag),
    // `media` answers UNAVAILABLE_FOR_LEGAL_REASONS, and no page shows it.
    let check_withheld = |by: i32| {
        let (room, a, b, key, etag) = (&room, a.clone(), b.clone(), key.clone(), etag.clone());
        async move {
            for tag in [None, Some(etag.as_str())] {
                let (status, link, cache) = rendition(room, &a, tag).await;
                assert_eq!(status, 451, "tag {tag:?}");
                assert!(
                    link.contains(&format!("/takedowns/TD-{by}>; rel=\"blocked-by\"")),
                    "{link}"
                );
                assert_eq!(cache, "no-store");
            }
            assert_eq!(
                rendition(room, &b, None).await.0,
                200,
                "the other picture stays"
            );
            let asked = room
                .app
                .graphql(&format!(r#"{{ media(id: "{a}") {{ id }} }}"#))
                .await;
            assert_eq!(asked["data"]["media"], Value::Null, "{asked}");
            assert_eq!(
                asked["errors"][0]["extensions"]["code"], "UNAVAILABLE_FOR_LEGAL_REASONS",
                "{asked}"
            );
            for (surface, text) in every_surface(room, &key, [x, y]).await {
                for gone in [
                    renditions(&a).as_str(),
                    "獨家航拍",
                    "攝影 王偉",
                    "碼頭航拍",
                    "鯨魚灣",
                ] {
                    assert!(!text.contains(gone), "{gone} still on {surface}: {text}");
                }
            }
            let page = room
                .app
                .graphql(&format!(
                    r#"{{ article(id: "{x}") {{ leadImage {{ id }} bodyHtml body {{ ... on ImageBlock {{ mediaId caption withheld image {{ id }} }} }} }} }}"#
                ))
                .await;
            let page = &page["data"]["article"];
            assert_eq!(page["leadImage"], Value::Null, "{page}");
            assert_eq!(
                page["body"][1],
                json!({ "mediaId": a, "caption": null, "withheld": true, "image": null })
            );
            assert_eq!(page["body"][2]["image"]["id"], b.as_str(), "{page}");
            assert!(
                page["bodyHtml"].as_str().is_some_and(
                    |h| h.contains(r#"<figure class="nd-image nd-withheld"></figure>"#)
                ),
                "{page}"
            );
            let rest: Value = get(room, &format!("/v1/articles/{x}"), &[])
                .await
                .json()
                .await
                .expect("REST");
            assert_eq!(rest["leadImage"], Value::Null, "{rest}");
            assert_eq!(rest["body"][1]["withheld"], true, "{rest}");
        }
    };
    check_withheld(first).await;
    search_finds(&room, "鯨魚灣", y, false).await;
    // The article itself is not withdrawn: its text stays.
    search_finds(&room, "港口繁忙", y, true).await;

    // A second request holds it too; ending either one alone changes nothing.
    decide(&room, second, Step::Review).await;
    decide(&room, second, Step::Provisional).await;
    decide(&room, first, Step::Counter).await;
    decide(&room, first, Step::Restore).await;
    check_withheld(second).await;
    decide(&room, second, Step::Reject).await;

    // The last hold released: back on every surface, and in search.
    assert_eq!(rendition(&room, &a, None).await.0, 200);
    assert_eq!(rendition(&room, &a, Some(&etag)).await.0, 304);
    let after = every_surface(&room, &key, [x, y]).await;
    for ((surface, was), (_, is)) in before.iter().zip(&after) {
        if was.contains(&renditions(&a)) {
            assert!(
                is.contains(&renditions(&a)),
                "{surface} did not get the picture back: {is}"
            );
        }
    }
    search_finds(&room, "鯨魚灣", y, true).await;
}

both_engines!(holds_on_a_picture_end_in_any_order);
async fn holds_on_a_picture_end_in_any_order(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    // Each path: the decisions on two requests naming one picture, and
    // whether the picture is withheld after each.
    let paths: [&[(usize, Step, bool)]; 3] = [
        &[
            (0, Step::Accept, true),
            (1, Step::Accept, true),
            (0, Step::Counter, true),
            (0, Step::Restore, true),
            (1, Step::Counter, true),
            (1, Step::Restore, false),
        ],
        &[
            (0, Step::Review, false),
            (0, Step::Provisional, true),
            (1, Step::Accept, true),
            (0, Step::Reject, true),
            (1, Step::Counter, true),
            (1, Step::Uphold, true),
        ],
        &[
            (0, Step::Review, false),
            (0, Step::Provisional, true),
            (0, Step::Accept, true),
            (1, Step::Reject, true),
            (0, Step::Counter, true),
            (0, Step::Restore, false),
        ],
    ];
    for (n, path) in paths.iter().enumerate() {
        let png = picture(400 + n as u32 * 10, 300, ImageFormat::Png);
        let (_, uploaded) = upload(&room, "reporter-a", "p.png", &png).await;
        let id = uploaded["id"].as_str().expect("id").to_string();
        let x = article(
            &room,
            json!({ "title": format!("圖片{n}"), "section": "lin-yi", "leadImage": id }),
        )
        .await;
        let requests = [
            number(&file(&room, &[&id]).await),
            number(&file(&room, &[&id]).await),
        ];
        for (i, step, withheld) in path.iter().copied() {
            decide(&room, requests[i], step).await;
            let status = rendition(&room, &id, None).await.0;
            let lead = room
                .app
                .graphql(&format!(
                    r#"{{ article(id: "{x}") {{ leadImage {{ id }} }} }}"#
                ))
                .await;
            assert_eq!(
                (status, lead["data"]["article"]["leadImage"].is_null()),
                (if withheld { 451 } else { 200 }, withheld),
                "path {n}, after {step:?} on request {i}: {lead}"
            );
        }
    }
}

both_engines!(the_same_picture_uploaded_at_once_is_one_asset);
async fn the_same_picture_uploaded_at_once_is_one_asset(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let png = picture(700, 500, ImageFormat::Png);
    let answers = futures_util::future::join_all(
        (0..8).map(|_| upload(&room, "reporter-a", "same.png", &png)),
    )
    .await;
    let mut statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    statuses.sort_unstable();
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 201),
        "{answers:?}"
    );
    let ids: std::collections::BTreeSet<&str> = answers
        .iter()
        .filter_map(|(_, a)| a["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    assert_eq!(room.app.db.row_counts()["media"], 1);
}

/// On PostgreSQL with two nodes: a picture withheld through one node is
/// withheld on the other at once, its cached pages included.
#[tokio::test]
async fn a_picture_withheld_on_one_node_is_withheld_on_the_other() {
    let Some(room) = Newsroom::open(Engine::Postgres).await else {
        return;
    };
    let node = crate::nodes::second_node(&room).await;
    let (_, a) = upload(
        &room,
        "reporter-a",
        "a.png",
        &picture(640, 480, ImageFormat::Png),
    )
    .await;
    let a = a["id"].as_str().expect("id").to_string();
    let x = article(
        &room,
        json!({ "title": "兩節點", "section": "lin-yi", "leadImage": a }),
    )
    .await;
    let page = format!("{node}/v1/articles/{x}");
    let lead = |client: reqwest::Client, page: String| async move {
        let body: Value = client
            .get(&page)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        body["leadImage"]["id"].as_str().map(str::to_string)
    };
    assert_eq!(
        lead(room.app.client.clone(), page.clone()).await.as_deref(),
        Some(a.as_str())
    );
    let request = number(&file(&room, &[&a]).await);
    decide(&room, request, Step::Accept).await;
    let status = room
        .app
        .client
        .get(format!("{node}/media/{a}/320.jpg"))
        .send()
        .await
        .expect("get")
        .status();
    assert_eq!(status.as_u16(), 451);
    let started = Instant::now();
    while lead(room.app.client.clone(), page.clone()).await.is_some() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "node B still shows the picture"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Two uploads of one picture racing on PostgreSQL: the second looks, finds
/// nothing (the first has not committed), and inserts; its insert waits for
/// the first to commit and then meets the primary key. It must answer with
/// the first one's row, in a transaction that goes on.
#[test]
fn an_upload_that_loses_the_race_for_its_id_answers_the_winners_row() {
    use diesel::Connection;
    use newsdesk::db::media::{insert_or_existing, MediaRow};
    let Some(db) = crate::helpers::TestDb::new(Engine::Postgres) else {
        return;
    };
    crate::helpers::migrate(&db);
    let row = |alt: &str| MediaRow {
        id: "0123456789abcdef01234567".into(),
        content_type: "image/png".into(),
        width: 10,
        height: 10,
        bytes: 100,
        blurhash: "L00000fQfQfQfQfQfQfQfQfQfQfQ".into(),
        alt: alt.into(),
        caption: String::new(),
        credit: String::new(),
        source: String::new(),
        rights: String::new(),
        uploaded_by: None,
        created_at: newsdesk::db::now(),
        held_since: None,
        photographer_id: None,
        photographer: None,
    };
    let database = db.database();
    let (inserted_tx, inserted_rx) = std::sync::mpsc::channel();
    let first = {
        let database = database.clone();
        let first = row("first");
        std::thread::spawn(move || {
            let mut conn = database.get().expect("connection");
            conn.transaction(|conn| {
                let kept = insert_or_existing(conn, &first)?;
                inserted_tx.send(()).expect("send");
                // Long enough for the second to look and reach its insert.
                std::thread::sleep(Duration::from_millis(500));
                Ok::<_, newsdesk::error::AppError>(kept)
            })
            .expect("first")
        })
    };
    inserted_rx.recv().expect("first inserted");
    let mut conn = database.get().expect("connection");
    let second = conn
        .transaction(|conn| {
            let kept = insert_or_existing(conn, &row("second"))?;
            // The transaction is still usable after the lost insert.
            newsdesk::db::media::by_ids(conn, std::slice::from_ref(&kept.id))?;
            Ok::<_, newsdesk::error::AppError>(kept)
        })
        .expect("the second upload answers");
    assert_eq!(first.join().expect("thread").alt, "first");
    assert_eq!(second.alt, "first");
}
