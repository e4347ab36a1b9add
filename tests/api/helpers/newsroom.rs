//! A running newsroom for the tests: a server with a JWT secret, a section
//! `lin-yi`, one account per role, and tokens minted for them.

use std::time::Duration;

use newsdesk::auth::tokens::TokenKeys;
use newsdesk::db::users;
use newsdesk::domain::Role;
use serde_json::{json, Value};

use super::{Engine, TestApp};
use crate::fixtures::section;

pub const SECRET: &str = "test-secret-0123456789abcdef0123456789";

/// The keys the newsroom's server verifies tokens with.
pub fn keys() -> TokenKeys {
    TokenKeys::hs256(
        SECRET.as_bytes(),
        "newsdesk",
        "newsdesk-editorial",
        Duration::from_secs(12 * 3600),
    )
    .expect("keys")
}

/// A running server with a JWT secret, a section `lin-yi`, and one account per role.
pub struct Newsroom {
    pub app: TestApp,
}

impl Newsroom {
    pub async fn open(engine: Engine) -> Option<Newsroom> {
        Self::open_with(engine, &[]).await
    }

    /// Like [`Newsroom::open`], with extra settings.
    pub async fn open_with(engine: Engine, vars: &[(&str, &str)]) -> Option<Newsroom> {
        let mut all = vec![("NEWSDESK_JWT_SECRET", SECRET)];
        all.extend_from_slice(vars);
        let app = TestApp::spawn_with(engine, &all).await?;
        Some(Self::adopt(app))
    }

    /// Sets up the accounts and section on a server started elsewhere.
    pub fn adopt(app: TestApp) -> Newsroom {
        let database = app.db.database();
        let mut conn = database.get().expect("connection");
        section(&mut conn, "臨沂", None);
        for (name, role) in [
            ("reporter-a", Role::Reporter),
            ("reporter-b", Role::Reporter),
            ("editor", Role::Editor),
            ("legal", Role::Legal),
            ("admin", Role::Admin),
            ("claimant", Role::Claimant),
            ("partner", Role::Partner),
        ] {
            users::create(&mut conn, name, role, None).expect("user");
        }
        drop(conn);
        Newsroom { app }
    }

    /// A valid token for an account created by `open`.
    pub fn token(&self, who: &str) -> String {
        let role = match who {
            "reporter-a" | "reporter-b" => Role::Reporter,
            other => Role::parse_loose(other).expect("role"),
        };
        keys()
            .mint(who, role, Duration::from_secs(900))
            .expect("mint")
            .0
    }

    pub async fn as_user(&self, token: Option<&str>, query: &str) -> Value {
        let bearer = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = bearer
            .as_deref()
            .map(|b| vec![("authorization", b)])
            .unwrap_or_default();
        self.app.graphql_with(query, json!({}), &headers).await.1
    }

    /// A draft filed by `owner` through `createArticle`.
    pub async fn draft(&self, owner: &str, title: &str) -> i32 {
        let body = self
            .as_user(
                Some(&self.token(owner)),
                &format!(r#"mutation {{ createArticle(input: {{title: "{title}", section: "lin-yi", paragraphs: ["正文。"]}}) {{ databaseId }} }}"#),
            )
            .await;
        body["data"]["createArticle"]["databaseId"]
            .as_i64()
            .unwrap_or_else(|| panic!("draft not created: {body}")) as i32
    }
}
