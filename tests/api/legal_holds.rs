//! A takedown withdraws an article by placing a legal hold on it. Several
//! requests may hold one article; it is public again only when the last hold
//! is released, and a takedown never changes the editorial status.

use serde_json::{json, Value};

use crate::both_engines;
use crate::fixtures::file_takedown;
use crate::helpers::Engine;
use crate::helpers::Newsroom;
use crate::takedowns::published;

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("OK")
}

/// One decision on a request, as legal or the newsroom makes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Step {
    Review,
    Provisional,
    Accept,
    Reject,
    Counter,
    Uphold,
    Restore,
}

impl Step {
    /// Whether the request holds the article after this step (`None`: unchanged).
    fn holds(self) -> Option<bool> {
        match self {
            Step::Provisional | Step::Accept => Some(true),
            Step::Reject | Step::Restore => Some(false),
            _ => None,
        }
    }
}

/// The ways a request can go, start to end.
const PATHS: &[(&str, &[Step])] = &[
    (
        "rejected after a provisional withdrawal",
        &[Step::Review, Step::Provisional, Step::Reject],
    ),
    (
        "accepted and upheld",
        &[Step::Accept, Step::Counter, Step::Uphold],
    ),
    (
        "accepted and restored",
        &[Step::Accept, Step::Counter, Step::Restore],
    ),
];

pub(crate) async fn decide(room: &Newsroom, request: i32, step: Step) {
    let id = format!("TD-{request}");
    let (who, mutation) = match step {
        Step::Review => (
            "legal",
            format!(r#"startTakedownReview(id: "{id}") {{ state }}"#),
        ),
        Step::Provisional => (
            "legal",
            format!(r#"withdrawArticleProvisionally(id: "{id}") {{ state }}"#),
        ),
        Step::Accept => (
            "legal",
            format!(r#"acceptTakedownRequest(id: "{id}") {{ state }}"#),
        ),
        Step::Reject => (
            "legal",
            format!(r#"rejectTakedownRequest(id: "{id}", reason: "權屬不清") {{ state }}"#),
        ),
        Step::Counter => (
            "editor",
            format!(
                r#"fileCounterNotice(id: "{id}", input: {{name: "經濟導報", contact: "0531-85196503", address: "濟南市濼源大街2號", statement: "持有轉載授權"}}) {{ state }}"#
            ),
        ),
        Step::Uphold => (
            "legal",
            format!(r#"decideCounterNotice(id: "{id}", restore: false) {{ state }}"#),
        ),
        Step::Restore => (
            "legal",
            format!(r#"decideCounterNotice(id: "{id}", restore: true) {{ state }}"#),
        ),
    };
    let answer = room
        .as_user(
            Some(&room.token(who)),
            &format!("mutation {{ {mutation} }}"),
        )
        .await;
    assert!(answer.get("errors").is_none(), "{step:?} on {id}: {answer}");
}

/// What a reader gets for the article over REST: the status, and the
/// tombstone's request references when it is withdrawn.
async fn reader_view(room: &Newsroom, article: i32) -> (u16, Vec<String>) {
    let response = room
        .app
        .client
        .get(format!("{}/v1/articles/{article}", room.app.address))
        .send()
        .await
        .expect("get");
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("json");
    let references = body["tombstone"]["requestReferences"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    (status, references)
}

async fn feed(room: &Newsroom, path: &str) -> String {
    room.app
        .client
        .get(format!("{}{path}", room.app.address))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body")
}

/// Every way two requests' steps can interleave, keeping each one's order.
fn interleavings(a: usize, b: usize) -> Vec<Vec<bool>> {
    if a == 0 || b == 0 {
        return vec![std::iter::repeat_n(a > 0, a + b).collect()];
    }
    let mut out = Vec::new();
    for mut rest in interleavings(a - 1, b) {
        rest.insert(0, true);
        out.push(rest);
    }
    for mut rest in interleavings(a, b - 1) {
        rest.insert(0, false);
        out.push(rest);
    }
    out
}

both_engines!(two_requests_on_one_article_in_every_order_keep_it_withdrawn_while_either_holds_it);
async fn two_requests_on_one_article_in_every_order_keep_it_withdrawn_while_either_holds_it(
    engine: Engine,
) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let mut scenario = 0;
    for (first_name, first) in PATHS {
        for (second_name, second) in PATHS {
            for order in interleavings(first.len(), second.len()) {
                scenario += 1;
                let article = published(
                    &room,
                    &format!("稿件{scenario}"),
                    &format!("story-{scenario}"),
                    1,
                );
                let (a, b) = {
                    let database = room.app.db.database();
                    let mut conn = database.get().expect("connection");
                    (
                        file_takedown(&mut conn, &[article]),
                        file_takedown(&mut conn, &[article]),
                    )
                };
                let (mut next_a, mut next_b) = (0, 0);
                // The model: which requests hold the article, in the order placed.
                let mut holding: Vec<i32> = Vec::new();
                for takes_first in &order {
                    let (request, step) = if *takes_first {
                        next_a += 1;
                        (a, first[next_a - 1])
                    } else {
                        next_b += 1;
                        (b, second[next_b - 1])
                    };
                    decide(&room, request, step).await;
                    match step.holds() {
                        Some(true) if !holding.contains(&request) => holding.push(request),
                        Some(false) => holding.retain(|r| *r != request),
                        _ => {}
                    }
                    let expected: Vec<String> = holding.iter().map(|r| format!("TD-{r}")).collect();
                    let (status, references) = reader_view(&room, article).await;
                    let context = format!(
                        "A {first_name}, B {second_name}, after {step:?} on TD-{request} (order {order:?})"
                    );
                    if holding.is_empty() {
                        assert_eq!(status, 200, "{context}");
                    } else {
                        assert_eq!(status, 451, "{context}");
                        assert_eq!(references, expected, "{context}");
                    }
                }
                let rss = feed(&room, "/feeds/lin-yi.rss").await;
                assert_eq!(
                    rss.contains(&format!("story-{scenario}")),
                    holding.is_empty(),
                    "A {first_name}, B {second_name}: the feed disagrees with the holds"
                );
            }
        }
    }
}

both_engines!(an_article_held_by_three_requests_comes_back_only_after_the_last_release);
async fn an_article_held_by_three_requests_comes_back_only_after_the_last_release(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let article = published(&room, "三方投訴稿", "three-claims", 2);
    let other = published(&room, "旁邊的稿件", "neighbour", 1);
    let [a, b, c] = {
        let database = room.app.db.database();
        let mut conn = database.get().expect("connection");
        [(); 3].map(|_| file_takedown(&mut conn, &[article]))
    };
    decide(&room, a, Step::Accept).await;
    decide(&room, b, Step::Accept).await;
    decide(&room, c, Step::Review).await;
    decide(&room, c, Step::Provisional).await;
    assert_eq!(
        reader_view(&room, article).await,
        (
            451,
            vec![format!("TD-{a}"), format!("TD-{b}"), format!("TD-{c}")]
        )
    );

    decide(&room, c, Step::Reject).await;
    decide(&room, a, Step::Counter).await;
    decide(&room, a, Step::Restore).await;
    let withdrawn = reader_view(&room, article).await;
    let removed = room
        .app
        .graphql(r#"{ removedArticles(since: "2020-01-01T00:00:00Z") { databaseId requestReference requestReferences } }"#)
        .await;
    decide(&room, b, Step::Counter).await;
    decide(&room, b, Step::Restore).await;
    let back = reader_view(&room, article).await;
    let listed = room
        .app
        .graphql(r#"{ articles { totalCount } search(query: "三方投訴稿") { totalCount } removedArticles(since: "2020-01-01T00:00:00Z") { databaseId } }"#)
        .await;

    assert_eq!(withdrawn, (451, vec![format!("TD-{b}")]));
    assert_eq!(
        removed["data"]["removedArticles"],
        json!([{ "databaseId": article, "requestReference": format!("TD-{b}"), "requestReferences": [format!("TD-{b}")] }])
    );
    assert_eq!(back.0, 200);
    assert_eq!(listed["data"]["articles"]["totalCount"], 2, "{listed}");
    assert_eq!(listed["data"]["search"]["totalCount"], 1, "{listed}");
    assert_eq!(listed["data"]["removedArticles"], json!([]));
    assert!(feed(&room, "/feeds/all.rss").await.contains("three-claims"));
    let _ = other;
}

/// The editor's view of an article's status.
async fn editorial_view(room: &Newsroom, article: i32) -> Value {
    let answer = room
        .as_user(
            Some(&room.token("editor")),
            &format!(r#"{{ article(id: "{article}", preview: true) {{ status revision }} }}"#),
        )
        .await;
    answer["data"]["article"].clone()
}

both_engines!(a_takedown_never_changes_the_editorial_status_of_a_deleted_or_unpublished_article);
async fn a_takedown_never_changes_the_editorial_status_of_a_deleted_or_unpublished_article(
    engine: Engine,
) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let editor = room.token("editor");
    for (change, status) in [("deleteArticle", "DELETED"), ("unpublishArticle", "DRAFT")] {
        let article = published(&room, &format!("{change}稿"), &format!("{change}-story"), 1);
        let request = {
            let database = room.app.db.database();
            let mut conn = database.get().expect("connection");
            file_takedown(&mut conn, &[article])
        };
        decide(&room, request, Step::Accept).await;
        let changed = room
            .as_user(
                Some(&editor),
                &format!(r#"mutation {{ {change}(id: "{article}") {{ status }} }}"#),
            )
            .await;
        decide(&room, request, Step::Counter).await;
        decide(&room, request, Step::Restore).await;

        assert_eq!(changed[change]["status"], Value::Null, "{changed}");
        assert_eq!(changed["data"][change]["status"], status, "{changed}");
        let after = editorial_view(&room, article).await;
        assert_eq!(after["status"], status, "{change}: {after}");
        assert_eq!(reader_view(&room, article).await.0, 404, "{change}");
        assert!(!feed(&room, "/feeds/all.rss")
            .await
            .contains(&format!("{change}-story")));
    }
}

both_engines!(a_held_article_can_be_edited_but_not_published_or_scheduled);
async fn a_held_article_can_be_edited_but_not_published_or_scheduled(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let editor = room.token("editor");
    let article = published(&room, "被扣留的稿件", "held-story", 1);
    let request = {
        let database = room.app.db.database();
        let mut conn = database.get().expect("connection");
        file_takedown(&mut conn, &[article])
    };
    decide(&room, request, Step::Review).await;
    decide(&room, request, Step::Provisional).await;
    let before = editorial_view(&room, article).await;
    let held_view = reader_view(&room, article).await;

    let edited = room
        .as_user(
            Some(&editor),
            &format!(
                r#"mutation {{ updateArticle(id: "{article}", expectedRevision: {}, input: {{summary: "更正後的摘要"}}) {{ revision }} }}"#,
                before["revision"]
            ),
        )
        .await;
    let republished = room
        .as_user(
            Some(&editor),
            &format!(r#"mutation {{ publishArticle(id: "{article}") {{ status }} }}"#),
        )
        .await;
    let scheduled = room
        .as_user(
            Some(&editor),
            &format!(r#"mutation {{ publishArticle(id: "{article}", at: "2099-01-01T08:00:00+08:00") {{ status }} }}"#),
        )
        .await;
    let unpublished = room
        .as_user(
            Some(&editor),
            &format!(r#"mutation {{ unpublishArticle(id: "{article}") {{ status }} }}"#),
        )
        .await;
    let published_again = room
        .as_user(
            Some(&editor),
            &format!(r#"mutation {{ publishArticle(id: "{article}") {{ status }} }}"#),
        )
        .await;

    assert_eq!(before["status"], "PUBLISHED");
    assert_eq!(held_view, (451, vec![format!("TD-{request}")]));
    assert_eq!(
        edited["data"]["updateArticle"]["revision"],
        before["revision"].as_i64().expect("revision") + 1,
        "{edited}"
    );
    assert_eq!(code(&republished), "LEGAL_HOLD", "{republished}");
    assert_eq!(code(&scheduled), "LEGAL_HOLD", "{scheduled}");
    assert_eq!(unpublished["data"]["unpublishArticle"]["status"], "DRAFT");
    assert_eq!(code(&published_again), "LEGAL_HOLD", "{published_again}");
    assert_eq!(
        reader_view(&room, article).await.0,
        404,
        "unpublished while held"
    );

    // Once released, the newsroom publishes as usual.
    decide(&room, request, Step::Reject).await;
    let finally = room
        .as_user(
            Some(&editor),
            &format!(r#"mutation {{ publishArticle(id: "{article}") {{ status summary }} }}"#),
        )
        .await;
    assert_eq!(
        finally["data"]["publishArticle"]["status"], "PUBLISHED",
        "{finally}"
    );
    assert_eq!(reader_view(&room, article).await.0, 200);
}

both_engines!(a_scheduled_time_that_comes_during_a_hold_waits_for_the_release);
async fn a_scheduled_time_that_comes_during_a_hold_waits_for_the_release(engine: Engine) {
    let Some(room) = Newsroom::open_with(engine, &[("NEWSDESK_SCHEDULER_POLL_MS", "100")]).await
    else {
        return;
    };
    let editor = room.token("editor");
    let article = published(&room, "定時稿件", "timed-story", 1);
    let request = {
        let database = room.app.db.database();
        let mut conn = database.get().expect("connection");
        file_takedown(&mut conn, &[article])
    };
    let at = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let rescheduled = room
        .as_user(
            Some(&editor),
            &format!(r#"mutation {{ publishArticle(id: "{article}", at: "{at}") {{ status }} }}"#),
        )
        .await;
    decide(&room, request, Step::Review).await;
    decide(&room, request, Step::Provisional).await;
    tokio::time::sleep(std::time::Duration::from_millis(3000)).await;
    let during = editorial_view(&room, article).await;
    let reader_during = reader_view(&room, article).await;
    decide(&room, request, Step::Reject).await;
    let reader_after = reader_view(&room, article).await;
    let mut status_after = Value::Null;
    for _ in 0..50 {
        status_after = editorial_view(&room, article).await["status"].clone();
        if status_after == "PUBLISHED" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    assert_eq!(
        rescheduled["data"]["publishArticle"]["status"], "SCHEDULED",
        "{rescheduled}"
    );
    assert_eq!(
        during["status"], "SCHEDULED",
        "the scheduler published past the hold"
    );
    assert_eq!(reader_during, (451, vec![format!("TD-{request}")]));
    assert_eq!(reader_after.0, 200);
    assert_eq!(status_after, "PUBLISHED");
}

both_engines!(the_removal_feed_and_a_feed_revalidated_by_date_follow_a_withdrawal_at_once);
async fn the_removal_feed_and_a_feed_revalidated_by_date_follow_a_withdrawal_at_once(
    engine: Engine,
) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let older = published(&room, "較早的稿件", "older-story", 3);
    let newest = published(&room, "最新的稿件", "newest-story", 1);
    let get = |path: &str, headers: Vec<(&'static str, String)>| {
        let mut request = room.app.client.get(format!("{}{path}", room.app.address));
        for (k, v) in headers {
            request = request.header(k, v);
        }
        request.send()
    };
    let removed_graphql = r#"/graphql?query=%7BremovedArticles(since%3A%222020-01-01T00%3A00%3A00Z%22)%7BdatabaseId%7D%7D"#;
    // Warm every cache.
    for _ in 0..2 {
        get("/v1/removed?since=2020-01-01T00:00:00Z", vec![])
            .await
            .expect("get");
        get(removed_graphql, vec![]).await.expect("get");
    }
    // HTTP dates count seconds: a date is a validator once its second is over.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let first = get("/feeds/lin-yi.rss", vec![]).await.expect("get");
    let last_modified = first.headers()["last-modified"]
        .to_str()
        .expect("date")
        .to_string();

    let request = {
        let database = room.app.db.database();
        let mut conn = database.get().expect("connection");
        file_takedown(&mut conn, &[newest])
    };
    decide(&room, request, Step::Accept).await;
    let revalidated = get(
        "/feeds/lin-yi.rss",
        vec![("if-modified-since", last_modified.clone())],
    )
    .await
    .expect("get");
    let status = revalidated.status();
    let body = revalidated.text().await.expect("body");
    let rest_removed: Value = get("/v1/removed?since=2020-01-01T00:00:00Z", vec![])
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let graphql_removed: Value = get(removed_graphql, vec![])
        .await
        .expect("get")
        .json()
        .await
        .expect("json");

    assert_eq!(status, 200, "a revalidation by date missed the withdrawal");
    assert!(!body.contains("newest-story") && body.contains("older-story"));
    assert_eq!(
        rest_removed["items"][0]["databaseId"], newest,
        "{rest_removed}"
    );
    assert_eq!(
        graphql_removed["data"]["removedArticles"],
        json!([{ "databaseId": newest }])
    );

    // Back again: a copy validated after the withdrawal is stale too.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let withdrawn = get("/feeds/lin-yi.atom", vec![]).await.expect("get");
    let withdrawn_modified = withdrawn.headers()["last-modified"]
        .to_str()
        .expect("date")
        .to_string();
    assert_ne!(withdrawn_modified, last_modified);
    decide(&room, request, Step::Counter).await;
    decide(&room, request, Step::Restore).await;
    let after_release = get(
        "/feeds/lin-yi.atom",
        vec![("if-modified-since", withdrawn_modified)],
    )
    .await
    .expect("get");
    assert_eq!(after_release.status(), 200);
    assert!(after_release
        .text()
        .await
        .expect("body")
        .contains("newest-story"));
    let rest_removed: Value = get("/v1/removed?since=2020-01-01T00:00:00Z", vec![])
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(rest_removed["items"], json!([]));
    let _ = older;
}

both_engines!(an_editor_sees_a_takedown_case_without_the_claimants_contact_details);
async fn an_editor_sees_a_takedown_case_without_the_claimants_contact_details(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let article = published(&room, "爭議稿件", "disputed", 1);
    let filed = room
        .as_user(
            Some(&room.token("claimant")),
            &format!(
                r#"mutation {{ submitTakedownRequest(input: {{ claimantName: "王權利", contactPhone: "13800000000", contactEmail: "rights@example.test",
                   contactAddress: "濟南市某路1號", articles: ["{article}"], rightsStatement: "本社擁有該作品著作權",
                   reason: "未經授權轉載", goodFaithStatement: true }}) {{ id }} }}"#
            ),
        )
        .await;
    let id = filed["data"]["submitTakedownRequest"]["id"]
        .as_str()
        .expect("filed")
        .to_string();
    let request: i32 = id.trim_start_matches("TD-").parse().expect("id");
    decide(&room, request, Step::Accept).await;
    let fields = format!(
        r#"{{ takedownRequest(id: "{id}") {{ claimantName contactPhone contactEmail contactAddress }} }}"#
    );

    let editor = room.as_user(Some(&room.token("editor")), &fields).await;
    let legal = room.as_user(Some(&room.token("legal")), &fields).await;
    let admin = room.as_user(Some(&room.token("admin")), &fields).await;
    let claimant = room.as_user(Some(&room.token("claimant")), &fields).await;

    assert_eq!(
        editor["data"]["takedownRequest"],
        json!({ "claimantName": "王權利", "contactPhone": null, "contactEmail": null, "contactAddress": null }),
        "{editor}"
    );
    let full = json!({ "claimantName": "王權利", "contactPhone": "13800000000",
                       "contactEmail": "rights@example.test", "contactAddress": "濟南市某路1號" });
    assert_eq!(legal["data"]["takedownRequest"], full);
    assert_eq!(admin["data"]["takedownRequest"], full);
    assert_eq!(claimant["data"]["takedownRequest"], full);
}

both_engines!(public_search_scores_do_not_change_when_hidden_drafts_share_a_word);
async fn public_search_scores_do_not_change_when_hidden_drafts_share_a_word(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    published(&room, "港口吞吐量創新高", "port-record", 2);
    published(&room, "港口物流園開工", "port-park", 1);
    published(&room, "銀行信貸投放增加", "bank-loans", 1);
    let scores = || async {
        room.app
            .graphql(r#"{ search(query: "港口") { totalCount nodes { score article { slug } } } }"#)
            .await["data"]["search"]
            .clone()
    };
    let before = scores().await;
    for n in 0..3 {
        room.draft("reporter-a", &format!("港口草稿{n}")).await;
    }
    let after = scores().await;

    assert_eq!(before["totalCount"], 2, "{before}");
    assert_eq!(after["totalCount"], before["totalCount"], "{after}");
    // The same hits in the same order with the same scores, but for the
    // freshness boost having moved on by the seconds between the searches
    // (about 1e-7 of a score per second); a changed BM25 statistic moves a
    // score by percents.
    let ranked = |page: &serde_json::Value| -> Vec<(String, f64)> {
        page["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| {
                let slug = n["article"]["slug"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                (slug, n["score"].as_f64().unwrap_or(f64::NAN))
            })
            .collect()
    };
    let (was, now) = (ranked(&before), ranked(&after));
    assert_eq!(was.len(), now.len(), "{before} / {after}");
    for ((slug, a), (again, b)) in was.iter().zip(&now) {
        assert_eq!(
            slug, again,
            "hidden drafts changed the order: {before} / {after}"
        );
        assert!(
            ((a - b) / a).abs() < 1e-5,
            "hidden drafts changed public scores: {before} / {after}"
        );
    }
}
