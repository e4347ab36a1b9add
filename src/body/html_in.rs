//! HTML written by editors (or pasted from elsewhere) read into blocks.
//!
//! The parser is the browsers' (html5ever, through scraper), so malformed
//! markup is read the way a browser would read it. What maps onto a block
//! becomes one; containers (`div`, `section`, unknown tags) give up their
//! content; what carries behaviour or cannot be shown safely (`script`,
//! `style`, `svg`, forms, frames, images that were not uploaded, event and
//! style attributes, `javascript:` links) is dropped and named in a
//! [`Warning`]. Nothing of the input is stored as markup.

use ego_tree::NodeRef;
use scraper::node::Element;
use scraper::{Html, Node};

use super::links::{embed_provider, link_target};
use super::{merged, plain_text, Block, Body, Run, HEADING_LEVELS, MAX_BLOCKS};
use super::{MAX_TABLE_COLUMNS, MAX_TABLE_ROWS};

/// Something of the given HTML that was not kept, counted by kind and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// `DROPPED_ELEMENT`, `DROPPED_ATTRIBUTE`, `UNSAFE_LINK`,
    /// `EMBED_NOT_ALLOWED`, `IMAGE_NOT_UPLOADED`, `TABLE_TRUNCATED`,
    /// `NESTED_TOO_DEEP` or `TOO_MANY_BLOCKS`.
    pub code: &'static str,
    /// The element, attribute or URL scheme concerned.
    pub subject: String,
    /// How many times it occurred.
    pub count: u32,
}

impl Warning {
    /// One line for an editor.
    pub fn message(&self) -> String {
        let what = match self.code {
            "DROPPED_ELEMENT" => format!("dropped <{}> and its content", self.subject),
            "DROPPED_ATTRIBUTE" => format!("dropped the attribute {}", self.subject),
            "UNSAFE_LINK" => format!("dropped a link to a {} URL", self.subject),
            "EMBED_NOT_ALLOWED" => format!("dropped an embed from {}", self.subject),
            "IMAGE_NOT_UPLOADED" => {
                format!(
                    "dropped an image that is not uploaded media ({})",
                    self.subject
                )
            }
            "TABLE_TRUNCATED" => format!("cut a table to its first {}", self.subject),
            "NESTED_TOO_DEEP" => format!(
                "dropped what was nested more than {} elements deep",
                self.subject
            ),
            _ => format!("kept only the first {} blocks", self.subject),
        };
        if self.count > 1 {
            format!("{what} ({} times)", self.count)
        } else {
            what
        }
    }
}

/// Elements nested deeper than this are dropped with what they hold.
pub const MAX_DEPTH: usize = 100;

/// Elements dropped with everything inside them.
const DROPPED: &[&str] = &[
    "script", "style", "svg", "math", "object", "embed", "applet", "noscript", "template", "form",
    "input", "button", "select", "textarea", "option", "audio", "video", "canvas", "link", "meta",
    "base", "frame", "frameset", "head", "title", "picture", "source", "track", "map", "area",
    "dialog", "portal", "slot",
];

/// Attributes read for what they mean; every other attribute is dropped.
const READ_ATTRIBUTES: &[&str] = &[
    "href",
    "src",
    "alt",
    "data-media",
    "data-credit",
    "data-provider",
    "class",
    "rel",
    "srcset",
    "sizes",
    "width",
    "height",
    "loading",
];

/// Elements whose presence makes a `<p>` a container of blocks rather
/// than a paragraph (editors' tools wrap images in paragraphs).
const BLOCK_ELEMENTS: &[&str] = &[
    "img",
    "figure",
    "iframe",
    "table",
    "ul",
    "ol",
    "blockquote",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "div",
];

/// Elements one HTML body may hold. The parser checks the open elements
/// for every tag it meets, so deep markup costs the square of its depth:
/// this bounds that work (a megabyte of `<div>`s would be 200,000).
pub const MAX_HTML_TAGS: usize = 10_000;

/// How many tags `html` opens, counted without parsing it.
pub fn tag_count(html: &str) -> usize {
    html.as_bytes()
        .windows(2)
        .filter(|w| w[0] == b'<' && w[1].is_ascii_alphabetic())
        .count()
}

/// The blocks `html` holds and what of it was dropped.
pub fn from_html(html: &str) -> (Body, Vec<Warning>) {
    let doc = Html::parse_fragment(html);
    let mut reader = Reader::default();
    reader.blocks_in(*doc.root_element());
    reader.end_paragraph();
    if reader.blocks.len() > MAX_BLOCKS {
        reader.blocks.truncate(MAX_BLOCKS);
        reader.warn("TOO_MANY_BLOCKS", MAX_BLOCKS.to_string());
    }
    (Body(reader.blocks), reader.warnings)
}

/// Marks in force while reading inline content.
#[derive(Clone, Default)]
struct Marks {
    href: Option<String>,
    em: bool,
    strong: bool,
}

#[derive(Default)]
struct Reader {
    blocks: Vec<Block>,
    /// Inline content met outside any paragraph, which becomes one.
    loose: Vec<Run>,
    warnings: Vec<Warning>,
    /// How many elements deep the walk is.
    depth: usize,
}

impl Reader {
    fn warn(&mut self, code: &'static str, subject: impl Into<String>) {
        let subject = subject.into();
        match self
            .warnings
            .iter_mut()
            .find(|w| w.code == code && w.subject == subject)
        {
            Some(w) => w.count += 1,
            None => self.warnings.push(Warning {
                code,
                subject,
                count: 1,
            }),
        }
    }

    fn push(&mut self, block: Block) {
        self.end_paragraph();
        self.blocks.push(block);
    }

    /// Ends the paragraph made of loose inline content, if any.
    fn end_paragraph(&mut self) {
        let runs = tidy(std::mem::take(&mut self.loose));
        if !runs.is_empty() {
            self.blocks.push(Block::Paragraph { runs });
        }
    }

    /// Reports the attributes of `el` that are dropped.
    fn check_attributes(&mut self, el: &Element) {
        for (name, _) in el.attrs() {
            let name = name.to_ascii_lowercase();
            if !READ_ATTRIBUTES.contains(&name.as_str()) {
                self.warn("DROPPED_ATTRIBUTE", name);
            }
        }
    }

    fn blocks_in(&mut self, parent: NodeRef<'_, Node>) {
        for child in parent.children() {
            match child.value() {
                Node::Text(t) => self.loose.push(Run::plain(collapse(t))),
                Node::Element(el) => self.block(child, el),
                _ => {}
            }
        }
    }

    /// Reads one element as blocks, unless the markup is nested deeper than
    /// [`MAX_DEPTH`]: the walk is recursive, and a megabyte of `<div>`s
    /// must not exhaust the thread's stack.
    fn block(&mut self, node: NodeRef<'_, Node>, el: &Element) {
        if self.enter() {
            self.block_here(node, el);
            self.depth -= 1;
        }
    }

    fn block_here(&mut self, node: NodeRef<'_, Node>, el: &Element) {
        let name = el.name();
        if DROPPED.contains(&name) {
            self.warn("DROPPED_ELEMENT", name);
            return;
        }
        if name != "img" {
            self.check_attributes(el);
        }
        match name {
            "p" if !holds_blocks(node) => {
                self.end_paragraph();
                let runs = tidy(self.runs_in(node, &Marks::default()));
                if !runs.is_empty() {
                    self.blocks.push(Block::Paragraph { runs });
                }
            }
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                let level = name[1..].parse::<u8>().unwrap_or(2);
                let text = plain_text(&tidy(self.runs_in(node, &Marks::default())));
                if !text.is_empty() {
                    let level = level.clamp(*HEADING_LEVELS.start(), *HEADING_LEVELS.end());
                    self.push(Block::Heading { level, text });
                }
            }
            "blockquote" => self.quote(node),
            "ul" | "ol" => self.list(node, name == "ol"),
            "table" => self.table(node),
            "figure" => self.figure(node),
            "img" => self.image(el, None, None),
            "iframe" => self.embed(el.attr("src").unwrap_or("")),
            "hr" => self.push(Block::Divider),
            "br" => self.end_paragraph(),
            _ if is_inline(name) => {
                let mut runs = Vec::new();
                self.inline(node, el, &Marks::default(), &mut runs);
                self.loose.extend(runs);
            }
            _ => {
                self.end_paragraph();
                self.blocks_in(node);
                self.end_paragraph();
            }
        }
    }

    /// The runs of everything inside `node`.
    fn runs_in(&mut self, node: NodeRef<'_, Node>, marks: &Marks) -> Vec<Run> {
        let mut runs = Vec::new();
        for child in node.children() {
            match child.value() {
                Node::Text(t) => runs.push(run(collapse(t), marks)),
                Node::Element(el) => self.inline(child, el, marks, &mut runs),
                _ => {}
            }
        }
        runs
    }

    /// Reads one element as inline content, within [`MAX_DEPTH`] as [`Self::block`].
    fn inline(&mut self, node: NodeRef<'_, Node>, el: &Element, marks: &Marks, out: &mut Vec<Run>) {
        if self.enter() {
            self.inline_here(node, el, marks, out);
            self.depth -= 1;
        }
    }

    /// One level deeper; `false` (and a warning) past [`MAX_DEPTH`].
    fn enter(&mut self) -> bool {
        if self.depth >= MAX_DEPTH {
            self.warn("NESTED_TOO_DEEP", MAX_DEPTH.to_string());
            return false;
        }
        self.depth += 1;
        true
    }

    fn inline_here(
        &mut self,
        node: NodeRef<'_, Node>,
        el: &Element,
        marks: &Marks,
        out: &mut Vec<Run>,
    ) {
        let name = el.name();
        if DROPPED.contains(&name) || matches!(name, "img" | "iframe" | "table" | "hr") {
            self.warn("DROPPED_ELEMENT", name);
            return;
        }
        self.check_attributes(el);
        let mut marks = marks.clone();
        match name {
            "a" => {
                if let Some(href) = el.attr("href") {
                    match link_target(href) {
                        Some(target) => marks.href = Some(target),
                        None => self.warn("UNSAFE_LINK", scheme_of(href)),
                    }
                }
            }
            "em" | "i" => marks.em = true,
            "strong" | "b" => marks.strong = true,
            "br" => {
                out.push(run("\n".into(), &marks));
                return;
            }
            _ => {}
        }
        let inner = self.runs_in(node, &marks);
        // A block inside inline content (a paragraph in a list item) keeps
        // its text apart from its neighbours'.
        let apart = !is_inline(name) && name != "a";
        if apart && !out.is_empty() {
            out.push(run("\n".into(), &marks));
        }
        out.extend(inner);
    }

    fn quote(&mut self, node: NodeRef<'_, Node>) {
        let mut runs = Vec::new();
        let mut attribution = None;
        for child in node.children() {
            match child.value() {
                Node::Text(t) => runs.push(Run::plain(collapse(t))),
                Node::Element(el) if matches!(el.name(), "footer" | "cite") => {
                    self.check_attributes(el);
                    let text = plain_text(&tidy(self.runs_in(child, &Marks::default())));
                    let text = text.trim_start_matches(['—', '-', '―', ' ']).to_string();
                    attribution = (!text.is_empty()).then_some(text);
                }
                Node::Element(el) => {
                    if !runs.is_empty() && !is_inline(el.name()) {
                        runs.push(Run::plain("\n"));
                    }
                    self.inline(child, el, &Marks::default(), &mut runs);
                }
                _ => {}
            }
        }
        let runs = tidy(runs);
        if !runs.is_empty() {
            self.push(Block::Quote { runs, attribution });
        }
    }

    fn list(&mut self, node: NodeRef<'_, Node>, ordered: bool) {
        let mut items = Vec::new();
        for child in node.children() {
            if let Node::Element(el) = child.value() {
                if el.name() == "li" {
                    self.check_attributes(el);
                    let runs = tidy(self.runs_in(child, &Marks::default()));
                    if !runs.is_empty() {
                        items.push(runs);
                    }
                } else {
                    let mut stray = Vec::new();
                    self.inline(child, el, &Marks::default(), &mut stray);
                    let stray = tidy(stray);
                    if !stray.is_empty() {
                        items.push(stray);
                    }
                }
            }
        }
        if !items.is_empty() {
            self.push(Block::List { ordered, items });
        }
    }

    fn table(&mut self, node: NodeRef<'_, Node>) {
        let mut caption = None;
        let mut header: Vec<String> = Vec::new();
        let mut rows: Vec<Vec<String>> = Vec::new();
        let mut truncated = false;
        for (tr, in_head) in self.table_rows(node, &mut caption) {
            let cells: Vec<(bool, String)> = tr
                .children()
                .filter_map(|c| match c.value() {
                    Node::Element(el) if matches!(el.name(), "td" | "th") => Some((c, el)),
                    _ => None,
                })
                .map(|(c, el)| {
                    self.check_attributes(el);
                    let text = plain_text(&tidy(self.runs_in(c, &Marks::default())));
                    (el.name() == "th", text)
                })
                .collect();
            if cells.len() > MAX_TABLE_COLUMNS {
                truncated = true;
            }
            let all_th = !cells.is_empty() && cells.iter().all(|(th, _)| *th);
            let texts: Vec<String> = cells
                .into_iter()
                .take(MAX_TABLE_COLUMNS)
                .map(|(_, t)| t)
                .collect();
            if header.is_empty() && rows.is_empty() && (in_head || all_th) {
                header = texts;
            } else if rows.len() < MAX_TABLE_ROWS {
                rows.push(texts);
            } else {
                truncated = true;
            }
        }
        if truncated {
            self.warn(
                "TABLE_TRUNCATED",
                format!("{MAX_TABLE_ROWS} rows and {MAX_TABLE_COLUMNS} columns"),
            );
        }
        if !header.is_empty() || !rows.is_empty() {
            self.push(Block::Table {
                caption,
                header,
                rows,
            });
        }
    }

    /// The rows of a table in order, each with whether it is in `<thead>`;
    /// reads the caption on the way.
    fn table_rows<'a>(
        &mut self,
        table: NodeRef<'a, Node>,
        caption: &mut Option<String>,
    ) -> Vec<(NodeRef<'a, Node>, bool)> {
        let mut rows = Vec::new();
        for part in table.children() {
            let Node::Element(el) = part.value() else {
                continue;
            };
            match el.name() {
                "caption" => {
                    let text = plain_text(&tidy(self.runs_in(part, &Marks::default())));
                    *caption = (!text.is_empty()).then_some(text);
                }
                "tr" => rows.push((part, false)),
                "thead" | "tbody" | "tfoot" => rows.extend(
                    part.children()
                        .filter(|r| matches!(r.value(), Node::Element(e) if e.name() == "tr"))
                        .map(|r| (r, el.name() == "thead")),
                ),
                _ => {}
            }
        }
        rows
    }

    /// A `<figure>`: an image or an embed with its caption and credit.
    fn figure(&mut self, node: NodeRef<'_, Node>) {
        let (mut caption, mut credit) = (None, None);
        for child in node.children() {
            if let Node::Element(el) = child.value() {
                if el.name() == "figcaption" {
                    (caption, credit) = self.figcaption(child);
                }
            }
        }
        for child in node.descendants() {
            let Node::Element(el) = child.value() else {
                continue;
            };
            match el.name() {
                "img" => return self.image(el, caption, credit),
                "iframe" => return self.embed(el.attr("src").unwrap_or("")),
                "a" if has_class(el, "nd-embed-link") => {
                    return self.embed(el.attr("href").unwrap_or(""))
                }
                _ => {}
            }
        }
        // A figure of something else: keep what can be kept.
        for child in node.children() {
            match child.value() {
                Node::Element(el) if el.name() == "figcaption" => {}
                Node::Element(el) => self.block(child, el),
                Node::Text(t) => self.loose.push(Run::plain(collapse(t))),
                _ => {}
            }
        }
        self.end_paragraph();
    }

    /// A caption and the credit inside it (`class="…credit…"`, `<small>`
    /// or `<cite>`).
    fn figcaption(&mut self, node: NodeRef<'_, Node>) -> (Option<String>, Option<String>) {
        let mut caption = Vec::new();
        let mut credit = None;
        for child in node.children() {
            match child.value() {
                Node::Element(el)
                    if has_class(el, "credit") || matches!(el.name(), "small" | "cite") =>
                {
                    let text = plain_text(&tidy(self.runs_in(child, &Marks::default())));
                    credit = (!text.is_empty()).then_some(text);
                }
                Node::Element(el) => self.inline(child, el, &Marks::default(), &mut caption),
                Node::Text(t) => caption.push(Run::plain(collapse(t))),
                _ => {}
            }
        }
        let caption = plain_text(&tidy(caption));
        ((!caption.is_empty()).then_some(caption), credit)
    }

    fn image(&mut self, el: &Element, caption: Option<String>, credit: Option<String>) {
        self.check_attributes(el);
        let media = el
            .attr("data-media")
            .map(str::trim)
            .filter(|m| is_media_id(m));
        let Some(media) = media else {
            let src = el.attr("src").unwrap_or("");
            self.warn("IMAGE_NOT_UPLOADED", host_of(src));
            return;
        };
        let alt = el.attr("alt").map(|a| collapse(a).trim().to_string());
        self.push(Block::Image {
            media: media.to_string(),
            alt: alt.filter(|a| !a.is_empty()),
            caption,
            credit: credit.or_else(|| el.attr("data-credit").map(|c| c.trim().to_string())),
            withheld: false,
        });
    }

    fn embed(&mut self, src: &str) {
        match embed_provider(src) {
            Some((provider, url)) => self.push(Block::Embed {
                provider: provider.to_string(),
                url,
            }),
            None => self.warn("EMBED_NOT_ALLOWED", host_of(src)),
        }
    }
}

/// Media ids are short and plain (letters, digits, `-`, `_`).
pub fn is_media_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn has_class(el: &Element, class: &str) -> bool {
    el.classes().any(|c| c.contains(class))
}

fn is_inline(name: &str) -> bool {
    matches!(
        name,
        "a" | "em"
            | "i"
            | "strong"
            | "b"
            | "span"
            | "u"
            | "small"
            | "sub"
            | "sup"
            | "code"
            | "abbr"
            | "cite"
            | "mark"
            | "s"
            | "del"
            | "ins"
            | "time"
            | "font"
            | "q"
            | "kbd"
            | "var"
            | "samp"
            | "bdi"
            | "bdo"
            | "data"
            | "label"
            | "br"
            | "wbr"
            | "ruby"
            | "rt"
            | "rp"
            | "nobr"
    )
}

/// Whether a `<p>` holds blocks (an image, a table …) rather than text.
fn holds_blocks(node: NodeRef<'_, Node>) -> bool {
    node.descendants()
        .skip(1)
        .any(|d| matches!(d.value(), Node::Element(e) if BLOCK_ELEMENTS.contains(&e.name())))
}

fn run(text: String, marks: &Marks) -> Run {
    Run {
        text,
        href: marks.href.clone(),
        em: marks.em,
        strong: marks.strong,
    }
}

/// HTML's white space (not the ideographic space or no-break space) as
/// one space, as a browser shows it.
fn collapse(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = false;
    for c in text.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{c}') {
            if !blank {
                out.push(' ');
            }
            blank = true;
        } else {
            out.push(c);
            blank = false;
        }
    }
    out
}

/// Runs with outer blanks trimmed, spaces around line breaks dropped and
/// neighbours of the same marks joined.
fn tidy(runs: Vec<Run>) -> Vec<Run> {
    let mut runs = merged(runs);
    for r in runs.iter_mut() {
        if r.text.contains('\n') {
            let lines: Vec<&str> = r.text.split('\n').collect();
            let last = lines.len() - 1;
            r.text = lines
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let l = if i > 0 { l.trim_start_matches(' ') } else { l };
                    if i < last {
                        l.trim_end_matches(' ')
                    } else {
                        l
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
        }
    }
    while let Some(first) = runs.first_mut() {
        let trimmed = first.text.trim_start().to_string();
        if trimmed.is_empty() {
            runs.remove(0);
        } else {
            first.text = trimmed;
            break;
        }
    }
    while let Some(last) = runs.last_mut() {
        let trimmed = last.text.trim_end().to_string();
        if trimmed.is_empty() {
            runs.pop();
        } else {
            last.text = trimmed;
            break;
        }
    }
    merged(runs)
}

/// A URL's scheme for a warning (`javascript`), never the URL itself.
fn scheme_of(href: &str) -> String {
    let cleaned: String = href
        .chars()
        .filter(|c| !c.is_control() && !c.is_whitespace())
        .collect();
    match cleaned.split_once(':') {
        Some((scheme, _)) if !scheme.is_empty() && scheme.len() <= 20 => {
            scheme.to_ascii_lowercase()
        }
        _ => "relative".into(),
    }
}

/// A URL's host for a warning, or `(none)`.
fn host_of(src: &str) -> String {
    url::Url::parse(src.trim())
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "(no host)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(html: &str) -> (Body, Vec<Warning>) {
        from_html(html)
    }

    fn codes(w: &[Warning]) -> Vec<(&'static str, &str)> {
        w.iter().map(|w| (w.code, w.subject.as_str())).collect()
    }

    #[test]
    fn each_kind_of_block_is_read() {
        let (body, warnings) = read(concat!(
            "<h1>大標</h1><h3>小標</h3>",
            "<p>營收<a href='https://www.sse.com.cn/'>公告</a><em>增長</em><b>三成</b></p>",
            "<blockquote><p>穩中求進</p><footer>— 董事長</footer></blockquote>",
            "<ol><li>一</li><li><p>二</p></li></ol>",
            "<table><caption>營收</caption><thead><tr><th>年</th><th>億元</th></tr></thead>",
            "<tbody><tr><td>2025</td><td>12.5</td></tr></tbody></table>",
            "<figure><img data-media='m1' alt='港口' src='/x.jpg'>",
            "<figcaption>日照港 <span class='credit'>攝影 王偉</span></figcaption></figure>",
            "<iframe src='https://www.youtube.com/embed/abc'></iframe><hr>",
        ));
        assert_eq!(warnings, vec![], "{warnings:?}");
        let kinds: Vec<String> = body
            .0
            .iter()
            .map(|b| serde_json::to_value(b).expect("json")["type"].to_string())
            .collect();
        assert_eq!(
            kinds.join(","),
            r#""heading","heading","paragraph","quote","list","table","image","embed","divider""#
        );
        assert_eq!(
            body.0[0],
            Block::Heading {
                level: 2,
                text: "大標".into()
            }
        );
        let Block::Paragraph { runs } = &body.0[2] else {
            panic!("{:?}", body.0[2])
        };
        assert_eq!(runs.len(), 4);
        assert_eq!(runs[1].href.as_deref(), Some("https://www.sse.com.cn/"));
        assert!(runs[2].em && runs[3].strong);
        assert_eq!(
            body.0[3],
            Block::Quote {
                runs: vec![Run::plain("穩中求進")],
                attribution: Some("董事長".into())
            }
        );
        assert_eq!(
            body.0[6],
            Block::Image {
                media: "m1".into(),
                alt: Some("港口".into()),
                caption: Some("日照港".into()),
                credit: Some("攝影 王偉".into()),
                withheld: false,
            }
        );
    }

    #[test]
    fn hostile_markup_is_dropped_and_named() {
        let (body, warnings) = read(concat!(
            "<p onclick='x()' style='background:url(javascript:x)'>正文",
            "<a href='javascript:alert(1)'>鏈</a><a href=' jav&#x09;ascript:alert(1)'>二</a></p>",
            "<script>alert(1)</script><style>p{x:expression(alert(1))}</style>",
            "<svg><script>alert(1)</script><a href='x'>s</a></svg>",
            "<img src='https://evil.example/x.gif' onerror='alert(1)'>",
            "<iframe src='https://evil.example/'></iframe>",
            "<form><input value='x'></form><math><mi>x</mi></math>",
        ));
        let stored = body.to_stored();
        for bad in [
            "alert",
            "javascript",
            "expression",
            "evil",
            "onclick",
            "onerror",
            "svg",
        ] {
            assert!(!stored.contains(bad), "{bad} in {stored}");
        }
        assert_eq!(body.paragraphs(), vec!["正文鏈二"]);
        let got = codes(&warnings);
        for want in [
            ("DROPPED_ATTRIBUTE", "onclick"),
            ("DROPPED_ATTRIBUTE", "style"),
            ("UNSAFE_LINK", "javascript"),
            ("DROPPED_ELEMENT", "script"),
            ("DROPPED_ELEMENT", "style"),
            ("DROPPED_ELEMENT", "svg"),
            ("IMAGE_NOT_UPLOADED", "evil.example"),
            ("EMBED_NOT_ALLOWED", "evil.example"),
            ("DROPPED_ELEMENT", "form"),
            ("DROPPED_ELEMENT", "math"),
        ] {
            assert!(got.contains(&want), "{want:?} not in {got:?}");
        }
        let twice = warnings
            .iter()
            .find(|w| w.code == "UNSAFE_LINK")
            .expect("warned");
        assert_eq!(twice.count, 2);
        assert_eq!(
            twice.message(),
            "dropped a link to a javascript URL (2 times)"
        );
    }

    #[test]
    fn loose_text_and_containers_become_paragraphs() {
        let (body, warnings) =
            read("前言<br>第二行<div><span>第三</span><section>第四</section></div>");
        assert_eq!(body.paragraphs(), vec!["前言", "第二行", "第三", "第四"]);
        assert!(warnings.is_empty(), "{warnings:?}");
        let (body, _) = read("<p>a\n   b <br> c</p><p>  </p>");
        assert_eq!(body.paragraphs(), vec!["a b\nc"]);
    }

    #[test]
    fn an_image_in_a_paragraph_is_its_own_block() {
        let (body, _) = read("<p>前<img data-media='m2'>後</p>");
        assert_eq!(body.0.len(), 3, "{body:?}");
        assert!(matches!(&body.0[1], Block::Image { media, .. } if media == "m2"));
    }

    #[test]
    fn markup_nested_too_deep_is_cut_not_followed() {
        for tag in ["div", "span", "blockquote", "b", "ul"] {
            let html = format!("<{tag}>", tag = tag).repeat(MAX_DEPTH + 50) + "深";
            let (body, warnings) = read(&html);
            assert!(
                warnings.iter().any(|w| w.code == "NESTED_TOO_DEEP"),
                "{tag}: {warnings:?}"
            );
            assert!(body.0.len() <= 1, "{tag}");
        }
        let (body, warnings) = read(&("<div>".repeat(50) + "淺"));
        assert_eq!(
            (body.paragraphs(), warnings),
            (vec!["淺".to_string()], vec![])
        );
    }

    #[test]
    fn tables_are_bounded() {
        let row = format!("<tr>{}</tr>", "<td>1</td>".repeat(MAX_TABLE_COLUMNS + 5));
        let (body, warnings) = read(&format!(
            "<table>{}</table>",
            row.repeat(MAX_TABLE_ROWS + 2)
        ));
        let Block::Table { rows, header, .. } = &body.0[0] else {
            panic!()
        };
        assert!(header.is_empty());
        assert_eq!(rows.len(), MAX_TABLE_ROWS);
        assert_eq!(rows[0].len(), MAX_TABLE_COLUMNS);
        assert_eq!(warnings[0].code, "TABLE_TRUNCATED");
    }
}
