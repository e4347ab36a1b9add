//! Blocks written out as HTML (`bodyHtml`, feeds, ninjs).
//!
//! The markup is ours: every text is escaped and every URL was checked when
//! the block was made. The result then goes through ammonia with an
//! allow-list of exactly the tags, attributes and classes written here, so
//! a mistake in this file cannot reach a reader as script.
//!
//! Class names are stable, for front ends to style: `nd-quote`, `nd-list`,
//! `nd-table`, `nd-image` (with `nd-withheld` for an empty placeholder
//! where a legal hold withholds the picture), `nd-credit`, `nd-embed` (with `data-provider`)
//! and `nd-embed-link`.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;
use std::sync::LazyLock;

use super::{Block, Body, Run};
use crate::text::markup::escape;

/// Where an image block's picture is served: its renditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    /// A rendition about 1,280 pixels wide.
    pub src: String,
    /// Every rendition, for `srcset`.
    pub srcset: String,
    pub width: u32,
    pub height: u32,
}

/// The HTML of a body whose pictures are not known (`<img data-media>`
/// without a source).
pub fn to_html(body: &Body) -> String {
    to_html_with(body, &|_| None)
}

/// The HTML of a body, each image block's `<img>` with the source,
/// `srcset` and size `pictures` gives for its media id.
pub fn to_html_with(body: &Body, pictures: &dyn Fn(&str) -> Option<Picture>) -> String {
    let mut out = String::new();
    for block in &body.0 {
        write_block(&mut out, block, pictures);
    }
    SANITISER.clean(&out).to_string()
}

/// The inline HTML of runs (`a`, `em`, `strong`, `br`).
pub fn inline_html(runs: &[Run]) -> String {
    let mut out = String::new();
    write_runs(&mut out, runs);
    SANITISER.clean(&out).to_string()
}

fn write_block(out: &mut String, block: &Block, pictures: &dyn Fn(&str) -> Option<Picture>) {
    match block {
        Block::Paragraph { runs } => {
            out.push_str("<p>");
            write_runs(out, runs);
            out.push_str("</p>");
        }
        Block::Heading { level, text } => {
            let level = (*level).clamp(2, 4);
            let _ = write!(out, "<h{level}>{}</h{level}>", escape(text));
        }
        Block::Quote { runs, attribution } => {
            out.push_str(r#"<blockquote class="nd-quote"><p>"#);
            write_runs(out, runs);
            out.push_str("</p>");
            if let Some(a) = attribution {
                let _ = write!(out, "<footer>{}</footer>", escape(a));
            }
            out.push_str("</blockquote>");
        }
        Block::List { ordered, items } => {
            let tag = if *ordered { "ol" } else { "ul" };
            let _ = write!(out, r#"<{tag} class="nd-list">"#);
            for item in items {
                out.push_str("<li>");
                write_runs(out, item);
                out.push_str("</li>");
            }
            let _ = write!(out, "</{tag}>");
        }
        Block::Table {
            caption,
            header,
            rows,
        } => write_table(out, caption.as_deref(), header, rows),
        Block::Image { withheld: true, .. } => {
            out.push_str(r#"<figure class="nd-image nd-withheld"></figure>"#);
        }
        Block::Image {
            media,
            alt,
            caption,
            credit,
            withheld: false,
        } => {
            let _ = write!(
                out,
                r#"<figure class="nd-image"><img data-media="{}" alt="{}""#,
                escape(media),
                escape(alt.as_deref().unwrap_or(""))
            );
            if let Some(p) = pictures(media) {
                let _ = write!(
                    out,
                    r#" src="{}" srcset="{}" sizes="(max-width: 1280px) 100vw, 1280px" width="{}" height="{}" loading="lazy""#,
                    escape(&p.src),
                    escape(&p.srcset),
                    p.width,
                    p.height
                );
            }
            out.push('>');
            if caption.is_some() || credit.is_some() {
                out.push_str("<figcaption>");
                if let Some(c) = caption {
                    out.push_str(&escape(c));
                }
                if let Some(c) = credit {
                    let _ = write!(out, r#" <small class="nd-credit">{}</small>"#, escape(c));
                }
                out.push_str("</figcaption>");
            }
            out.push_str("</figure>");
        }
        Block::Embed { provider, url } => {
            let _ = write!(
                out,
                r#"<figure class="nd-embed" data-provider="{}"><a class="nd-embed-link" href="{}">{}</a></figure>"#,
                escape(provider),
                escape(url),
                escape(url)
            );
        }
        Block::Divider => out.push_str("<hr>"),
    }
}

fn write_table(out: &mut String, caption: Option<&str>, header: &[String], rows: &[Vec<String>]) {
    out.push_str(r#"<table class="nd-table">"#);
    if let Some(c) = caption {
        let _ = write!(out, "<caption>{}</caption>", escape(c));
    }
    let row = |out: &mut String, cells: &[String], tag: &str| {
        out.push_str("<tr>");
        for c in cells {
            let _ = write!(out, "<{tag}>{}</{tag}>", escape(c));
        }
        out.push_str("</tr>");
    };
    if !header.is_empty() {
        out.push_str("<thead>");
        row(out, header, "th");
        out.push_str("</thead>");
    }
    out.push_str("<tbody>");
    for r in rows {
        row(out, r, "td");
    }
    out.push_str("</tbody></table>");
}

fn write_runs(out: &mut String, runs: &[Run]) {
    for run in runs {
        let mut text = escape(&run.text).replace('\n', "<br>");
        if run.em {
            text = format!("<em>{text}</em>");
        }
        if run.strong {
            text = format!("<strong>{text}</strong>");
        }
        match &run.href {
            Some(href) => {
                let _ = write!(out, r#"<a href="{}">{text}</a>"#, escape(href));
            }
            None => out.push_str(&text),
        }
    }
}

/// ammonia, allowing exactly what [`write_block`] writes.
static SANITISER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let tags: HashSet<&str> = [
        "p",
        "h2",
        "h3",
        "h4",
        "blockquote",
        "footer",
        "ul",
        "ol",
        "li",
        "table",
        "caption",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "figure",
        "figcaption",
        "img",
        "small",
        "a",
        "em",
        "strong",
        "br",
        "hr",
    ]
    .into();
    let attributes: HashMap<&str, HashSet<&str>> = [
        ("a", ["href"].into()),
        (
            "img",
            [
                "data-media",
                "alt",
                "src",
                "srcset",
                "sizes",
                "width",
                "height",
                "loading",
            ]
            .into(),
        ),
        ("figure", ["data-provider"].into()),
    ]
    .into();
    let classes: HashMap<&str, HashSet<&str>> = [
        ("blockquote", ["nd-quote"].into()),
        ("ul", ["nd-list"].into()),
        ("ol", ["nd-list"].into()),
        ("table", ["nd-table"].into()),
        ("figure", ["nd-image", "nd-withheld", "nd-embed"].into()),
        ("small", ["nd-credit"].into()),
        ("a", ["nd-embed-link"].into()),
    ]
    .into();
    let mut b = ammonia::Builder::empty();
    b.tags(tags)
        .tag_attributes(attributes)
        .allowed_classes(classes)
        .url_schemes(["http", "https", "mailto"].into())
        .url_relative(ammonia::UrlRelative::PassThrough)
        .link_rel(Some("noopener noreferrer"));
    b
});

#[cfg(test)]
mod tests {
    use super::super::{from_html, Block, Body, Run};
    use super::*;

    /// Every kind of block, with texts that need escaping and a line break.
    fn sample() -> Body {
        let mut body = super::super::tests::every_kind();
        body.0[0] = Block::Heading {
            level: 3,
            text: "<財報> & 'x'".into(),
        };
        body.0[1] = Block::Paragraph {
            runs: vec![
                Run::plain("一行\n二行 "),
                Run {
                    text: "鏈".into(),
                    href: Some("https://example.com/?a=1&b=2".into()),
                    em: true,
                    strong: true,
                },
            ],
        };
        body
    }

    #[test]
    fn html_reads_back_as_the_same_blocks() {
        let html = to_html(&sample());
        let (back, warnings) = from_html(&html);
        assert_eq!(back, sample(), "{html}");
        assert_eq!(warnings, vec![], "{html}");
    }

    #[test]
    fn texts_are_escaped_and_classes_stable() {
        let html = to_html(&sample());
        assert!(html.contains("<h3>&lt;財報&gt; &amp; 'x'</h3>"), "{html}");
        assert!(html.contains(r#"<blockquote class="nd-quote">"#), "{html}");
        assert!(
            html.contains(r#"<small class="nd-credit">攝影 王偉</small>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<figure class="nd-embed" data-provider="youtube">"#),
            "{html}"
        );
        assert!(html.contains("一行<br>二行"), "{html}");
        assert!(html.contains(r#"rel="noopener noreferrer""#), "{html}");
    }

    #[test]
    fn known_pictures_get_their_renditions() {
        let body = sample();
        let html = to_html_with(&body, &|id| {
            (id == "m1").then(|| Picture {
                src: "https://x.test/media/m1/1280.jpg".into(),
                srcset:
                    "https://x.test/media/m1/320.jpg 320w, https://x.test/media/m1/1280.jpg 1280w"
                        .into(),
                width: 1280,
                height: 720,
            })
        });
        assert!(
            html.contains(r#"src="https://x.test/media/m1/1280.jpg""#),
            "{html}"
        );
        assert!(html.contains(r#"width="1280" height="720""#), "{html}");
        assert!(
            html.contains("320w, https://x.test/media/m1/1280.jpg 1280w"),
            "{html}"
        );
        let (back, warnings) = from_html(&html);
        assert_eq!((back, warnings), (body, vec![]));
    }

    #[test]
    fn a_withheld_picture_leaves_an_empty_placeholder() {
        let mut body = sample();
        body.withhold(&|id| id == "m1");
        let html = to_html_with(&body, &|_| {
            Some(Picture {
                src: "https://x.test/media/m1/1280.jpg".into(),
                srcset: String::new(),
                width: 1280,
                height: 720,
            })
        });
        assert!(
            html.contains(r#"<figure class="nd-image nd-withheld"></figure>"#),
            "{html}"
        );
        for gone in ["m1", "日照港", "攝影 王偉", "港口"] {
            assert!(!html.contains(gone), "{gone} in {html}");
            assert!(!body.texts().iter().any(|t| t.contains(gone)), "{gone}");
        }
        let json = serde_json::to_string(&body).expect("serialised");
        assert!(json.contains(r#""withheld":true"#), "{json}");
        let never = |b: &Body| {
            !b.0.iter()
                .any(|b| matches!(b, Block::Image { withheld: true, .. }))
        };
        assert!(never(&Body::from_stored("blocks", &json)), "read as stored");
        assert!(
            never(&serde_json::from_str::<Body>(&body.to_stored()).expect("stored JSON")),
            "stored"
        );
    }

    #[test]
    fn a_bad_block_cannot_smuggle_markup() {
        let body = Body(vec![Block::Paragraph {
            runs: vec![Run {
                text: "x".into(),
                href: Some("javascript:alert(1)".into()),
                em: false,
                strong: false,
            }],
        }]);
        assert!(!to_html(&body).contains("javascript"));
    }
}
