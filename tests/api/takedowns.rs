//! Takedown requests: filing, deciding, withdrawal from every surface at
//! once, counter-notice and restoration, and the bad inputs on the way.

use chrono::Duration;
use newsdesk::db::users;
use newsdesk::domain::{CreditRole, Role};
use serde_json::{json, Value};

use crate::both_engines;
use crate::fixtures::{recommend, ArticleBuilder};
use crate::helpers::{Engine, TestApp};
use crate::helpers::{Newsroom, SECRET};

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("OK")
}

/// A published article in `lin-yi` with a byline and an editor, plus a second one beside it.
pub fn published(room: &Newsroom, title: &str, slug: &str, days_ago: i64) -> i32 {
    let database = room.app.db.database();
    let mut conn = database.get().expect("connection");
    let section = newsdesk::db::sections::by_slug(&mut conn, "lin-yi")
        .expect("q")
        .expect("section")
        .id;
    let id = ArticleBuilder::new(section, title)
        .slug(slug)
        .published_at(newsdesk::db::now() - Duration::days(days_ago))
        .credit("劉慎平", CreditRole::Reporter)
        .credit("付建", CreditRole::Editor)
        .insert(&mut conn);
    newsdesk::search::index_article(&mut conn, id).expect("index");
    id
}

pub fn notice(article: i32) -> String {
    format!(
        r#"{{ claimantName: "王權利", organisation: "某出版社", contactEmail: "rights@example.test",
              contactAddress: "濟南市某路1號", articles: ["{article}"], rightsStatement: "本社擁有該作品著作權",
              evidenceLinks: ["https://example.test/proof"], reason: "未經授權轉載", goodFaithStatement: true }}"#
    )
}

/// The id of the request a `submitTakedownRequest` answer filed.
pub fn filed_id(filed: &Value) -> String {
    filed["data"]["submitTakedownRequest"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("not filed: {filed}"))
        .to_string()
}

const REQUEST_FIELDS: &str = "id state late overdue articleIds forwardedTo events { actorRole fromState toState forwardedTo }";

both_engines!(
    an_accepted_takedown_withdraws_the_article_everywhere_and_a_counter_notice_restores_it
);
async fn an_accepted_takedown_withdraws_the_article_everywhere_and_a_counter_notice_restores_it(
    engine: Engine,
) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let target = published(&room, "被投訴稿件甲", "disputed-story", 2);
    let other = published(&room, "無關稿件乙", "other-story", 1);
    {
        let database = room.app.db.database();
        let mut conn = database.get().expect("connection");
        recommend(
            &mut conn,
            &[(target, "被投訴稿件甲"), (other, "無關稿件乙")],
        );
    }
    let claimant = room.token("claimant");
    let legal = room.token("legal");

    let filed = room
        .as_user(
            Some(&claimant),
            &format!(
                "mutation {{ submitTakedownRequest(input: {}) {{ {REQUEST_FIELDS} }} }}",
                notice(target)
            ),
        )
        .await;
    let id = filed_id(&filed);
    let review = room
        .as_user(
            Some(&legal),
            &format!(r#"mutation {{ startTakedownReview(id: "{id}") {{ state }} }}"#),
        )
        .await;
    let accepted = room
        .as_user(Some(&legal), &format!(r#"mutation {{ acceptTakedownRequest(id: "{id}", note: "權屬清楚") {{ {REQUEST_FIELDS} }} }}"#))
        .await;

    assert_eq!(
        filed["data"]["submitTakedownRequest"]["state"], "RECEIVED",
        "{filed}"
    );
    assert_eq!(filed["data"]["submitTakedownRequest"]["late"], false);
    assert_eq!(
        review["data"]["startTakedownReview"]["state"],
        "UNDER_REVIEW"
    );
    let decided = &accepted["data"]["acceptTakedownRequest"];
    assert_eq!(decided["state"], "ACCEPTED", "{accepted}");
    assert_eq!(
        decided["forwardedTo"],
        json!(["contributor:劉慎平", "editor:付建"])
    );
    let steps: Vec<&str> = decided["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["toState"].as_str())
        .collect();
    assert_eq!(steps, ["RECEIVED", "UNDER_REVIEW", "ACCEPTED"]);

    // Immediately, with no pause: gone from every surface.
    assert_absent_everywhere(&room.app, target, "disputed-story", "被投訴稿件甲", other).await;
    let direct = room
        .app
        .graphql(&format!(r#"{{ article(id: "{target}") {{ title }} }}"#))
        .await;
    assert_eq!(direct["data"]["article"], Value::Null);
    assert_eq!(code(&direct), "UNAVAILABLE_FOR_LEGAL_REASONS");
    for path in [
        format!("{target}"),
        "disputed-story".into(),
        "disputed-story/".into(),
    ] {
        let response = room
            .app
            .client
            .get(format!("{}/v1/articles/{path}", room.app.address))
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), 451, "{path}");
        assert!(response.headers()["link"]
            .to_str()
            .unwrap_or("")
            .contains("blocked-by"));
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["tombstone"]["databaseId"], target);
        assert_eq!(body["tombstone"]["reasonCode"], "TAKEDOWN");
        assert_eq!(body["tombstone"]["requestReference"], id.as_str());
        assert!(
            !body.to_string().contains("被投訴稿件甲"),
            "the tombstone shows the title"
        );
    }
    for path in [
        "/feeds/all.rss",
        "/feeds/lin-yi.atom",
        "/feeds/all.json",
        "/v1/articles",
        "/v1/articles?section=lin-yi",
        "/v1/recommendations/home",
        "/v1/ninjs/feed?section=lin-yi",
    ] {
        let body = room
            .app
            .client
            .get(format!("{}{path}", room.app.address))
            .send()
            .await
            .expect("get")
            .text()
            .await
            .expect("body");
        assert!(
            !body.contains("被投訴稿件甲") && !body.contains("disputed-story"),
            "{path} still shows the withdrawn article"
        );
    }
    let removed = room.app.graphql(r#"{ removedArticles(since: "2020-01-01T00:00:00+08:00") { databaseId reasonCode requestReference } }"#).await;
    assert_eq!(
        removed["data"]["removedArticles"],
        json!([{ "databaseId": target, "reasonCode": "TAKEDOWN", "requestReference": id }])
    );
    let rest_removed: Value = room
        .app
        .client
        .get(format!(
            "{}/v1/removed?since=2020-01-01T00:00:00Z",
            room.app.address
        ))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(rest_removed["items"][0]["databaseId"], target);

    // The article's side answers; legal restores.
    let editor = room.token("editor");
    let countered = room
        .as_user(Some(&editor), &format!(r#"mutation {{ fileCounterNotice(id: "{id}", input: {{name: "經濟導報", contact: "0531-85196503", address: "濟南市濼源大街2號", statement: "持有轉載授權"}}) {{ state }} }}"#))
        .await;
    let restored = room
        .as_user(Some(&legal), &format!(r#"mutation {{ decideCounterNotice(id: "{id}", restore: true, note: "授權有效") {{ state events {{ toState }} }} }}"#))
        .await;

    assert_eq!(
        countered["data"]["fileCounterNotice"]["state"], "COUNTER_NOTICE",
        "{countered}"
    );
    assert_eq!(
        restored["data"]["decideCounterNotice"]["state"], "RESTORED",
        "{restored}"
    );
    let back = room.app.graphql(&format!(r#"{{ article(id: "{target}") {{ title }} articles {{ totalCount }} recommendations {{ headline }} }}"#)).await;
    assert_eq!(back["data"]["article"]["title"], "被投訴稿件甲", "{back}");
    assert_eq!(back["data"]["articles"]["totalCount"], 2);
    assert_eq!(
        back["data"]["recommendations"].as_array().map(Vec::len),
        Some(2)
    );
    let response = room
        .app
        .client
        .get(format!("{}/v1/articles/{target}", room.app.address))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 200);

    let audit = room
        .as_user(
            Some(&room.token("admin")),
            r#"{ auditEvents(filter: {targetType: "takedown"}, first: 20) { nodes { action } } }"#,
        )
        .await;
    let actions: Vec<&str> = audit["data"]["auditEvents"]["nodes"]
        .as_array()
        .expect("audit")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "takedown.restore",
            "takedown.counter_notice",
            "takedown.accept",
            "takedown.review",
            "takedown.submit"
        ]
    );
}

/// Scans every public surface for the article's id, slug and title.
async fn assert_absent_everywhere(app: &TestApp, id: i32, slug: &str, title: &str, other: i32) {
    let lists = app
        .graphql(&format!(
            r#"{{ articles(first: 100) {{ totalCount nodes {{ databaseId slug title }} }}
                 section(slug: "lin-yi") {{ articles {{ totalCount nodes {{ databaseId slug title }} }} }}
                 recommendations {{ headline article {{ databaseId }} }}
                 other: article(id: "{other}") {{ related(first: 10) {{ databaseId slug title }} }}
                 node: node(id: "{}") {{ id }} }}"#,
            base64_global(id)
        ))
        .await;
    let text = lists.to_string();
    assert!(
        !text.contains(slug) && !text.contains(title),
        "still listed: {text}"
    );
    assert!(
        !text.contains(&format!("\"databaseId\":{id}")),
        "still listed: {text}"
    );
    assert_eq!(lists["data"]["articles"]["totalCount"], 1);
    assert_eq!(lists["data"]["node"], Value::Null);
}

pub fn base64_global(id: i32) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("Article:{id}"))
}

both_engines!(bad_notices_and_illegal_steps_are_refused_and_write_nothing);
async fn bad_notices_and_illegal_steps_are_refused_and_write_nothing(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let target = published(&room, "稿件", "story", 1);
    let claimant = room.token("claimant");
    let legal = room.token("legal");
    let submit = |input: String| {
        format!("mutation {{ submitTakedownRequest(input: {input}) {{ id state }} }}")
    };

    let before = room.app.db.row_counts();
    let empty = room.as_user(Some(&claimant), &submit("{}".into())).await;
    let unknown = room.as_user(Some(&claimant), &submit(notice(99_999))).await;
    let reporter = room
        .as_user(Some(&room.token("reporter-a")), &submit(notice(target)))
        .await;
    let anonymous = room.as_user(None, &submit(notice(target))).await;
    assert_eq!(room.app.db.row_counts(), before);

    assert_eq!(code(&empty), "BAD_USER_INPUT");
    let message = empty["errors"][0]["message"].as_str().unwrap_or("");
    for element in [
        "claimantName",
        "contactPhone or contactEmail",
        "contactAddress",
        "articles, media or urls",
        "rightsStatement",
        "reason",
        "goodFaithStatement",
    ] {
        assert!(
            message.contains(element),
            "{element} not named in {message}"
        );
    }
    assert_eq!(code(&unknown), "BAD_USER_INPUT");
    assert_eq!(code(&reporter), "FORBIDDEN");
    assert_eq!(code(&anonymous), "UNAUTHENTICATED");

    let filed = room.as_user(Some(&claimant), &submit(notice(target))).await;
    let id = filed_id(&filed);
    {
        let database = room.app.db.database();
        let mut conn = database.get().expect("connection");
        users::create(&mut conn, "claimant-2", Role::Claimant, None).expect("user");
    }
    let other_claimant = newsdesk::auth::tokens::TokenKeys::hs256(
        SECRET.as_bytes(),
        "newsdesk",
        "newsdesk-editorial",
        std::time::Duration::from_secs(43_200),
    )
    .expect("keys")
    .mint(
        "claimant-2",
        Role::Claimant,
        std::time::Duration::from_secs(600),
    )
    .expect("mint")
    .0;
    let theirs = room
        .as_user(
            Some(&other_claimant),
            &format!(r#"{{ takedownRequest(id: "{id}") {{ id }} }}"#),
        )
        .await;
    let missing = room
        .as_user(
            Some(&other_claimant),
            r#"{ takedownRequest(id: "TD-99999") { id } }"#,
        )
        .await;
    let own = room
        .as_user(
            Some(&claimant),
            &format!(r#"{{ takedownRequest(id: "{id}") {{ id state }} }}"#),
        )
        .await;
    let listed = room
        .as_user(
            Some(&other_claimant),
            "{ takedownRequests { nodes { id } totalCount } }",
        )
        .await;
    let claimant_decides = room
        .as_user(
            Some(&claimant),
            &format!(r#"mutation {{ acceptTakedownRequest(id: "{id}") {{ state }} }}"#),
        )
        .await;
    let editor_decides = room
        .as_user(
            Some(&room.token("editor")),
            &format!(r#"mutation {{ acceptTakedownRequest(id: "{id}") {{ state }} }}"#),
        )
        .await;

    assert_eq!(
        theirs, missing,
        "another claimant's request must look missing"
    );
    assert_eq!(theirs["data"]["takedownRequest"], Value::Null);
    assert_eq!(own["data"]["takedownRequest"]["state"], "RECEIVED");
    assert_eq!(
        listed["data"]["takedownRequests"],
        json!({ "nodes": [], "totalCount": 0 })
    );
    assert_eq!(code(&claimant_decides), "FORBIDDEN");
    assert_eq!(code(&editor_decides), "FORBIDDEN");

    // Two legal users decide at once: exactly one decision.
    let accept = format!(r#"mutation {{ acceptTakedownRequest(id: "{id}") {{ state }} }}"#);
    let admin = room.token("admin");
    let (a, b) = tokio::join!(
        room.as_user(Some(&legal), &accept),
        room.as_user(Some(&admin), &accept)
    );
    let mut codes = [code(&a).to_string(), code(&b).to_string()];
    codes.sort();
    assert_eq!(codes, ["CONFLICT", "OK"], "{a} {b}");
    let before = room.app.db.row_counts();
    let again = room.as_user(Some(&legal), &accept).await;
    let restore_accepted = room
        .as_user(
            Some(&legal),
            &format!(
                r#"mutation {{ decideCounterNotice(id: "{id}", restore: true) {{ state }} }}"#
            ),
        )
        .await;
    assert_eq!(code(&again), "CONFLICT");
    assert_eq!(code(&restore_accepted), "CONFLICT");
    assert_eq!(room.app.db.row_counts(), before);
    let events = room
        .as_user(
            Some(&legal),
            &format!(r#"{{ takedownRequest(id: "{id}") {{ events {{ toState }} }} }}"#),
        )
        .await;
    assert_eq!(
        events["data"]["takedownRequest"]["events"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{events}"
    );
}

both_engines!(late_requests_are_flagged_and_provisional_withdrawal_is_undone_by_rejection);
async fn late_requests_are_flagged_and_provisional_withdrawal_is_undone_by_rejection(
    engine: Engine,
) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let old = published(&room, "舊稿", "old-story", 40);
    let legal = room.token("legal");

    let filed = room
        .as_user(
            Some(&legal),
            &format!(
                "mutation {{ submitTakedownRequest(input: {}) {{ id late respondBy overdue }} }}",
                notice(old)
            ),
        )
        .await;
    let id = filed_id(&filed);
    room.as_user(
        Some(&legal),
        &format!(r#"mutation {{ startTakedownReview(id: "{id}") {{ state }} }}"#),
    )
    .await;
    let provisional = room.as_user(Some(&legal), &format!(r#"mutation {{ withdrawArticleProvisionally(id: "{id}") {{ state provisionallyWithdrawn }} }}"#)).await;
    let while_reviewed = room
        .app
        .graphql(&format!(r#"{{ article(id: "{old}") {{ title }} }}"#))
        .await;
    let rejected = room.as_user(Some(&legal), &format!(r#"mutation {{ rejectTakedownRequest(id: "{id}", reason: "證據不足") {{ state provisionallyWithdrawn }} }}"#)).await;
    let after = room
        .app
        .graphql(&format!(r#"{{ article(id: "{old}") {{ title }} }}"#))
        .await;

    assert_eq!(
        filed["data"]["submitTakedownRequest"]["late"], true,
        "{filed}"
    );
    assert_eq!(filed["data"]["submitTakedownRequest"]["overdue"], false);
    assert_eq!(
        provisional["data"]["withdrawArticleProvisionally"],
        json!({ "state": "UNDER_REVIEW", "provisionallyWithdrawn": true })
    );
    assert_eq!(code(&while_reviewed), "UNAVAILABLE_FOR_LEGAL_REASONS");
    assert_eq!(
        rejected["data"]["rejectTakedownRequest"],
        json!({ "state": "REJECTED", "provisionallyWithdrawn": false })
    );
    assert_eq!(after["data"]["article"]["title"], "舊稿");
}

both_engines!(an_acknowledged_withdrawal_survives_kill_9);
async fn an_acknowledged_withdrawal_survives_kill_9(engine: Engine) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let target = published(&room, "待撤稿件", "to-withdraw", 1);
    let start = || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_newsdesk"))
            .arg("serve")
            .env("DATABASE_URL", &room.app.db.url)
            .env("NEWSDESK_BIND", "127.0.0.1:0")
            .env("NEWSDESK_JWT_SECRET", SECRET)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("line");
        (
            child,
            line.trim().rsplit(' ').next().expect("url").to_string(),
        )
    };
    let post = |url: String, token: String, query: String| async move {
        reqwest::Client::new()
            .post(format!("{url}/graphql"))
            .bearer_auth(token)
            .json(&json!({ "query": query }))
            .send()
            .await
            .expect("post")
            .json::<Value>()
            .await
            .expect("json")
    };
    let (mut child, url) = start();
    let filed = post(
        url.clone(),
        room.token("legal"),
        format!(
            "mutation {{ submitTakedownRequest(input: {}) {{ id }} }}",
            notice(target)
        ),
    )
    .await;
    let id = filed_id(&filed);

    let accepted = post(
        url,
        room.token("legal"),
        format!(r#"mutation {{ acceptTakedownRequest(id: "{id}") {{ state }} }}"#),
    )
    .await;
    Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .expect("kill");
    let _ = child.wait();
    let (mut second, url) = start();
    let status = reqwest::get(format!("{url}/v1/articles/{target}"))
        .await
        .expect("get")
        .status();
    Command::new("kill")
        .args(["-KILL", &second.id().to_string()])
        .status()
        .expect("kill");
    let _ = second.wait();

    assert_eq!(
        accepted["data"]["acceptTakedownRequest"]["state"], "ACCEPTED",
        "{accepted}"
    );
    assert_eq!(status, 451);
}
