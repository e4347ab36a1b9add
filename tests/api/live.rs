//! Live updates through the clients apps use: `graphql-ws` (WebSocket) and
//! `graphql-sse` from `tests/js`, and `/v1/stream` read as a browser's
//! `EventSource` would. Each event kind reaches a subscriber, in the script
//! asked for; a draft never reaches an anonymous subscriber; a staff
//! subscription ends when its token is revoked; a stream resumes from
//! `Last-Event-ID`; a publication on one node reaches a subscriber of
//! another.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc;

use crate::both_engines;
use crate::helpers::{Engine, Newsroom, TestApp};

/// A subscribing client process and the lines it prints.
struct Listener {
    lines: mpsc::UnboundedReceiver<String>,
    child: Child,
    seen: Vec<String>,
}

/// Starts a client: `ws` (`graphql-ws`) and `sse` (`graphql-sse`) from
/// `tests/js`, `gql` (Python `gql`, WebSocket transport) from `tests/py`,
/// `graphiql` (GraphiQL in headless Chromium, `tests/js/browser.mjs`).
fn listen(
    transport: &str,
    address: &str,
    query: &str,
    marker: &str,
    token: Option<&str>,
) -> Listener {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let token = token.unwrap_or("");
    let mut command = if transport == "gql" {
        let mut command = Command::new(crate::helpers::venv_program("python"));
        command
            .arg(root.join("tests/py/subscribe.py"))
            .args([address, query, marker, token, "20"]);
        command
    } else if transport == "graphiql" {
        let dir = root.join("tests/js");
        let mut command = Command::new("node");
        command
            .arg(dir.join("browser.mjs"))
            .args(["graphiql-subscription", address, query, marker])
            .current_dir(&dir);
        command
    } else {
        let dir = root.join("tests/js");
        assert!(
            dir.join("node_modules/graphql-ws").is_dir(),
            "tests/js/node_modules is missing graphql-ws: run `make js-deps`"
        );
        let mut command = Command::new("node");
        command
            .arg(dir.join("subscriptions.mjs"))
            .args([transport, address, query, marker, token, "20"])
            .current_dir(&dir);
        command
    };
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the client runs");
    let stdout = child.stdout.take().expect("stdout");
    let (send, lines) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    Listener {
        lines,
        child,
        seen: vec![],
    }
}

impl Listener {
    /// Waits for the client to say it is subscribed.
    async fn ready(&mut self) {
        let line = tokio::time::timeout(Duration::from_secs(30), self.lines.recv())
            .await
            .expect("the client starts within 30 s");
        assert_eq!(line.as_deref(), Some("ready"), "{:?}", self.seen);
    }

    /// Runs `act` every 300 ms (a subscription registers a moment after
    /// the client says it is ready) until the client has printed a line
    /// with `marker`, for at most 15 s; returns every line printed.
    async fn until<F, Fut>(mut self, marker: &str, mut act: F) -> Vec<String>
    where
        F: FnMut(usize) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let started = Instant::now();
        let mut round = 0;
        while started.elapsed() < Duration::from_secs(15) {
            act(round).await;
            round += 1;
            let deadline = tokio::time::sleep(Duration::from_millis(300));
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    line = self.lines.recv() => match line {
                        Some(line) => {
                            let done = line.contains(marker);
                            self.seen.push(line);
                            if done {
                                let _ = self.child.kill();
                                return self.seen;
                            }
                        }
                        None => return self.seen,
                    },
                    _ = &mut deadline => break,
                }
            }
        }
        let _ = self.child.kill();
        self.seen
    }
}

/// Creates and publishes an article titled `title` in 臨沂; returns its id.
async fn publish(room: &Newsroom, title: &str) -> i64 {
    publish_in(room, "lin-yi", title).await
}

/// Creates and publishes an article titled `title` in `section`.
async fn publish_in(room: &Newsroom, section: &str, title: &str) -> i64 {
    let editor = room.token("editor");
    let created = room
        .as_user(
            Some(&editor),
            &format!(
                r#"mutation {{ createArticle(input: {{title: "{title}", section: "{section}", paragraphs: ["正文。"]}}) {{ databaseId }} }}"#
            ),
        )
        .await;
    let id = created["data"]["createArticle"]["databaseId"]
        .as_i64()
        .unwrap_or_else(|| panic!("not created: {created}"));
    mutate(room, &format!(r#"publishArticle(id: "{id}") {{ status }}"#)).await;
    id
}

async fn mutate(room: &Newsroom, mutation: &str) -> Value {
    let answer = room
        .as_user(
            Some(&room.token("editor")),
            &format!("mutation {{ {mutation} }}"),
        )
        .await;
    assert!(answer.get("errors").is_none(), "{mutation}: {answer}");
    answer
}

both_engines!(a_publication_reaches_a_graphql_ws_subscriber_in_its_script_and_a_draft_never_does);
async fn a_publication_reaches_a_graphql_ws_subscriber_in_its_script_and_a_draft_never_does(
    engine: Engine,
) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let mut listener = listen(
        "ws",
        &room.app.address,
        "subscription { articlePublished(section: \"lin-yi\", script: HANS) { databaseId title seo { canonicalUrl } jsonLd } }",
        "直播测试",
        None,
    );
    listener.ready().await;
    room.draft("reporter-a", "草稿不應推送").await;
    let lines = listener
        .until("直播测试", |n| {
            let room = &room;
            async move {
                publish(room, &format!("直播測試第{n}條")).await;
            }
        })
        .await;
    assert!(
        lines.iter().any(|l| l.contains("直播测试第")),
        "converted to simplified: {lines:?}"
    );
    assert!(!lines.iter().any(|l| l.contains("草稿")), "{lines:?}");
    // The page head comes with the event: the article is public by then.
    assert!(
        lines
            .iter()
            .filter(|l| l.contains("直播测试第"))
            .all(|l| l.contains("?script=hans") && l.contains("NewsArticle")),
        "{lines:?}"
    );
}

both_engines!(an_unpublished_article_reaches_a_graphql_sse_subscriber_as_removed);
async fn an_unpublished_article_reaches_a_graphql_sse_subscriber_as_removed(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let id = publish(&room, "即將撤下的稿件").await;
    let mut listener = listen(
        "sse",
        &room.app.address,
        "subscription { articleRemoved(section: \"lin-yi\") { databaseId slug tombstone { requestReference } } }",
        &format!("\"databaseId\":{id}"),
        None,
    );
    listener.ready().await;
    let lines = listener
        .until(&format!("\"databaseId\":{id}"), |_| {
            let room = &room;
            async move {
                // Again if the subscription came after the last round.
                mutate(room, &format!(r#"publishArticle(id: "{id}") {{ status }}"#)).await;
                mutate(
                    room,
                    &format!(r#"unpublishArticle(id: "{id}") {{ status }}"#),
                )
                .await;
            }
        })
        .await;
    let event = lines
        .iter()
        .find(|l| l.contains(&format!("\"databaseId\":{id}")))
        .unwrap_or_else(|| panic!("no removal event: {lines:?}"));
    let event: Value = serde_json::from_str(event).expect("JSON");
    assert!(
        event["data"]["articleRemoved"]["tombstone"].is_null(),
        "an unpublished article has no tombstone: {event}"
    );
}

both_engines!(a_staff_subscription_to_a_draft_ends_when_its_token_is_revoked);
async fn a_staff_subscription_to_a_draft_ends_when_its_token_is_revoked(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let draft = room.draft("reporter-a", "記者的草稿").await;
    let editor = room.token("editor");
    // Anonymous: refused at once.
    let anonymous = listen(
        "ws",
        &room.app.address,
        &format!("subscription {{ articleChanged(id: \"{draft}\") {{ title }} }}"),
        "UNAUTHENTICATED",
        None,
    );
    let refused = anonymous.until("UNAUTHENTICATED", |_| async {}).await;
    assert!(
        refused.iter().any(|l| l.contains("UNAUTHENTICATED")),
        "{refused:?}"
    );

    let mut watching = listen(
        "ws",
        &room.app.address,
        &format!("subscription {{ articleChanged(id: \"{draft}\") {{ title }} }}"),
        "UNAUTHENTICATED",
        Some(&editor),
    );
    watching.ready().await;
    let mut revision = 1;
    let lines = watching
        .until("UNAUTHENTICATED", |n| {
            let room = &room;
            let editor = editor.clone();
            let revoke = n == 3;
            let expected = revision;
            revision += 1;
            async move {
                if revoke {
                    let out = room
                        .as_user(Some(&editor), "mutation { logoutEverywhere }")
                        .await;
                    assert!(out.get("errors").is_none(), "{out}");
                }
                let edit = format!(
                    r#"updateArticle(id: "{draft}", expectedRevision: {expected}, input: {{title: "記者的草稿第{n}版"}}) {{ revision }}"#
                );
                let answer = room
                    .as_user(
                        Some(&room.token("editor")),
                        &format!("mutation {{ {edit} }}"),
                    )
                    .await;
                assert!(answer.get("errors").is_none(), "{answer}");
            }
        })
        .await;
    assert!(
        lines.iter().any(|l| l.contains("記者的草稿第")),
        "the editor saw the draft change: {lines:?}"
    );
    assert!(
        lines.last().is_some_and(|l| l.contains("UNAUTHENTICATED")),
        "then the revoked token ended it: {lines:?}"
    );
}

/// Reads `/v1/stream` until a chunk holds `marker` or 15 s pass; returns
/// the text read.
pub(crate) async fn read_stream(mut response: reqwest::Response, marker: &str) -> String {
    let mut text = String::new();
    let started = Instant::now();
    while !text.contains(marker) && started.elapsed() < Duration::from_secs(15) {
        match tokio::time::timeout(Duration::from_millis(500), response.chunk()).await {
            Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
            Ok(_) => break,
            Err(_) => {}
        }
    }
    text
}

both_engines!(the_rest_stream_resumes_from_the_last_event_id_without_losing_an_event);
async fn the_rest_stream_resumes_from_the_last_event_id_without_losing_an_event(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let client = reqwest::Client::new();
    let url = format!("{}/v1/stream?section=lin-yi&script=hans", room.app.address);
    let open = |last: Option<String>| {
        let mut request = client.get(&url);
        if let Some(last) = last {
            request = request.header("last-event-id", last);
        }
        request.send()
    };
    let first = open(None).await.expect("stream");
    assert_eq!(first.status(), 200);
    assert!(first.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .starts_with("text/event-stream"));
    // Subscribed when the response starts: what is published now is sent.
    let a = publish(&room, "串流第一條").await;
    let text = read_stream(first, &format!("\"id\":{a},")).await;
    let block = text
        .split("\n\n")
        .find(|b| b.contains(&format!("\"id\":{a},")))
        .unwrap_or_else(|| panic!("no event for {a}: {text}"));
    assert!(block.contains("event: published"), "{block}");
    assert!(block.contains("串流第一条"), "in simplified: {block}");
    let seen: String = block
        .lines()
        .find_map(|l| l.strip_prefix("id: "))
        .expect("an event id")
        .to_string();

    // Disconnected: a publication and a draft happen meanwhile.
    let b = publish(&room, "串流第二條").await;
    room.draft("reporter-a", "串流草稿").await;
    let resumed = open(Some(seen)).await.expect("stream");
    let text = read_stream(resumed, &format!("\"id\":{b},")).await;
    assert!(
        text.contains(&format!("\"id\":{b},")),
        "the missed event first: {text}"
    );
    assert!(!text.contains(&format!("\"id\":{a},")), "not again: {text}");
    assert!(!text.contains("串流草稿"), "{text}");

    let bad = client
        .get(&url)
        .header("last-event-id", "yesterday")
        .send()
        .await
        .expect("sent");
    assert_eq!(bad.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_publication_on_one_node_reaches_a_stream_on_another() {
    let Some(room) = Newsroom::open(Engine::Postgres).await else {
        return;
    };
    let other = TestApp::start(&room.app.db.url, &[]).await;
    let stream = reqwest::get(format!("{other}/v1/stream"))
        .await
        .expect("stream");
    let started = Instant::now();
    let id = publish(&room, "跨節點推送").await;
    let text = read_stream(stream, &format!("\"id\":{id},")).await;
    eprintln!(
        "published on one node, streamed by the other after {} ms",
        started.elapsed().as_millis()
    );
    assert!(text.contains(&format!("\"id\":{id},")), "{text}");
    assert!(started.elapsed() < Duration::from_secs(2), "{text}");
}

both_engines!(a_reporter_watching_anothers_draft_is_refused_at_its_first_change);
async fn a_reporter_watching_anothers_draft_is_refused_at_its_first_change(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let draft = room.draft("reporter-a", "甲的草稿機密").await;
    let other = room.token("reporter-b");
    let mut watching = listen(
        "sse",
        &room.app.address,
        &format!("subscription {{ articleChanged(id: \"{draft}\") {{ title }} }}"),
        "FORBIDDEN",
        Some(&other),
    );
    watching.ready().await;
    let mut revision = 1;
    let lines = watching
        .until("FORBIDDEN", |n| {
            let room = &room;
            let expected = revision;
            revision += 1;
            async move {
                let edit = format!(
                    r#"mutation {{ updateArticle(id: "{draft}", expectedRevision: {expected}, input: {{title: "甲的草稿機密第{n}版"}}) {{ revision }} }}"#
                );
                let answer = room.as_user(Some(&room.token("reporter-a")), &edit).await;
                assert!(answer.get("errors").is_none(), "{answer}");
            }
        })
        .await;
    assert!(lines.iter().any(|l| l.contains("FORBIDDEN")), "{lines:?}");
    assert!(!lines.iter().any(|l| l.contains("機密第")), "{lines:?}");
}

both_engines!(a_python_gql_subscriber_hears_a_recommendation_list_change);
async fn a_python_gql_subscriber_hears_a_recommendation_list_change(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let id = publish(&room, "推薦列表的稿件").await;
    let mut listener = listen(
        "gql",
        &room.app.address,
        "subscription { recommendationsChanged(list: \"home\") { list sequence } }",
        "\"sequence\"",
        None,
    );
    listener.ready().await;
    let lines = listener
        .until("\"sequence\"", |n| {
            let room = &room;
            async move {
                mutate(
                    room,
                    &format!(
                        r#"setRecommendationList(name: "home", items: [{{article: "{id}", headline: "編輯推薦第{n}版"}}]) {{ headline }}"#
                    ),
                )
                .await;
            }
        })
        .await;
    let event = lines
        .iter()
        .find(|l| l.contains("\"sequence\""))
        .unwrap_or_else(|| panic!("no list event: {lines:?}"));
    let event: Value = serde_json::from_str(event).expect("JSON");
    assert_eq!(event["recommendationsChanged"]["list"], "home", "{event}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_connections_are_limited_per_address_and_given_back_on_close() {
    let Some(app) = TestApp::spawn_with(
        Engine::Sqlite,
        &[
            ("NEWSDESK_LIVE_CONNECTIONS_PER_ADDRESS", "2"),
            ("NEWSDESK_LIVE_HEARTBEAT_SECONDS", "1"),
        ],
    )
    .await
    else {
        return;
    };
    let client = reqwest::Client::new();
    let stream = || client.get(format!("{}/v1/stream", app.address)).send();
    let first = stream().await.expect("first");
    let second = client
        .post(format!("{}/graphql", app.address))
        .header("accept", "text/event-stream")
        .json(&serde_json::json!({"query": "subscription { articleRemoved { databaseId } }"}))
        .send()
        .await
        .expect("second");
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let third = stream().await.expect("third");
    assert_eq!(third.status(), 429);
    let body: Value = third.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "TOO_MANY_REQUESTS", "{body}");

    // A client that goes gives its place back (noticed when a heartbeat
    // cannot be written).
    drop(first);
    let started = Instant::now();
    let mut again = stream().await.expect("again");
    while again.status() != 200 && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        again = stream().await.expect("again");
    }
    assert_eq!(again.status(), 200, "the place came back");
    drop(second);
}

both_engines!(subscriptions_meet_the_query_limits_and_visibility_rules_on_every_transport);
async fn subscriptions_meet_the_query_limits_and_visibility_rules_on_every_transport(
    engine: Engine,
) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let deep = format!(
        "subscription {{ articlePublished {{ section {{ {} name {} }} }} }}",
        "parent { ".repeat(15),
        "}".repeat(15)
    );
    let aliases = format!(
        "subscription {{ articlePublished {{ {} }} }}",
        (0..40)
            .map(|i| format!("a{i}: databaseId"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let introspection =
        "subscription { articlePublished { databaseId } __type(name: \"Article\") { name } }";
    let refusals = [
        (deep.as_str(), "QUERY_TOO_DEEP"),
        (aliases.as_str(), "TOO_MANY_ALIASES"),
        (introspection, "INTROSPECTION_DISABLED"),
    ];
    for transport in ["ws", "sse", "gql"] {
        // Twice each: the second time the document is the one kept.
        for (document, code) in refusals.iter().chain(refusals.iter()) {
            let refused = listen(transport, &room.app.address, document, code, None)
                .until(code, |_| async {})
                .await;
            assert!(
                refused.iter().any(|l| l.contains(code)),
                "{transport}: {refused:?}"
            );
            assert!(
                !refused.iter().any(|l| l.contains("\"data\":{")),
                "{transport} ran a refused document: {refused:?}"
            );
        }
    }
    // A query over the socket follows the same visibility rules.
    let draft = room.draft("reporter-a", "插座上的草稿").await;
    let read = format!("query {{ article(id: \"{draft}\") {{ title }} }}");
    for transport in ["ws", "sse"] {
        let lines = listen(
            transport,
            &room.app.address,
            &read,
            "\"article\":null",
            None,
        )
        .until("\"article\":null", |_| async {})
        .await;
        assert!(
            lines.iter().any(|l| l.contains("\"article\":null")),
            "{transport}: {lines:?}"
        );
        assert!(
            !lines.iter().any(|l| l.contains("插座上的草稿")),
            "{lines:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_in_a_browser_runs_a_subscription_and_shows_its_events() {
    if crate::frontend::browser_skipped() {
        return;
    }
    let Some(room) = Newsroom::open_with(Engine::Sqlite, &[("NEWSDESK_GRAPHIQL", "1")]).await
    else {
        return;
    };
    let mut listener = listen(
        "graphiql",
        &room.app.address,
        "subscription { articlePublished(section: \"lin-yi\") { title } }",
        "圖形界面直播",
        None,
    );
    listener.ready().await;
    let lines = listener
        .until("圖形界面直播", |n| {
            let room = &room;
            async move {
                if n % 5 == 0 {
                    publish(room, &format!("圖形界面直播測試{n}")).await;
                }
            }
        })
        .await;
    assert!(
        lines.iter().any(|l| l.contains("圖形界面直播測試")),
        "{lines:?}"
    );
}

/// Makes three sections, a parent with one child and another top-level
/// one; returns their slugs.
async fn three_sections(room: &Newsroom) -> (String, String, String) {
    let ids = {
        let database = room.app.db.database();
        let mut conn = database.get().expect("connection");
        let parent = crate::fixtures::section(&mut conn, "直播財經", None);
        let child = crate::fixtures::section(&mut conn, "直播港股", Some(parent));
        let other = crate::fixtures::section(&mut conn, "直播體育", None);
        [parent, child, other]
    };
    let answer = room
        .as_user(
            None,
            "{ sections { databaseId slug children { databaseId slug } } }",
        )
        .await;
    let mut slugs = std::collections::HashMap::new();
    for section in answer["data"]["sections"].as_array().expect("sections") {
        for s in
            std::iter::once(section).chain(section["children"].as_array().into_iter().flatten())
        {
            slugs.insert(
                s["databaseId"].as_i64().unwrap_or(0),
                s["slug"].as_str().unwrap_or("").to_string(),
            );
        }
    }
    let slug = |id: i32| {
        slugs
            .get(&i64::from(id))
            .cloned()
            .unwrap_or_else(|| panic!("{answer}"))
    };
    (slug(ids[0]), slug(ids[1]), slug(ids[2]))
}

both_engines!(a_section_subscriber_hears_its_subsections_and_never_another_section);
async fn a_section_subscriber_hears_its_subsections_and_never_another_section(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let (parent, child, other) = three_sections(&room).await;
    let mut listener = listen(
        "ws",
        &room.app.address,
        &format!("subscription {{ articlePublished(section: \"{parent}\") {{ title }} }}"),
        "子欄目稿件",
        None,
    );
    listener.ready().await;
    let lines = listener
        .until("子欄目稿件", |n| {
            let (room, child, other) = (&room, &child, &other);
            async move {
                // The other section's comes first: had it been sent, it
                // would arrive before the child's.
                publish_in(room, other, &format!("別處稿件{n}")).await;
                publish_in(room, child, &format!("子欄目稿件{n}")).await;
            }
        })
        .await;
    assert!(lines.iter().any(|l| l.contains("子欄目稿件")), "{lines:?}");
    assert!(!lines.iter().any(|l| l.contains("別處稿件")), "{lines:?}");
}

/// Changes an article's title as an editor, at its current revision.
async fn retitle(room: &Newsroom, id: i64, title: &str) {
    let editor = room.token("editor");
    let current = room
        .as_user(
            Some(&editor),
            &format!(r#"{{ article(id: "{id}") {{ revision }} }}"#),
        )
        .await;
    let revision = current["data"]["article"]["revision"]
        .as_i64()
        .unwrap_or_else(|| panic!("{current}"));
    mutate(
        room,
        &format!(
            r#"updateArticle(id: "{id}", expectedRevision: {revision}, input: {{title: "{title}"}}) {{ revision }}"#
        ),
    )
    .await;
}

both_engines!(an_article_update_reaches_the_subscribers_of_that_article_only);
async fn an_article_update_reaches_the_subscribers_of_that_article_only(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let watched = publish(&room, "被關注的稿件").await;
    let unwatched = publish(&room, "沒人關注的稿件").await;
    let mut listener = listen(
        "ws",
        &room.app.address,
        &format!(
            "subscription {{ articleUpdated(id: \"{watched}\") {{ databaseId title revision }} }}"
        ),
        "甲稿更新",
        None,
    );
    listener.ready().await;
    let lines = listener
        .until("甲稿更新", |n| {
            let room = &room;
            async move {
                retitle(room, unwatched, &format!("乙稿更新{n}")).await;
                retitle(room, watched, &format!("甲稿更新{n}")).await;
            }
        })
        .await;
    let event = lines
        .iter()
        .find(|l| l.contains("甲稿更新"))
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert!(
        event.contains(&format!("\"databaseId\":{watched}")),
        "{event}"
    );
    assert!(!lines.iter().any(|l| l.contains("乙稿更新")), "{lines:?}");
}

both_engines!(a_withdrawn_article_reaches_a_removal_subscriber_with_its_tombstone);
async fn a_withdrawn_article_reaches_a_removal_subscriber_with_its_tombstone(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let article = publish(&room, "將被下架的稿件").await;
    let request = {
        let database = room.app.db.database();
        let mut conn = database.get().expect("connection");
        crate::fixtures::file_takedown(&mut conn, &[i32::try_from(article).expect("id")])
    };
    let mut listener = listen(
        "ws",
        &room.app.address,
        "subscription { articleRemoved(section: \"lin-yi\") { databaseId tombstone { requestReference } } }",
        "requestReference",
        None,
    );
    listener.ready().await;
    let legal = room.token("legal");
    let lines = listener
        .until("requestReference", |n| {
            let (room, legal) = (&room, &legal);
            async move {
                // Once, after the subscription has surely registered.
                if n == 3 {
                    let answer = room
                        .as_user(
                            Some(legal),
                            &format!(r#"mutation {{ acceptTakedownRequest(id: "TD-{request}") {{ state }} }}"#),
                        )
                        .await;
                    assert!(answer.get("errors").is_none(), "{answer}");
                }
            }
        })
        .await;
    let event = lines
        .iter()
        .find(|l| l.contains("requestReference"))
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert!(
        event.contains(&format!("\"databaseId\":{article}")),
        "{event}"
    );
    assert!(event.contains(&format!("TD-{request}")), "{event}");
}

both_engines!(the_change_log_forgets_old_entries_but_its_newest_and_a_stream_from_before_is_reset);
async fn the_change_log_forgets_old_entries_but_its_newest_and_a_stream_from_before_is_reset(
    engine: Engine,
) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    publish(&room, "舊事一").await;
    publish(&room, "舊事二").await;
    let database = room.app.db.database();
    let mut conn = database.get().expect("connection");
    let first = newsdesk::db::change_log::oldest(&mut conn)
        .expect("oldest")
        .expect("logged");
    let newest = newsdesk::db::change_log::latest(&mut conn).expect("latest");
    let later = newsdesk::db::now() + chrono::TimeDelta::seconds(1);
    let (changes, searches) =
        newsdesk::jobs::log_pruning::forget_before(&mut conn, later).expect("forget");
    assert!(changes >= 1 && searches >= 1, "{changes} {searches}");
    assert_eq!(
        newsdesk::db::change_log::oldest(&mut conn).expect("oldest"),
        Some(newest),
        "the newest entry stays"
    );
    drop(conn);

    let url = format!("{}/v1/stream?section=lin-yi", room.app.address);
    let client = reqwest::Client::new();
    let from_before = client
        .get(&url)
        .header("last-event-id", first.to_string())
        .send()
        .await
        .expect("stream");
    let text = read_stream(from_before, "event: reset").await;
    assert!(text.contains("event: reset"), "{text}");

    // The numbers go on from the newest kept: a client that saw it misses nothing.
    let next = publish(&room, "新事").await;
    let resumed = client
        .get(&url)
        .header("last-event-id", newest.to_string())
        .send()
        .await
        .expect("stream");
    let text = read_stream(resumed, &format!("\"id\":{next},")).await;
    assert!(text.contains(&format!("\"id\":{next},")), "{text}");
    assert!(!text.contains("event: reset"), "{text}");
}
