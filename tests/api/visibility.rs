//! Drafts, scheduled, withdrawn and deleted articles are invisible to the
//! public on every surface, and indistinguishable from missing ones.

use serde_json::json;

use crate::both_engines;
use crate::fixtures::{recommend, section, ArticleBuilder};
use crate::helpers::{Engine, TestApp};

both_engines!(hidden_articles_never_appear);
async fn hidden_articles_never_appear(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    let (public, hidden) = {
        let database = app.db.database();
        let mut conn = database.get().expect("connection");
        let parent = section(&mut conn, "山東", None);
        let child = section(&mut conn, "臨沂", Some(parent));
        let public = ArticleBuilder::new(child, "公開稿件")
            .slug("public-one")
            .insert(&mut conn);
        let draft = ArticleBuilder::new(child, "草稿機密甲")
            .slug("secret-draft")
            .status("draft")
            .insert(&mut conn);
        let scheduled = ArticleBuilder::new(child, "預約機密乙")
            .slug("secret-scheduled")
            .status("scheduled")
            .in_the_future()
            .insert(&mut conn);
        let withdrawn = ArticleBuilder::new(child, "撤稿機密丙")
            .slug("secret-withdrawn")
            .insert(&mut conn);
        crate::fixtures::withdraw(&database, &mut conn, withdrawn);
        let deleted = ArticleBuilder::new(child, "刪除機密丁")
            .slug("secret-deleted")
            .status("deleted")
            .insert(&mut conn);
        recommend(
            &mut conn,
            &[
                (public, "公開稿件"),
                (draft, "草稿機密甲"),
                (withdrawn, "撤稿機密丙"),
            ],
        );
        (public, vec![draft, scheduled, withdrawn, deleted])
    };
    let slugs = [
        "secret-draft",
        "secret-scheduled",
        "secret-withdrawn",
        "secret-deleted",
    ];

    let lists = app
        .graphql(&format!(
            r#"{{
              articles(first: 100) {{ totalCount nodes {{ databaseId title slug related(first: 10) {{ databaseId title }} }} }}
              section(slug: "shan-dong") {{ articles {{ totalCount nodes {{ databaseId title }} }} }}
              recommendations(first: 100) {{ headline article {{ databaseId title }} }}
              public: article(id: "{public}") {{ related {{ databaseId }} }}
            }}"#
        ))
        .await;

    assert!(lists.get("errors").is_none(), "{lists}");
    let text = lists.to_string();
    assert!(!text.contains("機密"), "a hidden title leaked: {text}");
    for slug in slugs {
        assert!(!text.contains(slug), "{slug} leaked");
    }
    assert_eq!(lists["data"]["articles"]["totalCount"], 1);
    assert_eq!(lists["data"]["section"]["articles"]["totalCount"], 1);
    assert_eq!(
        lists["data"]["recommendations"],
        json!([{ "headline": "公開稿件", "article": { "databaseId": public, "title": "公開稿件" } }])
    );

    let missing_by_id = app.graphql(r#"{ article(id: "99999") { id } }"#).await;
    let missing_by_slug = app
        .graphql(r#"{ article(slug: "nothing-here") { id } }"#)
        .await;
    for (id, slug) in hidden.iter().zip(slugs) {
        let by_id = app
            .graphql(&format!(r#"{{ article(id: "{id}") {{ id }} }}"#))
            .await;
        let by_slug = app
            .graphql(&format!(r#"{{ article(slug: "{slug}") {{ id }} }}"#))
            .await;
        let global = newsdesk_global_id(*id);
        let by_node = app
            .graphql(&format!(r#"{{ node(id: "{global}") {{ id }} }}"#))
            .await;
        if slug == "secret-withdrawn" {
            // A takedown is announced (RFC 7725), never its content.
            assert_eq!(by_id["data"]["article"], serde_json::Value::Null);
            assert_eq!(
                by_id["errors"][0]["extensions"]["code"],
                "UNAVAILABLE_FOR_LEGAL_REASONS"
            );
            assert!(!by_slug.to_string().contains("機密"));
        } else {
            assert_eq!(
                by_id, missing_by_id,
                "article {id} is told apart from a missing one"
            );
            assert_eq!(by_slug, missing_by_slug);
        }
        assert_eq!(by_node, json!({ "data": { "node": null } }));
    }
}

fn newsdesk_global_id(id: i32) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("Article:{id}"))
}
