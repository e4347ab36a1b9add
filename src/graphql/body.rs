//! An article body as GraphQL serves and takes it: a union with one type
//! per block, and a `@oneOf` input with one field per block.

use async_graphql::{InputObject, OneofObject, SimpleObject, Union};

use crate::body::{self, embed_provider, link_target, Run, HEADING_LEVELS};
use crate::error::AppError;

/// Characters one heading, caption, credit, alt text or attribution may hold.
const MAX_LINE_CHARS: usize = 500;

/// A run of text with the same marks throughout.
#[derive(SimpleObject)]
pub struct TextRun {
    /// The text.
    pub text: String,
    /// Where the text links to (http, https, mailto or a path on this site).
    pub href: Option<String>,
    /// Emphasised (`<em>`).
    pub emphasis: bool,
    /// Strong (`<strong>`).
    pub strong: bool,
}

/// Running text with links and emphasis: as plain text, as sanitised
/// inline HTML, and as runs to render natively (mobile apps).
#[derive(SimpleObject)]
pub struct RichText {
    /// The text without marks.
    pub text: String,
    /// Inline HTML (`a`, `em`, `strong`, `br` only).
    pub html: String,
    /// The text as runs of the same marks.
    pub runs: Vec<TextRun>,
}

impl RichText {
    fn of(runs: &[Run]) -> RichText {
        RichText {
            text: body::plain_text(runs),
            html: body::inline_html(runs),
            runs: runs
                .iter()
                .map(|r| TextRun {
                    text: r.text.clone(),
                    href: r.href.clone(),
                    emphasis: r.em,
                    strong: r.strong,
                })
                .collect(),
        }
    }
}

/// A paragraph.
#[derive(SimpleObject)]
pub struct ParagraphBlock {
    /// The block's place in the body, from 0 (for placing ads or anchors).
    pub position: i32,
    #[graphql(flatten)]
    pub content: RichText,
}

/// A subheading, level 2 to 4 (the headline is level 1).
#[derive(SimpleObject)]
pub struct HeadingBlock {
    /// The block's place in the body, from 0 (for placing ads or anchors).
    pub position: i32,
    /// 2, 3 or 4.
    pub level: i32,
    /// The heading's text.
    pub text: String,
}

/// A quotation, with who said it.
#[derive(SimpleObject)]
pub struct QuoteBlock {
    /// The block's place in the body, from 0 (for placing ads or anchors).
    pub position: i32,
    #[graphql(flatten)]
    pub content: RichText,
    /// Who said it.
    pub attribution: Option<String>,
}

/// A bulleted or numbered list.
#[derive(SimpleObject)]
pub struct ListBlock {
    /// The block's place in the body, from 0 (for placing ads or anchors).
    pub position: i32,
    /// Numbered (`<ol>`) rather than bulleted.
    pub ordered: bool,
    /// The items, in order.
    pub items: Vec<RichText>,
}

/// A table of plain-text cells (financial figures).
#[derive(SimpleObject)]
pub struct TableBlock {
    /// The block's place in the body, from 0 (for placing ads or anchors).
    pub position: i32,
    /// The table's title.
    pub caption: Option<String>,
    /// The header row; empty when the table has none.
    pub header: Vec<String>,
    /// The body rows, each a list of cells.
    pub rows: Vec<Vec<String>>,
}

/// An uploaded picture.
#[derive(SimpleObject)]
pub struct ImageBlock {
    /// The block's place in the body, from 0 (for placing ads or anchors).
    pub position: i32,
    /// The media asset's id.
    pub media_id: String,
    /// A description for readers who cannot see it.
    pub alt: Option<String>,
    /// The caption shown under it.
    pub caption: Option<String>,
    /// Who made it (攝影 …).
    pub credit: Option<String>,
    /// The picture: renditions, size, placeholder. Null when the media is
    /// gone or withheld.
    pub image: Option<super::media::Image>,
    /// A legal hold (a takedown request) withholds the picture: `image`,
    /// `alt`, `caption` and `credit` are null; show a placeholder.
    pub withheld: bool,
}

/// Content of an allow-listed provider (video, post), by URL; show it as a
/// link or turn it into the provider's player.
#[derive(SimpleObject)]
pub struct EmbedBlock {
    /// The block's place in the body, from 0 (for placing ads or anchors).
    pub position: i32,
    /// `youtube`, `vimeo`, `bilibili`, `tencent-video`, `weibo` or `x`.
    pub provider: String,
    /// The content's https URL.
    pub url: String,
}

/// A thematic break.
#[derive(SimpleObject)]
pub struct DividerBlock {
    /// The block's place in the body, from 0 (for placing ads or anchors).
    pub position: i32,
}

/// One block of an article body.
#[derive(Union)]
pub enum Block {
    Paragraph(ParagraphBlock),
    Heading(HeadingBlock),
    Quote(QuoteBlock),
    List(ListBlock),
    Table(TableBlock),
    Image(Box<ImageBlock>),
    Embed(EmbedBlock),
    Divider(DividerBlock),
}

/// The pictures of a body's image blocks, and where their URLs start.
pub struct Pictures {
    pub rows: crate::media::Pictures,
    pub base: String,
    /// The script the pictures' own texts are shown in.
    pub script: super::script::Script,
}

/// The blocks of `body`, in order.
pub fn blocks(body: &body::Body, pictures: &Pictures) -> Vec<Block> {
    body.0
        .iter()
        .enumerate()
        .map(|(i, b)| block(i32::try_from(i).unwrap_or(i32::MAX), b, pictures))
        .collect()
}

fn block(position: i32, b: &body::Block, pictures: &Pictures) -> Block {
    match b {
        body::Block::Paragraph { runs } => Block::Paragraph(ParagraphBlock {
            position,
            content: RichText::of(runs),
        }),
        body::Block::Heading { level, text } => Block::Heading(HeadingBlock {
            position,
            level: i32::from(*level),
            text: text.clone(),
        }),
        body::Block::Quote { runs, attribution } => Block::Quote(QuoteBlock {
            position,
            content: RichText::of(runs),
            attribution: attribution.clone(),
        }),
        body::Block::List { ordered, items } => Block::List(ListBlock {
            position,
            ordered: *ordered,
            items: items.iter().map(|i| RichText::of(i)).collect(),
        }),
        body::Block::Table {
            caption,
            header,
            rows,
        } => Block::Table(TableBlock {
            position,
            caption: caption.clone(),
            header: header.clone(),
            rows: rows.clone(),
        }),
        body::Block::Image {
            media,
            alt,
            caption,
            credit,
            withheld,
        } => Block::Image(Box::new(ImageBlock {
            position,
            media_id: media.clone(),
            alt: alt.clone(),
            caption: caption.clone(),
            credit: credit.clone(),
            image: pictures.rows.shown(media).filter(|_| !withheld).map(|row| {
                super::media::Image::at(row.clone(), pictures.base.clone(), pictures.script)
            }),
            withheld: *withheld,
        })),
        body::Block::Embed { provider, url } => Block::Embed(EmbedBlock {
            position,
            provider: provider.clone(),
            url: url.clone(),
        }),
        body::Block::Divider => Block::Divider(DividerBlock { position }),
    }
}

/// Something of the HTML given that was not kept.
#[derive(SimpleObject)]
pub struct BodyWarning {
    /// `DROPPED_ELEMENT`, `DROPPED_ATTRIBUTE`, `UNSAFE_LINK`,
    /// `EMBED_NOT_ALLOWED`, `IMAGE_NOT_UPLOADED`, `TABLE_TRUNCATED`,
    /// `NESTED_TOO_DEEP` or `TOO_MANY_BLOCKS`.
    pub code: String,
    /// The element, attribute, URL scheme or host concerned.
    pub subject: String,
    /// How many times it occurred.
    pub count: i32,
    /// One line for the editor.
    pub message: String,
}

impl From<&body::Warning> for BodyWarning {
    fn from(w: &body::Warning) -> Self {
        BodyWarning {
            code: w.code.to_string(),
            subject: w.subject.clone(),
            count: i32::try_from(w.count).unwrap_or(i32::MAX),
            message: w.message(),
        }
    }
}

/// A run of text to write.
#[derive(Debug, Clone, InputObject)]
pub struct TextRunInput {
    /// The text.
    pub text: String,
    /// An http, https or mailto URL, or a path on this site.
    pub href: Option<String>,
    /// Emphasised (`<em>`).
    #[graphql(default)]
    pub emphasis: bool,
    /// Strong (`<strong>`).
    #[graphql(default)]
    pub strong: bool,
}

/// Running text: plain `text`, or `runs` with links and emphasis (one of the two).
#[derive(Debug, Clone, InputObject)]
pub struct RichTextInput {
    /// Plain text.
    pub text: Option<String>,
    /// Runs with links and emphasis.
    pub runs: Option<Vec<TextRunInput>>,
}

/// A subheading to write.
#[derive(Debug, Clone, InputObject)]
pub struct HeadingInput {
    /// The heading's text, 1-500 characters.
    pub text: String,
    /// 2 to 4.
    #[graphql(default = 2)]
    pub level: i32,
}

/// A quotation to write: `text` or `runs`.
#[derive(Debug, Clone, InputObject)]
pub struct QuoteInput {
    /// Plain text.
    pub text: Option<String>,
    /// Runs with links and emphasis.
    pub runs: Option<Vec<TextRunInput>>,
    /// Who said it.
    pub attribution: Option<String>,
}

/// A list to write.
#[derive(Debug, Clone, InputObject)]
pub struct ListInput {
    /// Numbered rather than bulleted.
    #[graphql(default)]
    pub ordered: bool,
    /// The items, at least one.
    pub items: Vec<RichTextInput>,
}

/// A table to write: at most 1,000 rows of 50 cells.
#[derive(Debug, Clone, InputObject)]
pub struct TableInput {
    /// The table's title.
    pub caption: Option<String>,
    /// The header row.
    pub header: Option<Vec<String>>,
    /// The body rows, each a list of cells.
    pub rows: Vec<Vec<String>>,
}

/// An image to place.
#[derive(Debug, Clone, InputObject)]
pub struct ImageInput {
    /// The id of uploaded media.
    pub media_id: String,
    /// A description for readers who cannot see it.
    pub alt: Option<String>,
    /// The caption shown under it.
    pub caption: Option<String>,
    /// Who made it (攝影 …).
    pub credit: Option<String>,
}

/// An embed to place.
#[derive(Debug, Clone, InputObject)]
pub struct EmbedInput {
    /// An https URL of an allow-listed provider.
    pub url: String,
}

/// One block to write: set exactly one field.
#[derive(Debug, Clone, OneofObject)]
pub enum BlockInput {
    /// A paragraph: `text` or `runs`.
    Paragraph(RichTextInput),
    /// A subheading.
    Heading(HeadingInput),
    /// A quotation.
    Quote(QuoteInput),
    /// A list.
    List(ListInput),
    /// A table.
    Table(TableInput),
    /// An uploaded image.
    Image(ImageInput),
    /// Content of an allow-listed provider.
    Embed(EmbedInput),
    /// Any value: a divider has no content.
    Divider(bool),
}

/// The body the blocks given make, or the first problem, named by its
/// path (`blocks[3].embed.url: …`).
pub fn parse_blocks(input: &[BlockInput]) -> Result<body::Body, AppError> {
    if input.len() > body::MAX_BLOCKS {
        return Err(AppError::BadInput(format!(
            "blocks: at most {} blocks",
            body::MAX_BLOCKS
        )));
    }
    input
        .iter()
        .enumerate()
        .map(|(i, b)| parse_block(b).map_err(|e| AppError::BadInput(format!("blocks[{i}].{e}"))))
        .collect::<Result<Vec<_>, _>>()
        .map(body::Body)
}

fn parse_block(input: &BlockInput) -> Result<body::Block, String> {
    Ok(match input {
        BlockInput::Paragraph(t) => body::Block::Paragraph {
            runs: rich(t.text.as_deref(), t.runs.as_deref())
                .map_err(|e| format!("paragraph{e}"))?,
        },
        BlockInput::Heading(h) => {
            let level = u8::try_from(h.level)
                .ok()
                .filter(|l| HEADING_LEVELS.contains(l))
                .ok_or_else(|| "heading.level: must be 2, 3 or 4".to_string())?;
            body::Block::Heading {
                level,
                text: line(&h.text).ok_or("heading.text: must be 1-500 characters")?,
            }
        }
        BlockInput::Quote(q) => body::Block::Quote {
            runs: rich(q.text.as_deref(), q.runs.as_deref()).map_err(|e| format!("quote{e}"))?,
            attribution: optional(q.attribution.as_deref(), "quote.attribution")?,
        },
        BlockInput::List(l) => body::Block::List {
            ordered: l.ordered,
            items: list_items(&l.items)?,
        },
        BlockInput::Table(t) => table(t)?,
        BlockInput::Image(i) => body::Block::Image {
            media: crate::body::is_media_id(i.media_id.trim())
                .then(|| i.media_id.trim().to_string())
                .ok_or("image.mediaId: not a media id")?,
            alt: optional(i.alt.as_deref(), "image.alt")?,
            caption: optional(i.caption.as_deref(), "image.caption")?,
            credit: optional(i.credit.as_deref(), "image.credit")?,
            withheld: false,
        },
        BlockInput::Embed(e) => {
            let (provider, url) = embed_provider(&e.url).ok_or_else(|| {
                let names: Vec<&str> = body::EMBED_PROVIDERS.iter().map(|p| p.0).collect();
                format!("embed.url: not an https URL of {}", names.join(", "))
            })?;
            body::Block::Embed {
                provider: provider.into(),
                url,
            }
        }
        BlockInput::Divider(_) => body::Block::Divider,
    })
}

fn list_items(items: &[RichTextInput]) -> Result<Vec<Vec<Run>>, String> {
    if items.is_empty() {
        return Err("list.items: give at least one".into());
    }
    items
        .iter()
        .enumerate()
        .map(|(j, t)| {
            rich(t.text.as_deref(), t.runs.as_deref()).map_err(|e| format!("list.items[{j}]{e}"))
        })
        .collect()
}

fn table(t: &TableInput) -> Result<body::Block, String> {
    let header = t.header.clone().unwrap_or_default();
    let widest = t
        .rows
        .iter()
        .map(Vec::len)
        .chain([header.len()])
        .max()
        .unwrap_or(0);
    if t.rows.len() > body::MAX_TABLE_ROWS || widest > body::MAX_TABLE_COLUMNS {
        return Err(format!(
            "table: at most {} rows of {} cells",
            body::MAX_TABLE_ROWS,
            body::MAX_TABLE_COLUMNS
        ));
    }
    if t.rows.is_empty() && header.is_empty() {
        return Err("table.rows: give at least one row".into());
    }
    let cell = |c: &String| c.trim().to_string();
    Ok(body::Block::Table {
        caption: optional(t.caption.as_deref(), "table.caption")?,
        header: header.iter().map(cell).collect(),
        rows: t
            .rows
            .iter()
            .map(|r| r.iter().map(cell).collect())
            .collect(),
    })
}

/// Runs from plain text or from runs (one of the two), checked.
fn rich(text: Option<&str>, runs: Option<&[TextRunInput]>) -> Result<Vec<Run>, String> {
    let runs: Vec<Run> = match (text, runs) {
        (Some(t), None) => vec![Run::plain(t.trim())],
        (None, Some(rs)) => rs
            .iter()
            .enumerate()
            .map(|(j, r)| {
                let href = match r.href.as_deref() {
                    None => None,
                    Some(h) => Some(link_target(h).ok_or_else(|| {
                        format!(".runs[{j}].href: not an http, https or mailto URL or a path on this site")
                    })?),
                };
                Ok(Run {
                    text: r.text.clone(),
                    href,
                    em: r.emphasis,
                    strong: r.strong,
                })
            })
            .collect::<Result<_, String>>()?,
        _ => return Err(": give one of text and runs".into()),
    };
    let runs = body::merged(runs);
    if body::plain_text(&runs).trim().is_empty() {
        return Err(": the text is empty".into());
    }
    Ok(runs)
}

fn line(text: &str) -> Option<String> {
    let t = text.trim();
    let n = t.chars().count();
    (1..=MAX_LINE_CHARS).contains(&n).then(|| t.to_string())
}

fn optional(text: Option<&str>, field: &str) -> Result<Option<String>, String> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => line(t)
            .map(Some)
            .ok_or_else(|| format!("{field}: must be at most {MAX_LINE_CHARS} characters")),
    }
}
