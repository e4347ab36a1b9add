//! Authorization beyond the role table (SECURITY.md §7 A, D and T-TD-7): no
//! existence oracle, no hidden or writable-by-accident properties, and
//! limits on what one document or one account can make the server do.

use std::collections::HashMap;
use std::time::Duration;

use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
use newsdesk::auth::tokens::TokenKeys;
use newsdesk::db::users;
use newsdesk::domain::Role;
use serde_json::{json, Value};

use crate::both_engines;
use crate::helpers::{Engine, TestApp, TestDb, NO_POLLING};
use crate::helpers::{Newsroom, SECRET};
use crate::takedowns::{base64_global, filed_id, notice, published};

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("OK")
}

/// Row counts of every table a request in this module could write (the
/// shared counts plus the takedown and webhook tables), to prove that a
/// refused request wrote nothing.
fn all_rows(db: &TestDb) -> HashMap<&'static str, i64> {
    use diesel::prelude::*;
    use newsdesk::db::schema::*;
    let mut counts = db.row_counts();
    let database = db.database();
    let mut conn = database.get().expect("connection");
    let conn = &mut *conn;
    for (table, count) in [
        (
            "takedown_requests",
            takedown_requests::table.count().get_result(conn),
        ),
        (
            "takedown_targets",
            takedown_targets::table.count().get_result(conn),
        ),
        (
            "takedown_events",
            takedown_events::table.count().get_result(conn),
        ),
        (
            "counter_notices",
            counter_notices::table.count().get_result(conn),
        ),
        (
            "related_articles",
            related_articles::table.count().get_result(conn),
        ),
        ("webhooks", webhooks::table.count().get_result(conn)),
        (
            "webhook_outbox",
            webhook_outbox::table.count().get_result(conn),
        ),
    ] {
        counts.insert(table, count.expect("count"));
    }
    counts
}

/// A second claimant account (`claimant-2`) and a token for it.
fn another_claimant(room: &Newsroom) -> String {
    {
        let database = room.app.db.database();
        let mut conn = database.get().expect("connection");
        users::create(&mut conn, "claimant-2", Role::Claimant, None).expect("user");
    }
    TokenKeys::hs256(
        SECRET.as_bytes(),
        "newsdesk",
        "newsdesk-editorial",
        Duration::from_secs(12 * 3600),
    )
    .expect("keys")
    .mint("claimant-2", Role::Claimant, Duration::from_secs(900))
    .expect("mint")
    .0
}

/// Files the standard notice against `article` as `token`.
async fn file_takedown(room: &Newsroom, token: &str, article: i32) -> Value {
    room.as_user(
        Some(token),
        &format!(
            "mutation {{ submitTakedownRequest(input: {}) {{ id }} }}",
            notice(article)
        ),
    )
    .await
}

/// Asks `template` twice as `who`, with `{id}` standing for a hidden object
/// and then for a missing one, and asserts that the two answers are the
/// same bytes, and that the answer is a denial or a null (a validation
/// error would mean the template itself is broken, and would prove nothing).
async fn same_answer(
    room: &Newsroom,
    who: (&str, Option<&str>),
    template: &str,
    hidden: &str,
    missing: &str,
) {
    let (name, token) = who;
    let for_hidden = room.as_user(token, &template.replace("{id}", hidden)).await;
    let for_missing = room
        .as_user(token, &template.replace("{id}", missing))
        .await;
    assert_eq!(
        for_hidden.to_string(),
        for_missing.to_string(),
        "{template} as {name}: hidden ({hidden}) and missing ({missing}) differ"
    );
    let denied = ["NOT_FOUND", "FORBIDDEN", "UNAUTHENTICATED"];
    let all_null = for_hidden["data"]
        .as_object()
        .is_some_and(|fields| fields.values().all(Value::is_null));
    assert!(
        denied.contains(&code(&for_hidden)) || (code(&for_hidden) == "OK" && all_null),
        "{template} as {name}: {for_hidden}"
    );
}

both_engines!(no_existence_oracle_t_authz_3);
/// T-AUTHZ-3: reporter A's draft and an id that was never used get the same
/// answer, byte for byte (data, error codes, messages, paths), from callers
/// who may not see the draft: anonymous and reporter B, on every query and
/// mutation that takes an article id; likewise a takedown request filed by
/// one claimant, asked about by anonymous, reporter B and another claimant.
/// Timing is not asserted here (the checklist's < 5 ms median difference
/// is measured by the benchmarks, not by this functional test).
async fn no_existence_oracle_t_authz_3(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let draft = room.draft("reporter-a", "甲的內部草稿").await;
    // Far enough from the draft that the article filed below cannot take it.
    let never_used = draft + 1000;
    let owner = room
        .as_user(
            Some(&room.token("reporter-a")),
            &format!(
                r#"{{ article(id: "{draft}", preview: true) {{ slug revisions {{ revision }} }} }}"#
            ),
        )
        .await;
    let slug = owner["data"]["article"]["slug"]
        .as_str()
        .unwrap_or_else(|| panic!("the owner cannot preview the draft: {owner}"))
        .to_string();
    assert_eq!(
        owner["data"]["article"]["revisions"],
        json!([{ "revision": 1 }])
    );

    let reporter_b = room.token("reporter-b");
    let callers = [
        ("anonymous", None),
        ("reporter-b", Some(reporter_b.as_str())),
    ];
    let by_id = [
        r#"{ article(id: "{id}") { id title status } }"#,
        r#"{ article(id: "{id}", preview: true) { id title status revisions { revision title } } }"#,
        r#"{ node(id: "{id}") { id ... on Article { title revisions { revision } } } }"#,
        r#"mutation { updateArticle(id: "{id}", expectedRevision: 1, input: {title: "改"}) { revision } }"#,
        // A stale revision must not reveal the current one.
        r#"mutation { updateArticle(id: "{id}", expectedRevision: 7, input: {title: "改"}) { revision } }"#,
        r#"mutation { submitArticle(id: "{id}") { revision } }"#,
        r#"mutation { deleteArticle(id: "{id}") { revision } }"#,
        r#"mutation { publishArticle(id: "{id}") { revision } }"#,
        r#"mutation { unpublishArticle(id: "{id}") { revision } }"#,
        r#"mutation { restoreRevision(id: "{id}", revision: 1) { revision } }"#,
        r#"mutation { setRelatedArticles(id: "{id}", related: []) { revision } }"#,
    ];
    let by_slug = [
        r#"{ article(slug: "{id}") { id title } }"#,
        r#"{ article(slug: "{id}", preview: true) { id title revisions { revision } } }"#,
    ];
    let before = all_rows(&room.app.db);
    for who in callers {
        for template in by_id {
            // Numeric ids and global ids alike (`node` takes only the latter).
            if !template.contains("node(") {
                same_answer(
                    &room,
                    who,
                    template,
                    &draft.to_string(),
                    &never_used.to_string(),
                )
                .await;
            }
            same_answer(
                &room,
                who,
                template,
                &base64_global(draft),
                &base64_global(never_used),
            )
            .await;
        }
        for template in by_slug {
            same_answer(&room, who, template, &slug, &format!("{slug}-never-used")).await;
        }
    }
    assert_eq!(
        all_rows(&room.app.db),
        before,
        "a refused article call wrote something"
    );

    // A takedown request is the claimant's and legal's business only (for
    // editors, see the counter-notice test below).
    let target = published(&room, "被投訴稿件", "disputed", 1);
    let filed = file_takedown(&room, &room.token("claimant"), target).await;
    let request = filed_id(&filed);
    let number: i32 = request
        .strip_prefix("TD-")
        .and_then(|n| n.parse().ok())
        .expect("TD-n");
    let claimant_2 = another_claimant(&room);
    let callers = [
        ("anonymous", None),
        ("reporter-b", Some(reporter_b.as_str())),
        ("claimant-2", Some(claimant_2.as_str())),
    ];
    let takedown_templates = [
        r#"{ takedownRequest(id: "{id}") { id state claimantName contactEmail } }"#,
        r#"mutation { startTakedownReview(id: "{id}") { state } }"#,
        r#"mutation { withdrawArticleProvisionally(id: "{id}") { state } }"#,
        r#"mutation { acceptTakedownRequest(id: "{id}") { state } }"#,
        r#"mutation { rejectTakedownRequest(id: "{id}", reason: "不成立") { state } }"#,
        r#"mutation { fileCounterNotice(id: "{id}", input: {name: "報社", contact: "0531-1", address: "濟南", statement: "有授權"}) { state } }"#,
        r#"mutation { decideCounterNotice(id: "{id}", restore: true) { state } }"#,
    ];
    let before = all_rows(&room.app.db);
    for who in callers {
        for template in takedown_templates {
            same_answer(
                &room,
                who,
                template,
                &request,
                &format!("TD-{}", number + 1000),
            )
            .await;
            same_answer(
                &room,
                who,
                template,
                &number.to_string(),
                &(number + 1000).to_string(),
            )
            .await;
        }
    }
    // A notice naming reporter A's draft reads like one naming no article.
    let names_draft = file_takedown(&room, &claimant_2, draft).await;
    let names_nothing = file_takedown(&room, &claimant_2, never_used).await;
    assert_eq!(names_draft.to_string(), names_nothing.to_string());
    assert_eq!(code(&names_draft), "BAD_USER_INPUT", "{names_draft}");
    assert_eq!(
        all_rows(&room.app.db),
        before,
        "a refused takedown call wrote something"
    );

    let still = room
        .as_user(
            Some(&room.token("reporter-a")),
            &format!(r#"{{ article(id: "{draft}", preview: true) {{ title status revision }} }}"#),
        )
        .await;
    assert_eq!(
        still["data"]["article"],
        json!({ "title": "甲的內部草稿", "status": "DRAFT", "revision": 1 }),
        "{still}"
    );
}

both_engines!(alias_multiplied_cost_is_rejected_t_gql_5);
/// T-GQL-5: fifteen aliases (the most the alias limit lets through) of a
/// page of 100 articles with 100 related articles each are priced by what
/// they would read (15 × 100 × 100 related articles), rejected as too
/// complex, and never reach the database; the same document with small
/// pages runs.
async fn alias_multiplied_cost_is_rejected_t_gql_5(engine: Engine) {
    let Some(app) = TestApp::spawn_with(engine, &NO_POLLING).await else {
        return;
    };
    let fifteen = |page: u32| {
        let fields: String = (0..15)
            .map(|i| {
                format!(
                    "a{i}: articles(first: {page}) {{ edges {{ node {{ related(first: {page}) {{ id }} }} }} }} "
                )
            })
            .collect();
        format!("{{ {fields}}}")
    };

    let before = app.statements().await;
    let expensive = app.graphql(&fifteen(100)).await;
    let after_expensive = app.statements().await;
    let cheap = app.graphql(&fifteen(2)).await;
    let after_cheap = app.statements().await;

    assert_eq!(code(&expensive), "QUERY_TOO_COMPLEX", "{expensive}");
    assert_eq!(expensive["data"], Value::Null);
    assert_eq!(
        after_expensive, before,
        "the rejected document reached the database"
    );
    assert_eq!(code(&cheap), "OK", "{cheap}");
    assert!(
        after_cheap > after_expensive,
        "the statement counter did not move for a document that ran"
    );
}

both_engines!(hidden_fields_cannot_be_filtered_or_sorted_on_t_bopla_1);
/// T-BOPLA-1: filters and sort orders over fields that are not public
/// (notes, owner, status, password hashes, authors' e-mail) are not part of
/// the public filter input, so they are refused at validation, written in
/// the document or sent as variables, on every list that takes a filter.
async fn hidden_fields_cannot_be_filtered_or_sorted_on_t_bopla_1(engine: Engine) {
    let Some(room) = Newsroom::open_with(engine, &NO_POLLING).await else {
        return;
    };
    published(&room, "公開稿件", "public-story", 1);
    room.draft("reporter-a", "未公開草稿").await;
    let hidden_filters = [
        r#"{internalNotes_contains: "a"}"#,
        "{owner: 1}",
        "{ownerId: 1}",
        "{status: DRAFT}",
        r#"{status: "draft"}"#,
        r#"{passwordHash: "a"}"#,
        r#"{author: {email_startsWith: "a"}}"#,
        r#"{section: "lin-yi", author: {passwordHash_startsWith: "$"}}"#,
    ];
    let mut documents: Vec<String> = Vec::new();
    for filter in hidden_filters {
        documents.push(format!(
            "{{ articles(filter: {filter}) {{ totalCount nodes {{ title }} }} }}"
        ));
        documents.push(format!(
            r#"{{ section(slug: "lin-yi") {{ articles(filter: {filter}) {{ totalCount }} }} }}"#
        ));
        documents.push(format!(
            r#"{{ search(query: "稿件", filter: {filter}) {{ totalCount }} }}"#
        ));
    }
    for order in [
        "orderBy: internalNotes",
        r#"orderBy: "internalNotes""#,
        "orderBy: {field: passwordHash, direction: ASC}",
        r#"orderBy: "author.passwordHash""#,
        r#"sort: "t1.password""#,
    ] {
        documents.push(format!(
            "{{ articles({order}) {{ totalCount nodes {{ title }} }} }}"
        ));
    }
    let as_variables = [
        json!({ "status": "DRAFT" }),
        json!({ "internalNotes_contains": "a" }),
        json!({ "author": { "email_startsWith": "a" } }),
    ];

    let before = room.app.statements().await;
    let mut answers = Vec::new();
    for document in &documents {
        answers.push((document.clone(), room.as_user(None, document).await));
    }
    for filter in as_variables {
        let (_, body) = room
            .app
            .graphql_with(
                "query($f: ArticleFilter) { articles(filter: $f) { totalCount nodes { title } } }",
                json!({ "f": filter }),
                &[],
            )
            .await;
        answers.push((format!("variables {filter}"), body));
    }
    let after = room.app.statements().await;
    let public = room
        .as_user(
            None,
            r#"{ articles(filter: {section: "lin-yi"}) { totalCount nodes { title } } }"#,
        )
        .await;

    for (asked, body) in &answers {
        assert_eq!(code(body), "GRAPHQL_VALIDATION_FAILED", "{asked}: {body}");
        assert_eq!(body["data"], Value::Null, "{asked}: {body}");
        assert!(!body.to_string().contains("未公開草稿"), "{asked}: {body}");
    }
    assert_eq!(after, before, "a refused filter reached the database");
    // The public filter works, and shows only the published article.
    assert_eq!(
        public["data"]["articles"],
        json!({ "totalCount": 1, "nodes": [{ "title": "公開稿件" }] }),
        "{public}"
    );
}

/// Output fields that carry an e-mail address, and why each is legitimate:
/// the operator's contact and complaint addresses are footer facts the
/// filing rules require every page to show (not personal data), and a
/// takedown request's contact e-mail is part of the notice itself, served
/// only to legal, the claimant who filed it and, once legal has taken it
/// up, the article's side, to whom the law has the notice forwarded
/// (`visible` in src/graphql/takedowns.rs).
const EMAIL_OUTPUTS: [&str; 3] = [
    "Site.email",
    "Site.complaintEmail",
    "TakedownRequest.contactEmail",
];

/// Input fields that take an e-mail address: the admin's site settings and
/// a claimant's notice. Inputs are never echoed beyond the fields above.
const EMAIL_INPUTS: [&str; 3] = [
    "SiteSettingsInput.email",
    "SiteSettingsInput.complaintEmail",
    "TakedownInput.contactEmail",
];

/// T-BOPLA-3: the committed schema (kept equal to the code by
/// `schema_file.rs`) has no field or input field for credentials or
/// internal state: password hashes, token revocation times, secrets,
/// internal notes, legal holds, requester contacts. A webhook's secret is
/// an argument of `registerWebhook` and never an output. E-mail addresses
/// appear only where listed above.
#[test]
fn the_schema_has_no_secret_fields_t_bopla_3() {
    let sdl = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql is committed");
    let document = async_graphql::parser::parse_schema(&sdl).expect("schema.graphql parses");
    // `Type.field` for every output field, input field and argument.
    let mut outputs: Vec<String> = Vec::new();
    let mut inputs: Vec<String> = Vec::new();
    let mut arguments: Vec<String> = Vec::new();
    for definition in &document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        let type_name = ty.node.name.node.as_str();
        let fields = match &ty.node.kind {
            TypeKind::Object(object) => &object.fields,
            TypeKind::Interface(interface) => &interface.fields,
            TypeKind::InputObject(input) => {
                for field in &input.fields {
                    inputs.push(format!("{type_name}.{}", field.node.name.node));
                }
                continue;
            }
            _ => continue,
        };
        for field in fields {
            let field_name = &field.node.name.node;
            outputs.push(format!("{type_name}.{field_name}"));
            for argument in &field.node.arguments {
                arguments.push(format!(
                    "{type_name}.{field_name}({})",
                    argument.node.name.node
                ));
            }
        }
    }
    let normalised = |name: &str| name.to_ascii_lowercase().replace('_', "");
    let secret_like = [
        "password",
        "tokensvalidafter",
        "secret",
        "internalnote",
        "legalhold",
        "requestercontact",
    ];
    let named_like = |names: &[String], words: &[&str]| -> Vec<String> {
        names
            .iter()
            .filter(|n| {
                let field = normalised(n.rsplit('.').next().unwrap_or(n));
                words.iter().any(|w| field.contains(w))
            })
            .cloned()
            .collect()
    };

    // The scan sees the real schema, not an empty or foreign one.
    for expected in [
        "Webhook.url",
        "Me.username",
        "Article.title",
        "TakedownRequest.state",
    ] {
        assert!(
            outputs.iter().any(|o| o == expected),
            "{expected} not found"
        );
    }
    assert!(
        arguments
            .iter()
            .any(|a| a == "MutationRoot.registerWebhook(secret)"),
        "registerWebhook no longer takes its secret as an argument: check where it went"
    );
    assert_eq!(named_like(&outputs, &secret_like), Vec::<String>::new());
    assert_eq!(named_like(&inputs, &secret_like), Vec::<String>::new());
    assert_eq!(named_like(&outputs, &["email"]), EMAIL_OUTPUTS);
    assert_eq!(named_like(&inputs, &["email"]), EMAIL_INPUTS);
}

both_engines!(mass_assignment_is_refused_t_bopla_4);
/// T-BOPLA-4: a reporter cannot set what only the workflow sets (status,
/// owner, publication time, nested section creation) by adding it to an
/// input: those properties are not in the input types, so the whole
/// request is refused at validation, written in the document or sent as
/// variables, and nothing, not even the legitimate part beside it, is
/// written. The draft stays as it was, and the same edit without the extra
/// property goes through.
async fn mass_assignment_is_refused_t_bopla_4(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let reporter = room.token("reporter-a");
    let id = room.draft("reporter-a", "原標題").await;
    let reporter_b = {
        let database = room.app.db.database();
        let mut conn = database.get().expect("connection");
        users::by_username(&mut conn, "reporter-b")
            .expect("query")
            .expect("reporter-b")
            .id
    };
    let update = |extra: &str| {
        format!(
            r#"mutation {{ updateArticle(id: "{id}", expectedRevision: 1, input: {{title: "改過的標題", {extra}}}) {{ status revision }} }}"#
        )
    };
    let documents = [
        update("status: PUBLISHED"),
        update(&format!("ownerId: {reporter_b}")),
        update(&format!(r#"owner: "{reporter_b}""#)),
        update(r#"publishedAt: "2020-01-01T00:00:00+08:00""#),
        update(r#"section: {create: {name: "新欄目"}}"#),
        r#"mutation { createArticle(input: {title: "新稿", section: "lin-yi", status: PUBLISHED}) { databaseId } }"#.to_string(),
        r#"mutation { createArticle(input: {title: "新稿", section: "lin-yi", publishedAt: "2020-01-01T00:00:00+08:00"}) { databaseId } }"#.to_string(),
    ];
    let bearer = format!("Bearer {reporter}");
    let with_variables = [
        (
            "mutation($id: ID!, $input: UpdateArticleInput!) { updateArticle(id: $id, expectedRevision: 1, input: $input) { status } }",
            json!({ "id": id.to_string(), "input": { "title": "改過的標題", "status": "PUBLISHED" } }),
        ),
        (
            "mutation($id: ID!, $input: UpdateArticleInput!) { updateArticle(id: $id, expectedRevision: 1, input: $input) { status } }",
            json!({ "id": id.to_string(), "input": { "title": "改過的標題", "ownerId": reporter_b } }),
        ),
        (
            "mutation($input: CreateArticleInput!) { createArticle(input: $input) { databaseId } }",
            json!({ "input": { "title": "新稿", "section": "lin-yi", "status": "PUBLISHED" } }),
        ),
    ];

    let before = room.app.db.row_counts();
    let mut answers = Vec::new();
    for document in &documents {
        answers.push((
            document.clone(),
            room.as_user(Some(&reporter), document).await,
        ));
    }
    for (document, variables) in with_variables {
        let (_, body) = room
            .app
            .graphql_with(document, variables.clone(), &[("authorization", &bearer)])
            .await;
        answers.push((format!("{document} with {variables}"), body));
    }
    let after = room.app.db.row_counts();
    let preview = format!(
        r#"{{ article(id: "{id}", preview: true) {{ title status revision publishedAt }} }}"#
    );
    let draft = room.as_user(Some(&reporter), &preview).await;
    let public = room
        .as_user(None, &format!(r#"{{ article(id: "{id}") {{ title }} }}"#))
        .await;
    let plain = room.as_user(Some(&reporter), &update("")).await;

    for (asked, body) in &answers {
        assert_eq!(code(body), "GRAPHQL_VALIDATION_FAILED", "{asked}: {body}");
        assert_eq!(body["data"], Value::Null, "{asked}: {body}");
    }
    assert_eq!(after, before, "a refused input wrote something");
    assert_eq!(
        draft["data"]["article"],
        json!({ "title": "原標題", "status": "DRAFT", "revision": 1, "publishedAt": null }),
        "{draft}"
    );
    assert_eq!(public["data"]["article"], Value::Null, "{public}");
    assert_eq!(
        plain["data"]["updateArticle"],
        json!({ "status": "DRAFT", "revision": 2 }),
        "{plain}"
    );
}

both_engines!(takedown_submission_abuse_is_limited_t_td_7);
/// T-TD-7: one document cannot file a hundred notices (the alias limit
/// refuses it before anything is written), and one account can file 20
/// notices an hour (FILINGS_PER_HOUR in src/graphql/takedowns.rs): the
/// 21st is TOO_MANY_REQUESTS and writes nothing, while another claimant
/// can still file.
async fn takedown_submission_abuse_is_limited_t_td_7(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let target = published(&room, "被投訴稿件", "disputed", 1);
    let claimant = room.token("claimant");
    let claimant_2 = another_claimant(&room);
    // The notice is written once, as the variable's default, so the
    // document stays under the size limit and only its aliases are too many.
    let aliases: String = (0..100)
        .map(|i| format!("n{i}: submitTakedownRequest(input: $notice) {{ id }} "))
        .collect();
    let flood = format!(
        "mutation($notice: TakedownInput! = {}) {{ {aliases}}}",
        notice(target)
    );

    let before = all_rows(&room.app.db);
    let flooded = room.as_user(Some(&claimant), &flood).await;
    let after_flood = all_rows(&room.app.db);
    let mut filed = Vec::new();
    for _ in 0..20 {
        filed.push(file_takedown(&room, &claimant, target).await);
    }
    let full = all_rows(&room.app.db);
    let over = file_takedown(&room, &claimant, target).await;
    let after_over = all_rows(&room.app.db);
    let other = file_takedown(&room, &claimant_2, target).await;

    assert_eq!(code(&flooded), "TOO_MANY_ALIASES", "{flooded}");
    assert_eq!(flooded["data"], Value::Null);
    assert_eq!(after_flood, before, "the refused flood wrote something");
    for (i, body) in filed.iter().enumerate() {
        assert_eq!(code(body), "OK", "filing {}: {body}", i + 1);
    }
    assert_eq!(full["takedown_requests"], before["takedown_requests"] + 20);
    assert_eq!(code(&over), "TOO_MANY_REQUESTS", "{over}");
    assert_eq!(over["data"], Value::Null, "{over}");
    assert_eq!(after_over, full, "the refused 21st filing wrote something");
    assert_eq!(code(&other), "OK", "the limit is per account: {other}");
}

both_engines!(a_counter_notice_reveals_no_request_an_editor_cannot_see_t_authz_3);

/// T-AUTHZ-3 for editors: a request still RECEIVED is not theirs to see
/// (`takedownRequest` answers null, as for a missing one), so filing a
/// counter-notice against it must answer exactly as for a missing request,
/// without telling that it exists or what state it is in. Timing is not
/// asserted here.
async fn a_counter_notice_reveals_no_request_an_editor_cannot_see_t_authz_3(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let target = published(&room, "被投訴稿件", "disputed", 1);
    let filed = file_takedown(&room, &room.token("claimant"), target).await;
    let request = filed_id(&filed);
    let editor = room.token("editor");
    let editor_sees = room
        .as_user(
            Some(&editor),
            &format!(r#"{{ takedownRequest(id: "{request}") {{ state }} }}"#),
        )
        .await;
    assert_eq!(
        editor_sees["data"]["takedownRequest"],
        Value::Null,
        "{editor_sees}"
    );

    let before = all_rows(&room.app.db);
    same_answer(
        &room,
        ("editor", Some(&editor)),
        r#"mutation { fileCounterNotice(id: "{id}", input: {name: "報社", contact: "0531-1", address: "濟南", statement: "有授權"}) { state } }"#,
        &request,
        "TD-99999",
    )
    .await;

    assert_eq!(all_rows(&room.app.db), before);
}

both_engines!(a_burst_of_submissions_cannot_overrun_the_limit_t_td_7);

/// T-TD-7 under load: forty notices from one claimant sent at once (the
/// way a flood arrives) still file exactly 20; the others are
/// TOO_MANY_REQUESTS and write nothing.
async fn a_burst_of_submissions_cannot_overrun_the_limit_t_td_7(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let target = published(&room, "被投訴稿件", "disputed", 1);
    let claimant = room.token("claimant");
    let before = all_rows(&room.app.db)["takedown_requests"];

    let burst =
        futures_util::future::join_all((0..40).map(|_| file_takedown(&room, &claimant, target)))
            .await;

    let mut codes: HashMap<&str, usize> = HashMap::new();
    for body in &burst {
        *codes.entry(code(body)).or_default() += 1;
    }
    assert_eq!(
        codes,
        HashMap::from([("OK", 20), ("TOO_MANY_REQUESTS", 20)]),
        "answers to 40 filings at once"
    );
    assert_eq!(all_rows(&room.app.db)["takedown_requests"], before + 20);
}

both_engines!(the_audit_log_and_revisions_hold_no_secrets_t_bopla_5);
/// T-BOPLA-5: what admins and editors read back about past changes — the
/// audit log and an article's revisions — carries no webhook secret and no
/// password hash, though the changes that set them are in it.
async fn the_audit_log_and_revisions_hold_no_secrets_t_bopla_5(engine: Engine) {
    // A loopback hook that is never called: only what is stored matters.
    let mut vars = NO_POLLING.to_vec();
    vars.push(("NEWSDESK_WEBHOOK_ALLOW_PRIVATE", "1"));
    let Some(room) = Newsroom::open_with(engine, &vars).await else {
        return;
    };
    let admin = room.token("admin");
    let secret = "whsec-audit-must-not-show-0123456789";
    let hook = room
        .as_user(
            Some(&admin),
            &format!(
                r#"mutation {{ registerWebhook(url: "http://127.0.0.1:9/in", events: ["*"], secret: "{secret}") {{ databaseId }} }}"#
            ),
        )
        .await;
    assert!(
        hook["data"]["registerWebhook"]["databaseId"].is_i64(),
        "{hook}"
    );
    let id = room.draft("editor", "审计稿").await;

    let audit = room
        .as_user(
            Some(&admin),
            "{ auditEvents(first: 100) { nodes { action targetType targetId actorRole requestId } } }",
        )
        .await;
    let revisions = room
        .as_user(
            Some(&room.token("editor")),
            &format!(r#"{{ article(id: "{id}", preview: true) {{ revisions {{ revision title status }} }} }}"#),
        )
        .await;

    let actions: Vec<&str> = audit["data"]["auditEvents"]["nodes"]
        .as_array()
        .map(|events| events.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    assert!(actions.contains(&"webhook.register"), "{audit}");
    assert!(
        revisions["data"]["article"]["revisions"][0]["title"] == "审计稿",
        "{revisions}"
    );
    let read_back = format!("{audit}{revisions}");
    assert!(
        !read_back.contains(secret),
        "the webhook secret is readable"
    );
    assert!(
        !read_back.contains("$argon2"),
        "a password hash is readable"
    );
}

both_engines!(counts_only_count_what_the_caller_may_read_t_bopla_2);
/// T-BOPLA-2: totals are computed over public articles only, so a count
/// cannot tell the public how many drafts match a word or a section.
async fn counts_only_count_what_the_caller_may_read_t_bopla_2(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let editor = room.token("editor");
    for n in ["一", "二"] {
        let id = room.draft("editor", &format!("甲寅统计公开稿{n}")).await;
        let published = room
            .as_user(
                Some(&editor),
                &format!(r#"mutation {{ publishArticle(id: "{id}") {{ status }} }}"#),
            )
            .await;
        assert_eq!(
            published["data"]["publishArticle"]["status"], "PUBLISHED",
            "{published}"
        );
    }
    for n in ["一", "二", "三"] {
        room.draft("reporter-a", &format!("甲寅统计机密稿{n}"))
            .await;
    }
    let total = |body: &Value, field: &str| body["data"][field]["totalCount"].as_i64();

    let section = room
        .as_user(
            None,
            r#"{ articles(filter: {section: "lin-yi"}) { totalCount } }"#,
        )
        .await;
    let shared_word = room
        .as_user(
            None,
            r#"{ search(query: "甲寅统计") { totalCount nodes { snippet } } }"#,
        )
        .await;
    let draft_word = room
        .as_user(None, r#"{ search(query: "机密稿") { totalCount } }"#)
        .await;
    let draft_word_as_reporter = room
        .as_user(
            Some(&room.token("reporter-a")),
            r#"{ search(query: "机密稿") { totalCount } }"#,
        )
        .await;

    assert_eq!(total(&section, "articles"), Some(2), "{section}");
    assert_eq!(total(&shared_word, "search"), Some(2), "{shared_word}");
    assert_eq!(
        shared_word["data"]["search"]["nodes"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert_eq!(total(&draft_word, "search"), Some(0), "{draft_word}");
    assert_eq!(
        total(&draft_word_as_reporter, "search"),
        Some(0),
        "search is over public articles, whoever asks: {draft_word_as_reporter}"
    );
}

/// T-AUTHZ-7: the mutations that take several articles check each of them,
/// and one the caller may not use refuses the whole request, writing
/// nothing: a takedown filed for a public and a hidden article, pins and a
/// recommendation list naming a missing one. The refusal for a hidden
/// article is the refusal for a missing one.
async fn list_mutations_check_every_row_and_write_all_or_nothing_t_authz_7(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let first = published(&room, "公開甲", "public-a", 2);
    let second = published(&room, "公開乙", "public-b", 1);
    let draft = room.draft("reporter-a", "甲的草稿").await;
    let editor = room.token("editor");
    let claimant = room.token("claimant");
    let pins = format!(
        r#"mutation {{ setRelatedArticles(id: "{first}", related: ["{second}"]) {{ revision }} }}"#
    );
    let list = format!(
        r#"mutation {{ setRecommendationList(name: "home", items: [{{article: "{first}"}}]) {{ headline }} }}"#
    );
    for setup in [&pins, &list] {
        let body = room.as_user(Some(&editor), setup).await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    let shown = format!(
        r#"{{ article(id: "{first}") {{ related(first: 1) {{ databaseId }} }} recommendations {{ headline }} }}"#
    );
    let shown_before = room.app.graphql(&shown).await;
    let before = all_rows(&room.app.db);

    let takedown = |ids: [i32; 2]| {
        let input = notice(ids[0]).replace(
            &format!(r#"articles: ["{}"]"#, ids[0]),
            &format!(r#"articles: ["{}", "{}"]"#, ids[0], ids[1]),
        );
        format!("mutation {{ submitTakedownRequest(input: {input}) {{ id }} }}")
    };
    let with_hidden = room
        .as_user(Some(&claimant), &takedown([first, draft]))
        .await;
    let with_missing = room
        .as_user(Some(&claimant), &takedown([first, 99_999]))
        .await;
    assert_ne!(code(&with_hidden), "OK", "{with_hidden}");
    assert_eq!(
        with_hidden["errors"][0]["message"]
            .as_str()
            .map(|m| m.replace(&draft.to_string(), "N")),
        with_missing["errors"][0]["message"]
            .as_str()
            .map(|m| m.replace("99999", "N")),
        "a hidden article is told apart from a missing one"
    );
    assert_eq!(code(&with_hidden), code(&with_missing));

    let bad_pins = room
        .as_user(
            Some(&editor),
            &format!(r#"mutation {{ setRelatedArticles(id: "{first}", related: ["{second}", "99999"]) {{ revision }} }}"#),
        )
        .await;
    let bad_list = room
        .as_user(
            Some(&editor),
            &format!(
                r#"mutation {{ setRecommendationList(name: "home", items: [{{article: "{second}"}}, {{article: "99999"}}]) {{ headline }} }}"#
            ),
        )
        .await;
    for body in [&bad_pins, &bad_list] {
        assert_ne!(code(body), "OK", "{body}");
    }

    assert_eq!(all_rows(&room.app.db), before, "a refused list wrote rows");
    assert_eq!(room.app.graphql(&shown).await, shown_before);
}
both_engines!(list_mutations_check_every_row_and_write_all_or_nothing_t_authz_7);

/// T-AUTHZ-8: what T-AUTHZ-1 and T-AUTHZ-4 show over GraphQL POST holds on
/// every transport and route: GraphQL over GET, the REST routes, the feeds
/// and ninjs, with and without another reporter's token. The owner does see
/// the draft over both GraphQL transports, so the refusals are
/// authorization, not a route that shows nobody anything. There is no
/// websocket transport: an upgrade is not accepted.
async fn every_transport_enforces_the_same_rules_t_authz_8(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    published(&room, "公開稿件", "public-story", 1);
    let draft = room.draft("reporter-a", "甲的草稿機密").await;
    let owner = format!("Bearer {}", room.token("reporter-a"));
    let other = format!("Bearer {}", room.token("reporter-b"));
    let app = &room.app;
    let get = |path: String, bearer: Option<&str>| {
        let mut request = app.client.get(format!("{}{path}", app.address));
        if let Some(bearer) = bearer {
            request = request.header("authorization", bearer);
        }
        async move {
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            (status, response.text().await.expect("body"))
        }
    };
    let read = |id: i32| format!("{{ article(id: \"{id}\", preview: true) {{ title }} }}");
    let over_get = |query: String| {
        let query: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
        format!("/graphql?query={query}")
    };

    // The owner reads the draft over POST and GET.
    let (_, owner_post) = app
        .graphql_with(&read(draft), json!({}), &[("authorization", &owner)])
        .await;
    assert_eq!(owner_post["data"]["article"]["title"], "甲的草稿機密");
    let (status, owner_get) = get(over_get(read(draft)), Some(&owner)).await;
    assert_eq!(status, 200);
    assert!(owner_get.contains("甲的草稿機密"), "{owner_get}");

    // Anyone else gets what a missing article gets, on every transport.
    for bearer in [None, Some(other.as_str())] {
        let headers: Vec<(&str, &str)> = bearer
            .map(|b| vec![("authorization", b)])
            .unwrap_or_default();
        let (_, post) = app.graphql_with(&read(draft), json!({}), &headers).await;
        let (_, post_missing) = app.graphql_with(&read(99_999), json!({}), &headers).await;
        assert_eq!(post, post_missing, "POST as {bearer:?}");
        let (_, by_get) = get(over_get(read(draft)), bearer).await;
        let (_, by_get_missing) = get(over_get(read(99_999)), bearer).await;
        assert_eq!(by_get, by_get_missing, "GET as {bearer:?}");

        let unnamed = |(status, body): (u16, String)| {
            (
                status,
                body.replace(&draft.to_string(), "N").replace("99999", "N"),
            )
        };
        let rest = unnamed(get(format!("/v1/articles/{draft}"), bearer).await);
        let rest_missing = unnamed(get("/v1/articles/99999".to_string(), bearer).await);
        assert_eq!(rest.0, 404, "REST as {bearer:?}: {}", rest.1);
        assert_eq!(rest, rest_missing, "REST as {bearer:?}");
        let ninjs = unnamed(get(format!("/v1/ninjs/articles/{draft}"), bearer).await);
        let ninjs_missing = unnamed(get("/v1/ninjs/articles/99999".to_string(), bearer).await);
        assert_eq!(ninjs, ninjs_missing, "ninjs as {bearer:?}");

        for path in [
            "/v1/articles".to_string(),
            format!(
                "/v1/search?q={}",
                url::form_urlencoded::byte_serialize("草稿機密".as_bytes()).collect::<String>()
            ),
            "/feeds/lin-yi.rss".to_string(),
            "/feeds/lin-yi.json".to_string(),
            "/v1/ninjs/feed".to_string(),
        ] {
            let (status, body) = get(path.clone(), bearer).await;
            assert!(status < 500, "{path}: {status}");
            assert!(
                !body.contains("機密"),
                "{path} as {bearer:?} shows the draft: {body}"
            );
        }

        // Writing another's draft: refused over POST; over GET no mutation runs at all.
        let edit = format!(
            r#"mutation {{ updateArticle(id: "{draft}", expectedRevision: 1, input: {{title: "改了"}}) {{ title }} }}"#
        );
        let (_, refused) = app.graphql_with(&edit, json!({}), &headers).await;
        assert_ne!(code(&refused), "OK", "{refused}");
        let (status, _) = get(over_get(edit.clone()), bearer).await;
        assert!(status >= 400, "a mutation over GET got {status}");
    }
    let (_, still) = app
        .graphql_with(&read(draft), json!({}), &[("authorization", &owner)])
        .await;
    assert_eq!(still["data"]["article"]["title"], "甲的草稿機密");

    // A WebSocket needs a GraphQL subprotocol; the subscriptions it carries
    // check the same rights (tests/api/live.rs).
    let upgrade = app
        .client
        .get(format!("{}/graphql", app.address))
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("sec-websocket-protocol", "chat")
        .header("authorization", &other)
        .send()
        .await
        .expect("request");
    assert_eq!(
        upgrade.status().as_u16(),
        400,
        "a websocket without GraphQL"
    );
}
both_engines!(every_transport_enforces_the_same_rules_t_authz_8);

/// T-AUTHZ-6: no one's contact details or credentials are changed through
/// the API, so no such change can skip re-authentication: they are given
/// only when a record is created (a takedown request, a counter-notice, a
/// webhook and its signing secret) or when logging in, and accounts change
/// through the `newsdesk user` commands on the server. The one update is
/// the newsroom's own published contact (`updateSiteSettings`, admins
/// only), which belongs to no account. This keeps it so: a mutation that
/// would take contact or credential fields, directly or in an input type,
/// fails here until it is added, with its own re-authentication, to this
/// list.
#[test]
fn no_mutation_changes_contact_details_or_credentials_t_authz_6() {
    let sdl = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql is committed");
    let document = async_graphql::parser::parse_schema(&sdl).expect("schema.graphql parses");
    let mut input_fields: HashMap<String, Vec<String>> = HashMap::new();
    let mut mutations: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for definition in &document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        let name = ty.node.name.node.to_string();
        match &ty.node.kind {
            TypeKind::InputObject(input) => {
                input_fields.insert(
                    name,
                    input
                        .fields
                        .iter()
                        .map(|f| f.node.name.node.to_string())
                        .collect(),
                );
            }
            TypeKind::Object(object) if name == "MutationRoot" => {
                for field in &object.fields {
                    let arguments = field
                        .node
                        .arguments
                        .iter()
                        .map(|a| {
                            let ty = a.node.ty.node.to_string();
                            let base = ty.trim_matches(|c| matches!(c, '[' | ']' | '!'));
                            (a.node.name.node.to_string(), base.to_string())
                        })
                        .collect();
                    mutations.push((field.node.name.node.to_string(), arguments));
                }
            }
            _ => {}
        }
    }
    assert!(mutations.len() > 20, "the mutations were not found");
    let sensitive = |name: &str| {
        let name = name.to_ascii_lowercase();
        ["contact", "email", "phone", "address", "password", "secret"]
            .iter()
            .any(|word| name.contains(word))
    };
    let mut found: Vec<String> = Vec::new();
    for (mutation, arguments) in &mutations {
        for (argument, ty) in arguments {
            if sensitive(argument) {
                found.push(mutation.clone());
            }
            for field in input_fields.get(ty).into_iter().flatten() {
                if sensitive(field) {
                    found.push(mutation.clone());
                }
            }
        }
    }
    found.sort();
    found.dedup();
    assert_eq!(
        found,
        [
            "fileCounterNotice",
            "login",
            "registerWebhook",
            "submitTakedownRequest",
            "updateSiteSettings"
        ],
        "a mutation takes contact details or credentials"
    );
}
