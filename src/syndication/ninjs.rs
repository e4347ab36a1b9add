//! IPTC ninjs 2.1 (`shared/specs/ninjs-schema_2.1.json`) for partners.

use serde_json::{json, Value};

use super::FeedItem;

/// The ninjs document of an article. Full bodies (text and HTML) only when
/// `item.full_text` is present; otherwise a partial representation with the
/// summary as description.
pub fn article(
    item: &FeedItem,
    revision: i32,
    holder: &str,
    language: &str,
    authority: &str,
) -> Value {
    // `rel` says what each person did: reporter, correspondent, photographer.
    let mut people: Vec<Value> = item
        .byline
        .iter()
        .map(|c| json!({ "name": c.name, "rel": c.role.as_str() }))
        .collect();
    if let Some(e) = &item.editor {
        people.push(json!({ "name": e, "rel": "editor" }));
    }
    let mut doc = json!({
        "uri": item.guid(authority),
        "type": "text",
        "representationtype": if item.full_text.is_some() { "full" } else { "partial" },
        "standard": {
            "name": "ninjs",
            "version": "2.1",
            "schema": "https://www.iptc.org/std/ninjs/ninjs-schema_2.1.json"
        },
        "version": revision.to_string(),
        "firstcreated": item.published.to_rfc3339(),
        "versioncreated": item.updated.to_rfc3339(),
        "pubstatus": "usable",
        "headlines": [{ "role": "main", "value": item.title }],
        "descriptions": [{ "role": "summary", "contenttype": "text/plain", "value": item.summary }],
        "by": item.authors.join(" "),
        "people": people,
        "copyrightholder": if item.owned { holder.to_string() } else { item.source.clone().unwrap_or_default() },
        "copyrightnotice": item.notice,
        "usageterms": if item.owned {
            "Credit the source and the authors when republishing."
        } else {
            "Reprint from another outlet: link to it; do not republish the text."
        },
        "language": language,
        "located": item.section,
        "subjects": [{ "name": item.section, "rel": "section" }],
        "altids": [{ "role": "url", "value": item.url }],
    });
    if let Some(source) = &item.source {
        doc["infosources"] = json!([{ "name": source, "role": if item.owned { "originator" } else { "reprinted-from" } }]);
    }
    if let Some(image) = &item.image {
        doc["associations"] = json!([{
            "name": "leadimage",
            "uri": format!("tag:{authority},2023:media:{}", image.id),
            "type": "picture",
            "headlines": [{ "role": "main", "contenttype": "text/plain", "value": image.caption }],
            "descriptions": [{ "role": "alt", "contenttype": "text/plain", "value": image.alt }],
            "by": image.credit,
            "renditions": image.renditions.iter().map(|(w, h, href)| json!({
                "name": format!("w{w}"), "href": href, "contenttype": "image/jpeg", "width": w, "height": h,
            })).collect::<Vec<_>>(),
        }]);
    }
    if let (Some(text), Some(html)) = (item.plain_body(), item.html_body()) {
        doc["bodies"] = json!([
            { "role": "main", "contenttype": "text/plain", "charcount": text.chars().count(), "value": text },
            { "role": "main", "contenttype": "text/html", "charcount": html.chars().count(), "value": html },
        ]);
    }
    doc
}

/// The ninjs stub that tells partners to delete a withdrawn article.
pub fn canceled(id: i32, withdrawn_at: &str, authority: &str) -> Value {
    json!({
        "uri": format!("tag:{authority},2023:article:{id}"),
        "type": "text",
        "pubstatus": "canceled",
        "versioncreated": withdrawn_at,
    })
}
