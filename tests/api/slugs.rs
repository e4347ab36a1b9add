//! A slug is reserved when its article is published. Until then, a slug
//! held by an article the writer may not see answers exactly like a free one.

use serde_json::Value;

use crate::both_engines;
use crate::helpers::Engine;
use crate::helpers::Newsroom;

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("OK")
}

async fn create(room: &Newsroom, who: &str, title: &str, slug: Option<&str>) -> Value {
    let slug = slug
        .map(|s| format!(r#", slug: "{s}""#))
        .unwrap_or_default();
    room.as_user(
        Some(&room.token(who)),
        &format!(
            r#"mutation {{ createArticle(input: {{title: "{title}", section: "lin-yi", paragraphs: ["正文。"]{slug}}}) {{ databaseId slug }} }}"#
        ),
    )
    .await
}

both_engines!(a_slug_held_by_someone_elses_hidden_draft_answers_like_a_free_one);
async fn a_slug_held_by_someone_elses_hidden_draft_answers_like_a_free_one(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let theirs = create(&room, "reporter-b", "對手的草稿", Some("port-story")).await;
    let their_generated = create(&room, "reporter-b", "港口新聞", None).await;

    let mine = create(&room, "reporter-a", "我的草稿", Some("port-story")).await;
    let my_generated = create(&room, "reporter-a", "港口新聞", None).await;
    let my_second = create(&room, "reporter-a", "另一篇", Some("port-story")).await;

    assert_eq!(code(&mine), "OK", "{mine}");
    assert_eq!(mine["data"]["createArticle"]["slug"], "port-story");
    assert_eq!(
        my_generated["data"]["createArticle"]["slug"],
        their_generated["data"]["createArticle"]["slug"],
        "a hidden article with the same headline changed the generated slug"
    );
    assert_eq!(
        code(&my_second),
        "BAD_USER_INPUT",
        "my own draft holds it: {my_second}"
    );

    let my_id = mine["data"]["createArticle"]["databaseId"].clone();
    let their_id = theirs["data"]["createArticle"]["databaseId"].clone();
    let preview = room
        .as_user(
            Some(&room.token("reporter-a")),
            r#"{ article(slug: "port-story", preview: true) { databaseId slug } }"#,
        )
        .await;
    assert_eq!(preview["data"]["article"]["databaseId"], my_id, "{preview}");

    // Publishing settles the slug: the first article published keeps it.
    let editor = room.token("editor");
    let published = room
        .as_user(
            Some(&editor),
            &format!(r#"mutation {{ publishArticle(id: "{my_id}") {{ status slug }} }}"#),
        )
        .await;
    assert_eq!(
        published["data"]["publishArticle"]["slug"], "port-story",
        "{published}"
    );
    let public = room
        .app
        .client
        .get(format!("{}/v1/articles/port-story", room.app.address))
        .send()
        .await
        .expect("get");
    assert_eq!(public.status(), 200);
    let public: Value = public.json().await.expect("json");
    assert_eq!(public["id"], my_id);

    let their_view = room
        .as_user(
            Some(&room.token("reporter-b")),
            &format!(r#"{{ article(id: "{their_id}", preview: true) {{ slug }} }}"#),
        )
        .await;
    assert_eq!(their_view["data"]["article"]["slug"], "port-story");
    let second_publish = room
        .as_user(
            Some(&editor),
            &format!(r#"mutation {{ publishArticle(id: "{their_id}") {{ status }} }}"#),
        )
        .await;
    assert_eq!(code(&second_publish), "BAD_USER_INPUT", "{second_publish}");

    // Now public, the slug is taken for everyone.
    let after = create(&room, "reporter-b", "第三篇", Some("port-story")).await;
    assert_eq!(code(&after), "BAD_USER_INPUT", "{after}");
}
