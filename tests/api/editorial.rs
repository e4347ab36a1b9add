//! Editorial writes behind JWT: the role matrix, hostile tokens, revocation,
//! optimistic concurrency, scheduling and preview.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use newsdesk::db::users;
use newsdesk::domain::Role;
use serde_json::{json, Value};

use crate::both_engines;
use crate::helpers::{keys, Engine, Newsroom, TestApp, TestDb, SECRET};

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("OK")
}

/// What each caller may do with reporter A's draft; every other cell is denied.
const WHO: [&str; 8] = [
    "anonymous",
    "reporter-a",
    "reporter-b",
    "editor",
    "legal",
    "admin",
    "claimant",
    "partner",
];

fn expected(mutation: &str, who: &str) -> &'static str {
    let editor_like = matches!(who, "editor" | "admin");
    let owner = who == "reporter-a";
    let allowed = match mutation {
        "create" => editor_like || who.starts_with("reporter"),
        "update" | "submit" | "delete" => editor_like || owner,
        "publish" | "unpublish" | "restore" => editor_like,
        _ => false,
    };
    if allowed {
        return "OK";
    }
    match who {
        "anonymous" => "UNAUTHENTICATED",
        // Reporter B may not even learn that A's draft exists.
        "reporter-b"
            if mutation != "create" && !matches!(mutation, "publish" | "unpublish" | "restore") =>
        {
            "NOT_FOUND"
        }
        _ => "FORBIDDEN",
    }
}

both_engines!(every_mutation_obeys_the_role_table);
async fn every_mutation_obeys_the_role_table(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    for mutation in [
        "create",
        "update",
        "submit",
        "publish",
        "unpublish",
        "restore",
        "delete",
    ] {
        for who in WHO {
            // A fresh draft of reporter A per cell, published first where needed.
            let id = room.draft("reporter-a", &format!("{mutation}-{who}")).await;
            if mutation == "unpublish" {
                room.as_user(
                    Some(&room.token("editor")),
                    &format!(r#"mutation {{ publishArticle(id: "{id}") {{ revision }} }}"#),
                )
                .await;
            }
            let revision = if mutation == "unpublish" { 2 } else { 1 };
            let query = match mutation {
                "create" => r#"mutation { createArticle(input: {title: "新稿", section: "lin-yi"}) { databaseId } }"#.to_string(),
                "update" => format!(r#"mutation {{ updateArticle(id: "{id}", expectedRevision: {revision}, input: {{title: "改"}}) {{ revision }} }}"#),
                "submit" => format!(r#"mutation {{ submitArticle(id: "{id}") {{ revision }} }}"#),
                "publish" => format!(r#"mutation {{ publishArticle(id: "{id}") {{ revision }} }}"#),
                "unpublish" => format!(r#"mutation {{ unpublishArticle(id: "{id}") {{ revision }} }}"#),
                "restore" => format!(r#"mutation {{ restoreRevision(id: "{id}", revision: 1) {{ revision }} }}"#),
                _ => format!(r#"mutation {{ deleteArticle(id: "{id}") {{ revision }} }}"#),
            };
            let token = (who != "anonymous").then(|| room.token(who));
            let before = room.app.db.row_counts();

            let body = room.as_user(token.as_deref(), &query).await;

            let want = expected(mutation, who);
            assert_eq!(code(&body), want, "{mutation} as {who}: {body}");
            if want != "OK" {
                assert_eq!(
                    room.app.db.row_counts(),
                    before,
                    "{mutation} as {who} wrote something"
                );
            }
        }
    }
}

/// A token with arbitrary header and claims, signed with `key`.
fn forge(header: Value, claims: Value, key: &[u8]) -> String {
    let alg = match header["alg"].as_str() {
        Some("HS384") => Algorithm::HS384,
        Some("HS512") => Algorithm::HS512,
        _ => Algorithm::HS256,
    };
    let mut h = Header::new(alg);
    h.kid = header["kid"].as_str().map(String::from);
    h.jku = header["jku"].as_str().map(String::from);
    let key = EncodingKey::from_secret(key).expect("key");
    let token = encode(&h, &claims, &key).expect("encode");
    if header.get("raw").is_some() {
        // Replace the header wholesale (crit, typ) while keeping the signature input honest.
        let parts: Vec<&str> = token.split('.').collect();
        let raw = URL_SAFE_NO_PAD.encode(header["raw"].to_string());
        return format!("{raw}.{}.{}", parts[1], parts[2]);
    }
    token
}

fn claims(overrides: Value) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut c = json!({
        "sub": "editor", "role": "editor", "iat": now, "exp": now + 600,
        "iss": "newsdesk", "aud": "newsdesk-editorial", "jti": uuid::Uuid::new_v4().to_string()
    });
    if let (Some(base), Some(extra)) = (c.as_object_mut(), overrides.as_object()) {
        for (k, v) in extra {
            if v.is_null() {
                base.remove(k);
            } else {
                base.insert(k.clone(), v.clone());
            }
        }
    }
    c
}

#[tokio::test]
async fn hostile_tokens_are_refused() {
    let Some(room) = Newsroom::open(Engine::Sqlite).await else {
        return;
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    listener.set_nonblocking(true).expect("nonblocking");
    let jku = format!("http://{}/jwks.json", listener.local_addr().expect("addr"));
    let now = chrono::Utc::now().timestamp();
    let hs256 = json!({ "alg": "HS256" });
    let key = SECRET.as_bytes();
    let valid = forge(hs256.clone(), claims(json!({})), key);
    let tampered = {
        let mut t = valid.clone().into_bytes();
        let i = t.len() - 3;
        t[i] = if t[i] == b'A' { b'B' } else { b'A' };
        String::from_utf8(t).expect("ascii")
    };
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        valid.split('.').nth(1).expect("payload")
    );
    let cases: Vec<(&str, String)> = vec![
        ("alg none", alg_none),
        (
            "HS384 when HS256 is pinned",
            forge(json!({ "alg": "HS384" }), claims(json!({})), key),
        ),
        (
            "wrong key",
            forge(
                hs256.clone(),
                claims(json!({})),
                b"another-secret-0123456789abcdef012345",
            ),
        ),
        (
            "expired",
            forge(
                hs256.clone(),
                claims(json!({ "iat": now - 7200, "exp": now - 3600 })),
                key,
            ),
        ),
        (
            "no exp",
            forge(hs256.clone(), claims(json!({ "exp": null })), key),
        ),
        (
            "string exp",
            forge(hs256.clone(), claims(json!({ "exp": "9999999999" })), key),
        ),
        (
            "future nbf",
            forge(hs256.clone(), claims(json!({ "nbf": now + 3600 })), key),
        ),
        (
            "string nbf",
            forge(hs256.clone(), claims(json!({ "nbf": "0" })), key),
        ),
        (
            "future iat",
            forge(
                hs256.clone(),
                claims(json!({ "iat": now + 3600, "exp": now + 4000 })),
                key,
            ),
        ),
        (
            "no aud",
            forge(hs256.clone(), claims(json!({ "aud": null })), key),
        ),
        (
            "wrong aud",
            forge(hs256.clone(), claims(json!({ "aud": "partner-feed" })), key),
        ),
        (
            "empty aud list",
            forge(hs256.clone(), claims(json!({ "aud": [] })), key),
        ),
        (
            "wrong iss",
            forge(hs256.clone(), claims(json!({ "iss": "someone-else" })), key),
        ),
        (
            "no iss",
            forge(hs256.clone(), claims(json!({ "iss": null })), key),
        ),
        (
            "one-year lifetime",
            forge(
                hs256.clone(),
                claims(json!({ "exp": now + 365 * 86400 })),
                key,
            ),
        ),
        ("tampered signature", tampered),
        (
            "kid path",
            forge(
                json!({ "alg": "HS256", "kid": "../../../../dev/null" }),
                claims(json!({})),
                key,
            ),
        ),
        (
            "jku",
            forge(
                json!({ "alg": "HS256", "jku": jku }),
                claims(json!({})),
                b"attacker-key-0123456789abcdef0123456",
            ),
        ),
        (
            "crit",
            forge(
                json!({ "raw": { "alg": "HS256", "crit": ["exp"] } }),
                claims(json!({})),
                key,
            ),
        ),
        (
            "refresh token type",
            forge(
                json!({ "raw": { "alg": "HS256", "typ": "refresh+jwt" } }),
                claims(json!({})),
                key,
            ),
        ),
        (
            "unknown account",
            forge(hs256.clone(), claims(json!({ "sub": "nobody" })), key),
        ),
        (
            "role not held",
            forge(hs256.clone(), claims(json!({ "role": "admin" })), key),
        ),
        ("garbage", "not.a.token".into()),
    ];
    let create =
        r#"mutation { createArticle(input: {title: "x", section: "lin-yi"}) { databaseId } }"#;
    let before = room.app.db.row_counts();
    for (name, token) in cases {
        let body = room.as_user(Some(&token), create).await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{name}: {body}");
        let me = room.as_user(Some(&token), "{ me { username } }").await;
        assert_eq!(me["data"]["me"], Value::Null, "{name} signed in");
    }
    assert_eq!(room.app.db.row_counts(), before);
    assert!(
        listener.accept().is_err(),
        "a token header made the server connect out"
    );
    let ok = room.as_user(Some(&valid), create).await;
    assert_eq!(code(&ok), "OK", "{ok}");
    let listed = forge(
        hs256,
        claims(json!({ "aud": ["x", "newsdesk-editorial"] })),
        key,
    );
    assert_eq!(code(&room.as_user(Some(&listed), create).await), "OK");
}

both_engines!(revocation_takes_effect_on_the_next_request);
async fn revocation_takes_effect_on_the_next_request(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let publish = |id: i32| format!(r#"mutation {{ publishArticle(id: "{id}") {{ status }} }}"#);
    let editor = room.token("editor");
    let draft = room.draft("reporter-a", "待發").await;

    {
        let database = room.app.db.database();
        let mut conn = database.get().expect("connection");
        users::set_role(&mut conn, "editor", Role::Reporter).expect("demote");
    }
    let demoted = room.as_user(Some(&editor), &publish(draft)).await;

    let admin = room.token("admin");
    let logout = room.as_user(Some(&admin), "mutation { logout }").await;
    let after_logout = room.as_user(Some(&admin), "{ me { username } }").await;

    let legal_old = keys()
        .mint("legal", Role::Legal, Duration::from_secs(900))
        .expect("mint")
        .0;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let legal_new_session = room.token("legal");
    let everywhere = room
        .as_user(Some(&legal_new_session), "mutation { logoutEverywhere }")
        .await;
    let old_after = room.as_user(Some(&legal_old), "{ me { username } }").await;

    let claimant = room.token("claimant");
    {
        let database = room.app.db.database();
        let mut conn = database.get().expect("connection");
        users::disable(&mut conn, "claimant").expect("disable");
    }
    let disabled = room.as_user(Some(&claimant), "{ me { username } }").await;

    assert_eq!(code(&demoted), "UNAUTHENTICATED", "{demoted}");
    assert_eq!(logout["data"]["logout"], true);
    assert_eq!(after_logout["data"]["me"], Value::Null);
    assert_eq!(everywhere["data"]["logoutEverywhere"], true);
    assert_eq!(old_after["data"]["me"], Value::Null);
    assert_eq!(disabled["data"]["me"], Value::Null);
}

both_engines!(logout_everywhere_refuses_tokens_minted_in_the_same_second);
/// T-JWT-14: "log out everywhere" refuses every token issued before the
/// call, including those issued earlier in the same second (token issue
/// times are whole seconds, the cut-off is not), while a login right after
/// it gives a token that works.
async fn logout_everywhere_refuses_tokens_minted_in_the_same_second(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    {
        let database = room.app.db.database();
        let mut conn = database.get().expect("connection");
        let hash = newsdesk::auth::passwords::hash("correct horse battery").expect("hash");
        users::create(&mut conn, "writer", Role::Reporter, Some(&hash)).expect("user");
    }
    let me = "{ me { username } }";
    // Start at the top of a second so the tokens and the call share it.
    let into_second = chrono::Utc::now().timestamp_subsec_micros() as u64;
    tokio::time::sleep(Duration::from_micros(1_000_000 - into_second + 5_000)).await;
    let earlier: Vec<String> = (0..6)
        .map(|_| {
            keys()
                .mint("writer", Role::Reporter, Duration::from_secs(900))
                .expect("mint")
                .0
        })
        .collect();

    let everywhere = room
        .as_user(Some(&earlier[0]), "mutation { logoutEverywhere }")
        .await;
    let login = room
        .as_user(
            None,
            r#"mutation { login(username: "writer", password: "correct horse battery") { token } }"#,
        )
        .await;

    assert_eq!(everywhere["data"]["logoutEverywhere"], true, "{everywhere}");
    let mut still_working = 0;
    for token in &earlier {
        let answer = room.as_user(Some(token), me).await;
        if answer["data"]["me"] != Value::Null {
            still_working += 1;
        }
    }
    assert_eq!(still_working, 0, "of 6 tokens issued before the call");
    let fresh = login["data"]["login"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no login: {login}"));
    let answer = room.as_user(Some(fresh), me).await;
    assert_eq!(answer["data"]["me"]["username"], "writer", "{answer}");
}

both_engines!(a_role_change_revokes_every_earlier_token);
/// T-JWT-14: an account demoted and promoted back does not get its old
/// tokens back: every role change revokes the tokens issued before it,
/// whatever role they name. A token issued after the change works.
async fn a_role_change_revokes_every_earlier_token(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let old = room.token("editor");
    let draft = room.draft("reporter-a", "復職").await;
    let publish = format!(r#"mutation {{ publishArticle(id: "{draft}") {{ status }} }}"#);

    {
        let database = room.app.db.database();
        let mut conn = database.get().expect("connection");
        users::set_role(&mut conn, "editor", Role::Reporter).expect("demote");
        users::set_role(&mut conn, "editor", Role::Editor).expect("promote");
    }
    let with_old = room.as_user(Some(&old), &publish).await;
    let me_old = room.as_user(Some(&old), "{ me { username } }").await;
    let with_new = room.as_user(Some(&room.token("editor")), &publish).await;

    assert_eq!(code(&with_old), "UNAUTHENTICATED", "{with_old}");
    assert_eq!(me_old["data"]["me"], Value::Null, "{me_old}");
    assert_eq!(code(&with_new), "OK", "{with_new}");
    assert_eq!(with_new["data"]["publishArticle"]["status"], "PUBLISHED");
}

both_engines!(two_concurrent_edits_of_one_revision_make_one_change);
async fn two_concurrent_edits_of_one_revision_make_one_change(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let id = room.draft("reporter-a", "並發").await;
    let editor = room.token("editor");
    let q = |t: &str| {
        format!(
            r#"mutation {{ updateArticle(id: "{id}", expectedRevision: 1, input: {{title: "{t}"}}) {{ revision }} }}"#
        )
    };

    let (first, second) = (q("甲"), q("乙"));
    let (a, b) = tokio::join!(
        room.as_user(Some(&editor), &first),
        room.as_user(Some(&editor), &second)
    );

    let mut codes = [code(&a).to_string(), code(&b).to_string()];
    codes.sort();
    assert_eq!(codes, ["CONFLICT", "OK"], "{a} {b}");
    let loser = if code(&a) == "CONFLICT" { &a } else { &b };
    assert!(loser["errors"][0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("revision 2")));
}

both_engines!(a_scheduled_article_goes_live_at_its_time_even_after_a_restart);
async fn a_scheduled_article_goes_live_at_its_time_even_after_a_restart(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let id = room.draft("reporter-a", "定時稿件").await;
    let at = (chrono::Utc::now() + chrono::Duration::seconds(3)).to_rfc3339();
    let scheduled = room
        .as_user(
            Some(&room.token("editor")),
            &format!(r#"mutation {{ publishArticle(id: "{id}", at: "{at}") {{ status }} }}"#),
        )
        .await;
    let count = "{ articles { totalCount } }";

    let before = room.app.graphql(count).await;
    // A new server on the same database stands in for a restart.
    let restarted = TestApp::start(&room.app.db.url, &[("NEWSDESK_JWT_SECRET", SECRET)]).await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let after = reqwest::Client::new()
        .post(format!("{restarted}/graphql"))
        .json(&json!({ "query": count }))
        .send()
        .await
        .expect("post")
        .json::<Value>()
        .await
        .expect("json");

    assert_eq!(
        scheduled["data"]["publishArticle"]["status"], "SCHEDULED",
        "{scheduled}"
    );
    assert_eq!(before["data"]["articles"]["totalCount"], 0);
    assert_eq!(after["data"]["articles"]["totalCount"], 1);
}

both_engines!(preview_shows_drafts_only_to_those_who_may_read_them);
async fn preview_shows_drafts_only_to_those_who_may_read_them(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let id = room.draft("reporter-a", "草稿預覽").await;
    let q = format!(r#"{{ article(id: "{id}", preview: true) {{ title status }} }}"#);
    let missing = r#"{ article(id: "99999", preview: true) { title status } }"#;

    let owner = room.as_user(Some(&room.token("reporter-a")), &q).await;
    let editor = room.as_user(Some(&room.token("editor")), &q).await;
    let other = room.as_user(Some(&room.token("reporter-b")), &q).await;
    let anonymous = room.as_user(None, &q).await;
    let other_missing = room.as_user(Some(&room.token("reporter-b")), missing).await;

    assert_eq!(owner["data"]["article"]["status"], "DRAFT");
    assert_eq!(editor["data"]["article"]["title"], "草稿預覽");
    assert_eq!(other, other_missing);
    assert_eq!(anonymous["data"]["article"], Value::Null);
}

#[tokio::test]
async fn a_weak_secret_stops_the_server_at_start() {
    let db = TestDb::new(Engine::Sqlite).expect("sqlite");
    let out = crate::helpers::newsdesk_with(
        &db.url,
        &["serve"],
        &[("NEWSDESK_JWT_SECRET", "sixteen-bytes!!!")],
    );

    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("NEWSDESK_JWT_SECRET"));
}

#[tokio::test]
async fn a_purge_url_without_a_secret_stops_the_server_at_start() {
    let db = TestDb::new(Engine::Sqlite).expect("sqlite");
    // A taken port: a server that got past its configuration fails to bind
    // instead of running on.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    let bind = taken.local_addr().expect("addr").to_string();
    for secret in [None, Some(""), Some("   ")] {
        let mut vars = vec![
            ("NEWSDESK_PURGE_URL", "https://cdn.example.com/purge"),
            ("NEWSDESK_BIND", bind.as_str()),
        ];
        vars.extend(secret.map(|s| ("NEWSDESK_PURGE_SECRET", s)));
        let out = crate::helpers::newsdesk_with(&db.url, &["serve"], &vars);

        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{secret:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains("NEWSDESK_PURGE_SECRET"), "{stderr}");
    }
}

#[tokio::test]
async fn login_gives_a_working_token_and_throttles_guessing() {
    let Some(room) = Newsroom::open(Engine::Sqlite).await else {
        return;
    };
    {
        let database = room.app.db.database();
        let mut conn = database.get().expect("connection");
        let hash = newsdesk::auth::passwords::hash("correct horse battery").expect("hash");
        users::create(&mut conn, "writer", Role::Reporter, Some(&hash)).expect("user");
    }
    let login = |p: &str| {
        format!(
            r#"mutation {{ login(username: "writer", password: "{p}") {{ token user {{ role }} }} }}"#
        )
    };

    let ok = room.as_user(None, &login("correct horse battery")).await;
    let token = ok["data"]["login"]["token"]
        .as_str()
        .expect("token")
        .to_string();
    let me = room.as_user(Some(&token), "{ me { username role } }").await;
    let mut last = Value::Null;
    for _ in 0..6 {
        last = room.as_user(None, &login("wrong")).await;
    }
    let locked_out = room.as_user(None, &login("correct horse battery")).await;

    assert_eq!(
        me["data"]["me"],
        json!({ "username": "writer", "role": "REPORTER" })
    );
    assert_eq!(code(&last), "TOO_MANY_REQUESTS");
    assert_eq!(code(&locked_out), "TOO_MANY_REQUESTS");
}

both_engines!(curation_mutations_obey_the_role_table);
async fn curation_mutations_obey_the_role_table(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let admin = room.token("admin");
    let cases: Vec<(&str, &[&str])> = vec![
        (
            r#"mutation { createSection(input: {name: "新欄目WHO"}) { slug } }"#,
            &["editor", "admin"],
        ),
        (
            r#"mutation { updateSection(slug: "lin-yi", input: {position: 3}) { position } }"#,
            &["editor", "admin"],
        ),
        (
            r#"mutation { moveSection(slug: "lin-yi", parent: null) { slug } }"#,
            &["editor", "admin"],
        ),
        (
            r#"mutation { deleteSection(slug: "empty-WHO") { slug } }"#,
            &["editor", "admin"],
        ),
        (
            r#"mutation { upsertSource(name: "來源WHO", owned: false) { name owned } }"#,
            &["editor", "admin"],
        ),
        (
            r#"mutation { upsertContributor(name: "作者WHO") { name } }"#,
            &["editor", "admin"],
        ),
        (
            r#"mutation { setRecommendationList(name: "home", items: [{headline: "WHO", url: "https://x.test/WHO"}]) { headline } }"#,
            &["editor", "admin"],
        ),
        (
            r#"mutation { updateSiteSettings(input: {postcode: "250014"}) { postcode } }"#,
            &["admin"],
        ),
        (
            r#"mutation { upsertCopyrightNotice(input: {kind: ORIGINAL, text: "條款WHO"}) { kind } }"#,
            &["legal", "admin"],
        ),
        (
            r#"{ auditEvents(first: 5) { nodes { action } } }"#,
            &["admin"],
        ),
    ];
    for (template, allowed) in cases {
        for who in WHO {
            let query = template.replace("WHO", who);
            if query.contains("deleteSection") {
                let made = room
                    .as_user(Some(&admin), &format!(r#"mutation {{ createSection(input: {{name: "空{who}", slug: "empty-{who}"}}) {{ slug }} }}"#))
                    .await;
                assert_eq!(code(&made), "OK", "{made}");
            }
            let token = (who != "anonymous").then(|| room.token(who));
            let before = room.app.db.row_counts();

            let body = room.as_user(token.as_deref(), &query).await;

            let want = if allowed.contains(&who) {
                "OK"
            } else if who == "anonymous" {
                "UNAUTHENTICATED"
            } else {
                "FORBIDDEN"
            };
            assert_eq!(code(&body), want, "{query} as {who}: {body}");
            if want != "OK" {
                assert_eq!(
                    room.app.db.row_counts(),
                    before,
                    "{query} as {who} wrote something"
                );
            }
        }
    }
}

both_engines!(every_write_leaves_an_audit_event);
async fn every_write_leaves_an_audit_event(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let id = room.draft("reporter-a", "審計").await;
    room.as_user(
        Some(&room.token("editor")),
        &format!(r#"mutation {{ publishArticle(id: "{id}") {{ revision }} }}"#),
    )
    .await;
    let refused = room
        .as_user(
            Some(&room.token("reporter-b")),
            &format!(r#"mutation {{ deleteArticle(id: "{id}") {{ revision }} }}"#),
        )
        .await;

    let log = room
        .as_user(
            Some(&room.token("admin")),
            &format!(r#"{{ auditEvents(filter: {{targetType: "article", targetId: {id}}}) {{ nodes {{ action actorRole revisionBefore revisionAfter requestId }} }} }}"#),
        )
        .await;

    assert_eq!(code(&refused), "FORBIDDEN");
    assert_eq!(
        log["data"]["auditEvents"]["nodes"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| (
                e["action"].as_str().unwrap_or(""),
                e["actorRole"].as_str().unwrap_or(""),
                e["revisionBefore"].as_i64(),
                e["revisionAfter"].as_i64()
            ))
            .collect::<Vec<_>>(),
        vec![
            ("article.publish", "editor", Some(1), Some(2)),
            ("article.create", "reporter", None, Some(1))
        ],
        "{log}"
    );
    assert!(log["data"]["auditEvents"]["nodes"][0]["requestId"]
        .as_str()
        .is_some_and(|r| !r.is_empty()));
}

both_engines!(bad_input_is_refused_field_by_field);
async fn bad_input_is_refused_field_by_field(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let editor = room.token("editor");
    let cases = [
        (json!({ "title": "", "section": "lin-yi" }), "title"),
        (
            json!({ "title": "長".repeat(201), "section": "lin-yi" }),
            "title",
        ),
        (
            json!({ "title": "t", "summary": "摘".repeat(501), "section": "lin-yi" }),
            "summary",
        ),
        (
            json!({ "title": "t", "paragraphs": ["字".repeat(70_000)], "section": "lin-yi" }),
            "paragraphs",
        ),
        (
            json!({ "title": "t", "section": "no-such-section" }),
            "section",
        ),
        (
            json!({ "title": "t", "section": "lin-yi", "source": "無名報" }),
            "source",
        ),
        (
            json!({ "title": "t", "section": "lin-yi", "slug": "Not A Slug" }),
            "slug",
        ),
        (
            json!({ "title": "t", "section": "lin-yi", "paragraphs": ["a"], "bodyHtml": "<p>b</p>" }),
            "body",
        ),
    ];
    let bearer = format!("Bearer {editor}");
    let before = room.app.db.row_counts();
    for (input, field) in cases {
        let (_, body) = room
            .app
            .graphql_with(
                "mutation($input: CreateArticleInput!) { createArticle(input: $input) { databaseId } }",
                json!({ "input": input }),
                &[("authorization", &bearer)],
            )
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{field}: {body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(field)),
            "{field}: {body}"
        );
    }
    // Fields a role may not set are not part of the input at all: refused, not ignored.
    let mass = room
        .as_user(
            Some(&room.token("reporter-a")),
            r#"mutation { createArticle(input: {title: "t", section: "lin-yi", status: PUBLISHED}) { databaseId } }"#,
        )
        .await;
    assert_eq!(code(&mass), "GRAPHQL_VALIDATION_FAILED", "{mass}");
    assert_eq!(room.app.db.row_counts(), before);
}

both_engines!(html_is_sanitised_and_old_slugs_keep_working);
async fn html_is_sanitised_and_old_slugs_keep_working(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let editor = room.token("editor");
    let created = room
        .as_user(
            Some(&editor),
            r#"mutation { createArticle(input: {title: "HTML稿", section: "lin-yi", slug: "html-story",
                bodyHtml: "<p onclick=\"steal()\">正文<script>alert(1)</script><a href=\"javascript:alert(1)\">鏈接</a></p>"}) {
                databaseId } }"#,
        )
        .await;
    let id = created["data"]["createArticle"]["databaseId"]
        .as_i64()
        .expect("id");
    room.as_user(
        Some(&editor),
        &format!(r#"mutation {{ publishArticle(id: "{id}") {{ revision }} }}"#),
    )
    .await;
    let renamed = room
        .as_user(
            Some(&editor),
            &format!(r#"mutation {{ updateArticle(id: "{id}", expectedRevision: 2, input: {{slug: "html-story-2"}}) {{ slug }} }}"#),
        )
        .await;

    let by_old = room
        .app
        .graphql(r#"{ article(slug: "html-story") { databaseId slug bodyText } }"#)
        .await;

    assert_eq!(
        renamed["data"]["updateArticle"]["slug"], "html-story-2",
        "{renamed}"
    );
    assert_eq!(by_old["data"]["article"]["databaseId"], id);
    assert_eq!(by_old["data"]["article"]["slug"], "html-story-2");
    let body = by_old["data"]["article"]["bodyText"].as_str().unwrap_or("");
    assert!(body.contains("正文"), "{body}");
    for bad in ["<script", "onclick", "javascript:"] {
        assert!(!body.contains(bad), "{bad} survived: {body}");
    }
}

#[tokio::test]
async fn public_key_tokens_work_and_resist_key_confusion() {
    let dir = tempfile::tempdir().expect("dir");
    let private = dir.path().join("ed.pem");
    let public = dir.path().join("ed.pub.pem");
    let ok = std::process::Command::new("openssl")
        .args(["genpkey", "-algorithm", "ed25519", "-out"])
        .arg(&private)
        .status()
        .expect("openssl")
        .success()
        && std::process::Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(&private)
            .arg("-out")
            .arg(&public)
            .status()
            .expect("openssl")
            .success();
    assert!(ok, "openssl could not make a key pair");
    let db = TestDb::new(Engine::Sqlite).expect("sqlite");
    let public_path = public.to_str().expect("path").to_string();
    let address = TestApp::start(
        &db.url,
        &[
            ("NEWSDESK_JWT_ALGORITHM", "EdDSA"),
            ("NEWSDESK_JWT_PUBLIC_KEY", &public_path),
        ],
    )
    .await;
    {
        let database = db.database();
        let mut conn = database.get().expect("connection");
        users::create(&mut conn, "editor", Role::Editor, None).expect("user");
    }
    let now = chrono::Utc::now().timestamp();
    let c = json!({ "sub": "editor", "role": "editor", "iat": now, "exp": now + 600,
        "iss": "newsdesk", "aud": "newsdesk-editorial", "jti": "k1" });
    let signing = EncodingKey::from_ed_pem(&std::fs::read(&private).expect("pem")).expect("key");
    let good = encode(&Header::new(Algorithm::EdDSA), &c, &signing).expect("sign");
    let confused = forge(
        json!({ "alg": "HS256" }),
        c.clone(),
        &std::fs::read(&public).expect("pem"),
    );
    let me = |token: String| {
        let address = address.clone();
        async move {
            reqwest::Client::new()
                .post(format!("{address}/graphql"))
                .bearer_auth(token)
                .json(&json!({ "query": "{ me { username } }" }))
                .send()
                .await
                .expect("post")
                .json::<Value>()
                .await
                .expect("json")
        }
    };

    assert_eq!(me(good).await["data"]["me"]["username"], "editor");
    assert_eq!(me(confused).await["data"]["me"], Value::Null);
}

#[tokio::test]
async fn the_cli_creates_accounts_and_mints_tokens() {
    let db = TestDb::new(Engine::Sqlite).expect("sqlite");
    let secret = [("NEWSDESK_JWT_SECRET", SECRET)];
    let add = |name: &str, role: &str, password: &str| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_newsdesk"))
            .args(["user", "add", "--username", name, "--role", role])
            .env("DATABASE_URL", &db.url)
            .env("NEWSDESK_JWT_SECRET", SECRET)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(format!("{password}\n").as_bytes())
            .expect("write");
        child.wait_with_output().expect("wait")
    };

    let created = add("chief", "EDITOR", "a long enough password");
    let weak = add("weak", "editor", "short");
    let bad_role = add("x", "emperor", "a long enough password");
    let token = crate::helpers::newsdesk_with(
        &db.url,
        &[
            "token", "--sub", "chief", "--role", "Editor", "--ttl", "15m",
        ],
        &secret,
    );
    let wrong_role = crate::helpers::newsdesk_with(
        &db.url,
        &["token", "--sub", "chief", "--role", "admin"],
        &secret,
    );
    let too_long = crate::helpers::newsdesk_with(
        &db.url,
        &[
            "token", "--sub", "chief", "--role", "editor", "--ttl", "13h",
        ],
        &secret,
    );

    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(!weak.status.success() && String::from_utf8_lossy(&weak.stderr).contains("password"));
    assert!(
        !bad_role.status.success() && String::from_utf8_lossy(&bad_role.stderr).contains("role")
    );
    assert!(
        token.status.success(),
        "{}",
        String::from_utf8_lossy(&token.stderr)
    );
    let minted = String::from_utf8_lossy(&token.stdout)
        .lines()
        .last()
        .unwrap_or("")
        .to_string();
    let claims = keys().verify(&minted).expect("a valid token");
    assert_eq!(
        (claims.sub.as_str(), claims.role.as_str()),
        ("chief", "editor")
    );
    assert_eq!(claims.exp - claims.iat, 900);
    assert!(!wrong_role.status.success());
    assert!(!too_long.status.success());
}
