//! Parser for scraped article pages of the legacy site (the shape of `seed/000_*.txt`).
//!
//! The input is the page text *after* the pinyin artefact has been removed by the text
//! module; this parser only cuts the page into fields. The layout it expects, top to bottom:
//!
//! ```text
//! navigation line        經濟導報  原創  山東 …
//! breadcrumb             山東財經網 >> 臨沂
//! title                  (the line right after the breadcrumb)
//! meta                   來源:…   加入時間:2023-3-21 17:13:59
//! byline                 記者 劉慎平 劉玉
//! paragraphs             …
//! editor                 編輯:付建
//! statement              [山東財經網聲明]:凡本網…
//! recommendations        新聞推薦 / ·> headline …
//! footer                 Copyright @ … 地址:… 郵編:… 備案號:… 舉報電話:…
//! ```
//!
//! Blank lines (including lines of U+00A0 / U+3000 only) are insignificant. The meta and
//! byline lines are looked for only before the first paragraph; the body ends at the first
//! editor, statement, recommendation or footer line. Traditional and simplified keywords
//! and ASCII or fullwidth colons are accepted throughout.

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use regex::{Captures, Regex};

use crate::domain::{CreditRole, NoticeKind};

/// One legacy article page, cut into its fields.
#[derive(Debug, Clone, PartialEq)]
pub struct LegacyPage {
    /// The top line's section names, in order.
    pub navigation: Vec<String>,
    /// The breadcrumb root (the site name), e.g. `山東財經網`.
    pub site_name: String,
    /// The breadcrumb sections after the root, root-most first.
    pub breadcrumb: Vec<String>,
    /// The article title.
    pub title: String,
    /// The value of `來源:`, if the page has one.
    pub source: Option<String>,
    /// `加入時間`, read as Asia/Shanghai local time and converted to UTC.
    pub published_at: DateTime<Utc>,
    /// Contributors from the byline, in printed order.
    pub byline: Vec<Credit>,
    /// Body paragraphs in order, trimmed.
    pub paragraphs: Vec<String>,
    /// The responsible editor (`編輯:` / `責任編輯:`).
    pub editor: Option<String>,
    /// The site's copyright statement, split into its clauses.
    pub notices: Vec<NoticeTemplate>,
    /// The headlines listed under `新聞推薦`, markers stripped.
    pub recommendations: Vec<String>,
    /// Site settings printed at the bottom of the page.
    pub footer: Footer,
}

/// One contributor named in the byline.
#[derive(Debug, Clone, PartialEq)]
pub struct Credit {
    /// The name as printed.
    pub name: String,
    /// The role word that preceded the name.
    pub role: CreditRole,
}

/// One clause of the site's copyright statement.
#[derive(Debug, Clone, PartialEq)]
pub struct NoticeTemplate {
    /// Which clause this is.
    pub kind: NoticeKind,
    /// The clause as printed, sentence-final punctuation included.
    pub text: String,
    /// For [`NoticeKind::Removal`]: the number of days within which requests are due.
    pub window_days: Option<i32>,
}

/// The site settings from the page footer; a field is `None` when the page does not print it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Footer {
    /// The holder after `Copyright @` / `©`, without years or `版權所有`.
    pub copyright_holder: Option<String>,
    /// `地址:`, up to the end of its line or the next key.
    pub address: Option<String>,
    /// `郵編:`.
    pub postcode: Option<String>,
    /// `電子郵箱:` (the site's contact address).
    pub email: Option<String>,
    /// `備案號:` (ICP filing), kept exactly as printed.
    pub icp_filing: Option<String>,
    /// `魯新網備案號:` (provincial news-service filing).
    pub news_service_filing: Option<String>,
    /// `違法不良信息舉報電話:`.
    pub complaint_phone: Option<String>,
    /// The `郵箱:` printed on the complaint (舉報) line, or `舉報郵箱:`.
    pub complaint_email: Option<String>,
}

/// Why a page could not be parsed, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct PageError {
    /// 1-based line of the problem; for a missing element, the line where it was expected
    /// (or 1 when there is no better guess).
    pub line: usize,
    /// What is wrong, for a human.
    pub problem: String,
}

impl PageError {
    fn new(line: usize, problem: impl Into<String>) -> Self {
        Self {
            line,
            problem: problem.into(),
        }
    }
}

// --- patterns, compiled once: the importer parses thousands of pages per second ------------

static SOURCE_KEY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:來源|来源)\s*[:：]\s*").expect("constant regex"));

// 發布時間 is what the same CMS prints on some templates; accepting it costs nothing.
static TIME_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:加入時間|加入时间|發布時間|发布时间)\s*[:：]\s*").expect("constant regex")
});

// `[0-9]`, not `\d`: `\d` also matches fullwidth digits, which `str::parse` rejects.
static DATE_TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})(?:\s*日\s*|\s+|T)([0-9]{1,2})\s*[:：]\s*([0-9]{1,2})(?:\s*[:：]\s*([0-9]{1,2}))?",
    )
    .expect("constant regex")
});

// Fields on the meta line are separated by runs of spaces; a single space may be part of a name.
static WS_RUN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\s{2,}").expect("constant regex"));

static EDITOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[(（【\[]?\s*(?:責任編輯|责任编辑|編輯|编辑)\s*[:：]\s*(.*?)\s*[)）】\]]?$")
        .expect("constant regex")
});

static STATEMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[\[【][^\]】]{0,40}?(?:聲明|声明)\s*[\]】]|版權聲明|版权声明|免責聲明|免责声明)\s*[:：]?\s*(.*)$",
    )
    .expect("constant regex")
});

/// Footer keys. Alternatives that share a suffix are ordered longest first, and the regex
/// takes the leftmost match, so `魯新網備案號` is never read as the ICP key `備案號` and
/// `舉報電話` never as a bare `電話`. Every key but the copyright sign needs a colon, so words
/// inside a value are not taken for keys.
const FOOTER_KEYS: &str = r"(?x)
    (?P<copyright> (?i:copyright) \s* (?: @ | © | \( (?i:c) \) )? | © )
  | (?:
        (?P<report_phone> (?:違法和?不良信息|违法和?不良信息)? (?:舉報|举报) (?:電話|电话) )
      | (?P<report_email> (?:舉報|举报) (?:電子|电子)? (?:郵箱|邮箱|郵件|邮件) )
      | (?P<news> \p{Han}? 新[網网] [備备]案[號号] )
      | (?P<icp> (?:ICP)? [備备]案[號号] )
      | (?P<address> (?:通訊|通讯)? 地址 )
      | (?P<postcode> [郵邮]政?[編编][碼码]? )
      | (?P<email> (?:電子|电子)? (?:郵箱|邮箱|郵件|邮件) | (?i:e-?mail) )
      | (?P<other> (?:聯繫|聯系|联系)? (?:電話|电话) | 傳真 | 传真 )
    ) \s* [:：]
";

static FOOTER_KEY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(FOOTER_KEYS).expect("constant regex"));

// Anchored copy: a body line that *starts* with a footer key ends the body.
static FOOTER_AT_START: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("^(?:{FOOTER_KEYS})")).expect("constant regex"));

static COPYRIGHT_HOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[0-9]{4}(?:\s*[-–—~]\s*[0-9]{4})?)?\s*(.*?)\s*(?:版權所有|版权所有|(?i:all\s+rights\s+reserved\.?))?\s*$",
    )
    .expect("constant regex")
});

static FAN_BEN_WANG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"凡本[網网]").expect("constant regex"));

static REPRINT_HEAD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^凡本[網网]注明\s*[“"「]?\s*(?:來源|来源)\s*[:：]?\s*非"#)
        .expect("constant regex")
});

static REMOVAL_HEAD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"如稿件|如作品|如涉及|如有侵[權权]").expect("constant regex"));

static WINDOW_DAYS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"([0-9]+)\s*[日天][內内]").expect("constant regex"));

/// Parses one cleaned legacy page.
///
/// Fails on control characters other than tab, CR and LF ("binary data"), on a missing or
/// empty title, on a missing, unreadable, impossible or (because of China's 1986–1991 DST)
/// nonexistent or ambiguous publish time, and on a page without body paragraphs. Optional
/// elements that are absent (source, byline, editor, statement, recommendations, footer
/// fields) are left empty rather than reported.
pub fn parse_page(cleaned: &str) -> Result<LegacyPage, PageError> {
    reject_binary(cleaned)?;
    let text = cleaned.strip_prefix('\u{feff}').unwrap_or(cleaned);
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();

    // The breadcrumb is the anchor of the page: everything else is found relative to it.
    let crumb_idx = lines
        .iter()
        .position(|l| l.contains(">>"))
        .ok_or_else(|| PageError::new(1, "no breadcrumb line (`site >> section`), so no title"))?;
    let mut crumbs = lines[crumb_idx].split(">>").map(str::trim);
    let site_name = crumbs.next().unwrap_or_default().to_owned();
    let breadcrumb = crumbs
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    let navigation = lines[..crumb_idx]
        .iter()
        .map(|l| l.trim())
        .find(|l| !l.is_empty())
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();

    let title_idx = crumb_idx + 1;
    let title_line = title_idx + 1;
    let title = match lines.get(title_idx) {
        Some(l) if !l.trim().is_empty() => l.trim().to_owned(),
        Some(_) => return Err(PageError::new(title_line, "empty title")),
        None => {
            return Err(PageError::new(
                title_line,
                "no title line after the breadcrumb",
            ));
        }
    };

    // Header (meta, byline) and body.
    let mut source = None;
    let mut time_at: Option<(usize, &str)> = None;
    let mut meta_line = None;
    let mut byline = Vec::new();
    let mut paragraphs = Vec::new();
    let mut last_header_line = title_line;
    let mut idx = title_idx + 1;
    while let Some(line) = lines.get(idx) {
        let t = line.trim();
        if t.is_empty() {
            idx += 1;
            continue;
        }
        if marker(t).is_some() {
            break;
        }
        if paragraphs.is_empty() {
            let src_key = SOURCE_KEY.find(t);
            let time_key = TIME_KEY.find(t);
            if src_key.is_some() || time_key.is_some() {
                meta_line.get_or_insert(idx + 1);
                if let (Some(k), None) = (src_key, &source) {
                    let end = time_key
                        .map(|m| m.start())
                        .filter(|&s| s >= k.end())
                        .unwrap_or(t.len());
                    source = first_field(&t[k.end()..end]).map(str::to_owned);
                }
                if let (Some(k), None) = (time_key, time_at) {
                    time_at = Some((idx + 1, &t[k.end()..]));
                }
                last_header_line = idx + 1;
                idx += 1;
                continue;
            }
            if let Some(credits) = parse_byline(t) {
                byline.extend(credits);
                last_header_line = idx + 1;
                idx += 1;
                continue;
            }
        }
        paragraphs.push(t.to_owned());
        idx += 1;
    }

    let (time_line, time_text) = time_at.ok_or_else(|| {
        PageError::new(
            meta_line.unwrap_or(title_line + 1),
            "no publish time (加入時間)",
        )
    })?;
    let published_at = parse_publish_time(time_text).map_err(|p| PageError::new(time_line, p))?;
    if paragraphs.is_empty() {
        return Err(PageError::new(last_header_line + 1, "no body paragraphs"));
    }

    // Tail: editor, statement, recommendations and footer, in any order.
    let mut editor = None;
    let mut notices = Vec::new();
    let mut recommendations = Vec::new();
    let mut footer = Footer::default();
    let mut in_recommendations = false;
    let mut statement: Option<String> = None;
    for line in &lines[idx.min(lines.len())..] {
        let t = line.trim();
        if t.is_empty() {
            // A statement may wrap over several lines but ends at a blank one.
            if let Some(s) = statement.take() {
                notices.extend(split_statement(&s));
            }
            continue;
        }
        if in_recommendations {
            if let Some(headline) = recommendation_item(t) {
                if !headline.is_empty() {
                    recommendations.push(headline.to_owned());
                }
                continue;
            }
            in_recommendations = false;
        }
        let mark = marker(t);
        if let (Some(s), None) = (statement.as_mut(), &mark) {
            s.push_str(t);
            continue;
        }
        if let Some(s) = statement.take() {
            notices.extend(split_statement(&s));
        }
        match mark {
            Some(Marker::Editor(name)) => {
                if editor.is_none() && !name.is_empty() {
                    editor = Some(name.to_owned());
                }
            }
            Some(Marker::Statement(text)) => statement = Some(text.to_owned()),
            Some(Marker::Recommendations) => in_recommendations = true,
            Some(Marker::Footer) | None => parse_footer_line(t, &mut footer),
        }
    }
    if let Some(s) = statement.take() {
        notices.extend(split_statement(&s));
    }

    Ok(LegacyPage {
        navigation,
        site_name,
        breadcrumb,
        title,
        source,
        published_at,
        byline,
        paragraphs,
        editor,
        notices,
        recommendations,
        footer,
    })
}

/// Scraped pages sometimes carry binary junk (a truncated download, a mis-decoded file);
/// reject it up front rather than store it.
fn reject_binary(text: &str) -> Result<(), PageError> {
    for (i, line) in text.split('\n').enumerate() {
        if let Some(c) = line
            .chars()
            .find(|&c| c.is_control() && c != '\t' && c != '\r')
        {
            return Err(PageError::new(
                i + 1,
                format!("binary data (control character U+{:04X})", u32::from(c)),
            ));
        }
    }
    Ok(())
}

/// The first whitespace-run-separated field of `s`, if non-empty.
fn first_field(s: &str) -> Option<&str> {
    let s = s.trim();
    let s = WS_RUN.find(s).map_or(s, |m| &s[..m.start()]);
    (!s.is_empty()).then_some(s)
}

/// Reads `2023-3-21 17:13:59` (padding optional) as Shanghai local time.
fn parse_publish_time(text: &str) -> Result<DateTime<Utc>, String> {
    let shown = text.trim();
    let caps = DATE_TIME
        .captures(shown)
        .ok_or_else(|| format!("unreadable publish time `{shown}`"))?;
    let num =
        |i: usize| -> Option<u32> { caps.get(i).map_or(Some(0), |m| m.as_str().parse().ok()) };
    let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(s)) =
        (num(1), num(2), num(3), num(4), num(5), num(6))
    else {
        return Err(format!("unreadable publish time `{shown}`"));
    };
    let shown = caps.get(0).map_or(shown, |m| m.as_str());
    let date = i32::try_from(y)
        .ok()
        .and_then(|y| NaiveDate::from_ymd_opt(y, mo, d));
    let time = NaiveTime::from_hms_opt(h, mi, s);
    let (Some(date), Some(time)) = (date, time) else {
        return Err(format!("impossible publish time `{shown}`"));
    };
    let local = Shanghai.from_local_datetime(&date.and_time(time));
    match local.single() {
        Some(t) => Ok(t.with_timezone(&Utc)),
        // China observed DST 1986–1991: spring-forward times do not exist and fall-back
        // times happen twice; guessing would shift the article by an hour.
        None if local.earliest().is_some() => Err(format!(
            "ambiguous publish time `{shown}` in Asia/Shanghai (DST fall-back)"
        )),
        None => Err(format!(
            "nonexistent publish time `{shown}` in Asia/Shanghai (DST gap)"
        )),
    }
}

/// A line that ends the body.
enum Marker<'a> {
    Editor(&'a str),
    Statement(&'a str),
    Recommendations,
    Footer,
}

fn marker(t: &str) -> Option<Marker<'_>> {
    if let Some(c) = EDITOR.captures(t) {
        return Some(Marker::Editor(group1(&c)));
    }
    if let Some(c) = STATEMENT.captures(t) {
        return Some(Marker::Statement(group1(&c)));
    }
    if is_recommendation_header(t) {
        return Some(Marker::Recommendations);
    }
    FOOTER_AT_START.is_match(t).then_some(Marker::Footer)
}

fn group1<'h>(c: &Captures<'h>) -> &'h str {
    c.get(1).map_or("", |m| m.as_str().trim())
}

fn is_recommendation_header(t: &str) -> bool {
    ["新聞推薦", "新闻推荐"].iter().any(|key| {
        t.strip_prefix(key).is_some_and(|rest| {
            rest.chars()
                .all(|c| c.is_whitespace() || matches!(c, ':' | '：' | '>' | '»'))
        })
    })
}

/// `·> headline`, `· headline` or `> headline` → `headline`.
fn recommendation_item(t: &str) -> Option<&str> {
    let after_dot = t.strip_prefix(['·', '•', '・']);
    let rest = after_dot.unwrap_or(t).trim_start();
    let after_arrow = rest.strip_prefix(['>', '＞']);
    if after_dot.is_none() && after_arrow.is_none() {
        return None;
    }
    Some(after_arrow.unwrap_or(rest).trim())
}

/// Role words, longest first so `攝影記者` is not read as `攝影` + a person named `記者`.
const ROLE_WORDS: &[(&str, CreditRole)] = &[
    ("攝影記者", CreditRole::Photographer),
    ("摄影记者", CreditRole::Photographer),
    ("本報記者", CreditRole::Reporter),
    ("本报记者", CreditRole::Reporter),
    ("見習記者", CreditRole::Reporter),
    ("见习记者", CreditRole::Reporter),
    ("通訊員", CreditRole::Correspondent),
    ("通讯员", CreditRole::Correspondent),
    ("記者", CreditRole::Reporter),
    ("记者", CreditRole::Reporter),
    ("攝影", CreditRole::Photographer),
    ("摄影", CreditRole::Photographer),
];

/// Words printed after the names that are not names.
const BYLINE_NOISE: &[&str] = &["報道", "报道", "報導", "报导"];

fn role_prefix(s: &str) -> Option<(CreditRole, &str)> {
    ROLE_WORDS
        .iter()
        .find_map(|&(word, role)| s.strip_prefix(word).map(|rest| (role, rest)))
}

/// `記者 劉慎平 劉玉 通訊員 王五` → credits; `None` when the line is not a byline.
fn parse_byline(t: &str) -> Option<Vec<Credit>> {
    // A byline is short and has no sentence in it; this keeps a paragraph that happens to
    // start with "記者 …" in the body.
    if t.chars().count() > 80 || t.contains('。') {
        return None;
    }
    let inner = t
        .trim_start_matches(['(', '（', '【', '['])
        .trim_end_matches([')', '）', '】', ']']);
    let (mut role, rest) = role_prefix(inner)?;
    if !rest
        .chars()
        .next()
        .is_none_or(|c| c.is_whitespace() || matches!(c, ':' | '：'))
    {
        return None;
    }
    let mut credits = Vec::new();
    let tokens = rest
        .split(|c: char| {
            c.is_whitespace() || matches!(c, '、' | ',' | '，' | ';' | '；' | ':' | '：' | '/')
        })
        .filter(|tok| !tok.is_empty());
    for tok in tokens {
        let name = match role_prefix(tok) {
            Some((r, remainder)) => {
                role = r;
                remainder
            }
            None => tok,
        };
        if !name.is_empty() && !BYLINE_NOISE.contains(&name) {
            credits.push(Credit {
                name: name.to_owned(),
                role,
            });
        }
    }
    Some(credits)
}

/// Reads every `key:value` on a footer line into `footer`; the first value seen for a
/// field wins. A value runs to the next key or the end of the line, so an address with a
/// space in it stays whole.
fn parse_footer_line(line: &str, footer: &mut Footer) {
    let mut keys = FOOTER_KEY.captures_iter(line).peekable();
    // On the complaint line a bare `郵箱:` is the complaint mailbox, not the site's.
    let mut on_report_line = false;
    while let Some(caps) = keys.next() {
        let Some(whole) = caps.get(0) else { continue };
        let end = keys
            .peek()
            .and_then(|next| next.get(0))
            .map_or(line.len(), |m| m.start());
        let value = line[whole.end()..end].trim();
        let has = |name: &str| caps.name(name).is_some();
        if has("copyright") {
            let holder = COPYRIGHT_HOLDER
                .captures(value)
                .and_then(|c| c.get(1))
                .map_or(value, |m| m.as_str());
            set_once(&mut footer.copyright_holder, holder);
        } else if has("report_phone") {
            on_report_line = true;
            set_once(&mut footer.complaint_phone, value);
        } else if has("report_email") {
            on_report_line = true;
            set_once(&mut footer.complaint_email, value);
        } else if has("news") {
            set_once(&mut footer.news_service_filing, value);
        } else if has("icp") {
            set_once(&mut footer.icp_filing, value);
        } else if has("address") {
            set_once(&mut footer.address, value);
        } else if has("postcode") {
            set_once(&mut footer.postcode, value);
        } else if has("email") {
            if on_report_line {
                set_once(&mut footer.complaint_email, value);
            } else {
                set_once(&mut footer.email, value);
            }
        }
        // `other` keys (電話, 傳真) only mark where the previous value ends.
    }
}

fn set_once(slot: &mut Option<String>, value: &str) {
    if slot.is_none() && !value.is_empty() {
        *slot = Some(value.to_owned());
    }
}

/// Splits the statement into its original / reprint / removal clauses.
///
/// Cuts are made where a clause's keyword starts (`凡本網`, `如稿件`), never inside a run of
/// punctuation, so a printed `違者必究!。` stays whole at the end of the clause it closes.
/// Text the pattern does not explain stays in the original clause: a legal text is never
/// dropped, and a statement that cannot be split comes back as one original template.
fn split_statement(text: &str) -> Vec<NoticeTemplate> {
    let text = text.trim();
    if text.is_empty() {
        return Vec::new();
    }
    let template = |kind, part: &str| NoticeTemplate {
        kind,
        text: part.trim().to_owned(),
        window_days: None,
    };
    let starts: Vec<usize> = FAN_BEN_WANG.find_iter(text).map(|m| m.start()).collect();
    let Some(&first) = starts.first() else {
        return vec![template(NoticeKind::Original, text)];
    };
    // The reprint clause is the later 凡本網 that names sources "other than" the site's; a
    // later 凡本網 without 非 still counts when it speaks of reprinting.
    let reprint = starts[1..]
        .iter()
        .copied()
        .find(|&p| REPRINT_HEAD.is_match(&text[p..]))
        .or_else(|| starts.get(1).copied());
    let removal = REMOVAL_HEAD
        .find(&text[first..])
        .map(|m| first + m.start())
        .filter(|&p| reprint.is_none_or(|r| p > r));
    let reprint = reprint.filter(|&r| {
        let end = removal.unwrap_or(text.len());
        let part = &text[r..end];
        part.contains("轉載") || part.contains("转载")
    });

    let original_end = reprint.or(removal).unwrap_or(text.len());
    let mut out = vec![template(NoticeKind::Original, &text[..original_end])];
    if let Some(r) = reprint {
        out.push(template(
            NoticeKind::Reprint,
            &text[r..removal.unwrap_or(text.len())],
        ));
    }
    if let Some(r) = removal {
        let part = &text[r..];
        out.push(NoticeTemplate {
            window_days: WINDOW_DAYS
                .captures(part)
                .and_then(|c| c.get(1))
                .and_then(|m| m.as_str().parse().ok()),
            ..template(NoticeKind::Removal, part)
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sample page after the artefact cleaner, as the importer sees it.
    static SEED_CLEANED: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        crate::text::artefact::strip_pinyin_artefact(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/seed/000_a15393c2ad8b6a45.txt"
        )))
        .text
    });

    fn seed() -> &'static str {
        SEED_CLEANED.as_str()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("test input")
            .with_timezone(&Utc)
    }

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn err_of(text: &str) -> PageError {
        parse_page(text).expect_err("page should be rejected")
    }

    /// The seed with the 1-based lines `from..=to` blanked (line numbers stay put).
    fn blank_lines(from: usize, to: usize) -> String {
        seed()
            .split('\n')
            .enumerate()
            .map(|(i, l)| {
                if (from..=to).contains(&(i + 1)) {
                    ""
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn seed_parses_to_the_documented_values() {
        let page = parse_page(seed()).expect("test input");
        assert_eq!(
            page.navigation,
            strs(&[
                "經濟導報",
                "原創",
                "山東",
                "公司",
                "金融",
                "山東國資",
                "智庫",
                "鷹眼IPO",
                "熱點",
                "好品山東",
                "證券",
                "消費",
                "樓市"
            ])
        );
        assert_eq!(page.site_name, "山東財經網");
        assert_eq!(page.breadcrumb, strs(&["臨沂"]));
        assert_eq!(page.title, "臨沂山青社會工作服務中心累計服務群眾20余萬人次");
        assert_eq!(page.source.as_deref(), Some("大眾報業·經濟導報"));
        assert_eq!(page.published_at, utc("2023-03-21T09:13:59Z"));
        assert_eq!(
            page.byline,
            vec![
                Credit {
                    name: "劉慎平".into(),
                    role: CreditRole::Reporter
                },
                Credit {
                    name: "劉玉".into(),
                    role: CreditRole::Reporter
                },
            ]
        );
        assert_eq!(page.editor.as_deref(), Some("付建"));

        assert_eq!(page.paragraphs.len(), 4);
        assert!(page.paragraphs[0].starts_with("3月21日上午,臨沂市人民政府"));
        assert!(page.paragraphs[0].ends_with("取得良好社會效果。"));
        assert!(page.paragraphs[1].contains("現已在銀雀山街道"));
        assert!(page.paragraphs[2].starts_with("在做好社區服務的同時"));
        // The real parenthesis is in the fourth paragraph, not the third.
        assert!(page.paragraphs[3].contains("在村(社區)廣泛開展"));
        assert!(page.paragraphs[3].contains("河東區人民檢察院"));
        assert!(page
            .paragraphs
            .iter()
            .all(|p| !p.is_empty() && p.trim_matches([' ', '\u{a0}', '\u{3000}']) == p.as_str()));

        assert_eq!(
            page.notices,
            vec![
                NoticeTemplate {
                    kind: NoticeKind::Original,
                    text: "凡本網注明“來源:經濟導報·山東財經網”的所有作品,版權均屬于經濟導報·山東財經網。經濟導報·山東財經網與作品作者聯合聲明,任何組織轉載、摘編或利用其它方式使用上述作品,敬請注明出處和作者,違者必究!。".into(),
                    window_days: None,
                },
                NoticeTemplate {
                    kind: NoticeKind::Reprint,
                    text: "凡本網注明來源非經濟導報·山東財經網的作品,均轉載自其它媒體,轉載目的在于傳遞信息,更好地服務讀者,并不代表本網贊同其觀點,本網亦不對其真實性負責,持異議者應與原出處單位主張權利。".into(),
                    window_days: None,
                },
                NoticeTemplate {
                    kind: NoticeKind::Removal,
                    text: "如稿件版權單位或個人不想在本網發布,可與本網聯系,本網視情況可立即將其撤除。如因作品內容、版權和其它問題需要同本網聯系的,請30日內進行。".into(),
                    window_days: Some(30),
                },
            ]
        );

        assert_eq!(page.recommendations.len(), 8);
        assert_eq!(
            page.recommendations[0],
            "這些地區間鐵路旅行時間大幅壓縮!回家更快了!"
        );
        assert_eq!(
            page.recommendations[2],
            "91家公司排隊備案境外上市 港交所和納斯達克成熱門選擇"
        );
        assert_eq!(
            page.recommendations[7],
            "滬深交易所發出38份紀律處分,釋放“嚴監管”信號"
        );

        assert_eq!(
            page.footer,
            Footer {
                copyright_holder: Some("山東財經網".into()),
                address: Some("濟南市濼源大街2號 大眾傳媒大廈F24".into()),
                postcode: Some("250014".into()),
                email: Some("sdenews@126.com".into()),
                icp_filing: Some("魯ICP備09023866-44號".into()),
                news_service_filing: Some("201000112".into()),
                complaint_phone: Some("0531-85196503".into()),
                complaint_email: Some("sdenews@126.com".into()),
            }
        );
    }

    #[test]
    fn crlf_line_endings_parse_the_same() {
        let crlf = seed().replace('\n', "\r\n");
        assert_eq!(
            parse_page(&crlf).expect("test input"),
            parse_page(seed()).expect("test input")
        );
    }

    #[test]
    fn missing_breadcrumb_means_no_title() {
        let e = err_of(&seed().replace("山東財經網 >> 臨沂", "山東財經網 臨沂"));
        assert_eq!(e.line, 1);
    }

    #[test]
    fn empty_title_is_reported_on_its_line() {
        let text = seed().replace(
            "臨沂山青社會工作服務中心累計服務群眾20余萬人次\n",
            " \u{3000}\n",
        );
        let e = err_of(&text);
        assert_eq!((e.line, e.problem.as_str()), (3, "empty title"));
    }

    #[test]
    fn breadcrumb_on_the_last_line_has_no_title() {
        let e = err_of("經濟導報 原創\n山東財經網 >> 臨沂");
        assert_eq!(e.line, 3);
    }

    #[test]
    fn missing_publish_time_points_at_the_meta_line() {
        let e = err_of(&seed().replace("加入時間:2023-3-21 17:13:59", ""));
        assert_eq!(e.line, 4);
        assert!(e.problem.contains("no publish time"), "{e}");
    }

    #[test]
    fn impossible_publish_times_are_rejected() {
        for bad in [
            "2024-13-45 25:61:00",
            "2023-2-30 10:00:00",
            "2023-3-21 24:00:00",
        ] {
            let e = err_of(&seed().replace("2023-3-21 17:13:59", bad));
            assert_eq!(e.line, 4, "{bad}");
            assert!(e.problem.starts_with("impossible publish time"), "{e}");
        }
    }

    #[test]
    fn unreadable_publish_time_is_rejected() {
        let e = err_of(&seed().replace("2023-3-21 17:13:59", "昨天 17:13"));
        assert_eq!(e.line, 4);
        assert!(e.problem.starts_with("unreadable publish time"), "{e}");
    }

    #[test]
    fn dst_gap_and_overlap_are_errors() {
        let e = err_of(&seed().replace("2023-3-21 17:13:59", "1988-04-17 02:30:00"));
        assert_eq!(e.line, 4);
        assert!(e.problem.contains("nonexistent"), "{e}");
        let e = err_of(&seed().replace("2023-3-21 17:13:59", "1988-09-11 01:30:00"));
        assert_eq!(e.line, 4);
        assert!(e.problem.contains("ambiguous"), "{e}");
        // During DST the offset was +09:00.
        let page = parse_page(&seed().replace("2023-3-21 17:13:59", "1988-06-01 12:00:00"))
            .expect("test input");
        assert_eq!(page.published_at, utc("1988-06-01T03:00:00Z"));
    }

    #[test]
    fn time_without_leading_zeros_is_shanghai_time() {
        let page = parse_page(&seed().replace("2023-3-21 17:13:59", "2023-3-1 7:03:09"))
            .expect("test input");
        assert_eq!(page.published_at, utc("2023-02-28T23:03:09Z"));
    }

    #[test]
    fn page_without_paragraphs_is_rejected() {
        // Lines 8–14 hold the four paragraphs; the byline is on line 6.
        let e = err_of(&blank_lines(8, 14));
        assert_eq!((e.line, e.problem.as_str()), (7, "no body paragraphs"));
    }

    #[test]
    fn control_characters_are_binary_data() {
        let text = seed().replacen("在做好社區服務", "在做好\u{1}社區服務", 1);
        let e = err_of(&text);
        assert_eq!(e.line, 12);
        assert!(e.problem.starts_with("binary data"), "{e}");
        let e = err_of("\u{7f}");
        assert_eq!(e.line, 1);
    }

    #[test]
    fn byline_roles_apply_until_the_next_role_word() {
        let text = seed().replace(
            "記者 劉慎平 劉玉",
            "記者 劉慎平 劉玉 通訊員 王五、李六 攝影記者 趙七 攝影:錢八",
        );
        let page = parse_page(&text).expect("test input");
        let got: Vec<(&str, CreditRole)> = page
            .byline
            .iter()
            .map(|c| (c.name.as_str(), c.role))
            .collect();
        assert_eq!(
            got,
            vec![
                ("劉慎平", CreditRole::Reporter),
                ("劉玉", CreditRole::Reporter),
                ("王五", CreditRole::Correspondent),
                ("李六", CreditRole::Correspondent),
                ("趙七", CreditRole::Photographer),
                ("錢八", CreditRole::Photographer),
            ]
        );
    }

    #[test]
    fn a_paragraph_starting_with_reporter_is_not_a_byline() {
        let text = seed().replace("  記者 劉慎平 劉玉", "");
        let text = text.replacen("  3月21日上午,", "  記者 從發布會上獲悉。3月21日上午,", 1);
        let page = parse_page(&text).expect("test input");
        assert!(page.byline.is_empty());
        assert!(page.paragraphs[0].starts_with("記者 從發布會上獲悉。"));
    }

    const SIMPLIFIED: &str = "\
经济导报\u{3000}原创\u{3000}山东
山东财经网 >> 临沂 >> 兰山
兰山区开展社区服务
来源：大众报业·经济导报\u{3000}加入时间：2023-03-21 07:05
记者 张三 通讯员 李四 摄影 王五

\u{3000}\u{3000}第一段。
\u{3000}\u{3000}第二段。
责任编辑：赵六
【山东财经网声明】：凡本网注明“来源：经济导报·山东财经网”的所有作品，版权均属于经济导报·山东财经网。凡本网注明来源非经济导报·山东财经网的作品，均转载自其它媒体。如稿件版权单位或个人不想在本网发布，可与本网联系，请15日内进行。
新闻推荐
· 第一条
> 第二条
Copyright © 2008-2023 山东财经网 版权所有 地址：济南市泺源大街2号
邮编：250014 电子邮箱：a@example.com
备案号：鲁ICP备09023866号-44 鲁新网备案号：201000112
违法和不良信息举报电话：0531-85196503 举报邮箱：c@example.com
";

    #[test]
    fn simplified_page_parses() {
        let page = parse_page(SIMPLIFIED).expect("test input");
        assert_eq!(page.navigation, strs(&["经济导报", "原创", "山东"]));
        assert_eq!(page.site_name, "山东财经网");
        assert_eq!(page.breadcrumb, strs(&["临沂", "兰山"]));
        assert_eq!(page.title, "兰山区开展社区服务");
        assert_eq!(page.source.as_deref(), Some("大众报业·经济导报"));
        assert_eq!(page.published_at, utc("2023-03-20T23:05:00Z"));
        let roles: Vec<(&str, CreditRole)> = page
            .byline
            .iter()
            .map(|c| (c.name.as_str(), c.role))
            .collect();
        assert_eq!(
            roles,
            vec![
                ("张三", CreditRole::Reporter),
                ("李四", CreditRole::Correspondent),
                ("王五", CreditRole::Photographer),
            ]
        );
        assert_eq!(page.paragraphs, strs(&["第一段。", "第二段。"]));
        assert_eq!(page.editor.as_deref(), Some("赵六"));
        let kinds: Vec<(NoticeKind, Option<i32>)> = page
            .notices
            .iter()
            .map(|n| (n.kind, n.window_days))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (NoticeKind::Original, None),
                (NoticeKind::Reprint, None),
                (NoticeKind::Removal, Some(15)),
            ]
        );
        assert!(page.notices[1].text.starts_with("凡本网注明来源非"));
        assert_eq!(page.recommendations, strs(&["第一条", "第二条"]));
        assert_eq!(
            page.footer,
            Footer {
                copyright_holder: Some("山东财经网".into()),
                address: Some("济南市泺源大街2号".into()),
                postcode: Some("250014".into()),
                email: Some("a@example.com".into()),
                icp_filing: Some("鲁ICP备09023866号-44".into()),
                news_service_filing: Some("201000112".into()),
                complaint_phone: Some("0531-85196503".into()),
                complaint_email: Some("c@example.com".into()),
            }
        );
    }

    #[test]
    fn footer_line_ends_the_body_when_editor_and_statement_are_missing() {
        let lines: Vec<&str> = seed().split('\n').collect();
        let text = [&lines[..14], &lines[38..]].concat().join("\n");
        let page = parse_page(&text).expect("test input");
        assert_eq!(page.paragraphs.len(), 4);
        assert_eq!(page.editor, None);
        assert!(page.notices.is_empty() && page.recommendations.is_empty());
        assert_eq!(page.footer, parse_page(seed()).expect("test input").footer);
    }

    #[test]
    fn unsplittable_statement_is_one_original_template() {
        let notices = split_statement("本網所載文章僅供參考。");
        assert_eq!(
            notices,
            vec![NoticeTemplate {
                kind: NoticeKind::Original,
                text: "本網所載文章僅供參考。".into(),
                window_days: None,
            }]
        );
    }

    #[test]
    fn statement_may_wrap_over_lines() {
        let page = parse_page(&seed().replace("違者必究!。凡本網", "違者必究!。\n凡本網"))
            .expect("test input");
        assert_eq!(
            page.notices,
            parse_page(seed()).expect("test input").notices
        );
    }

    // Generated inputs (`PROPTEST_CASES` raises the count; `make fuzz` does):
    // whatever a legacy file holds, the cleaner and the parser answer with a
    // page or an error naming a line, and never panic.
    proptest::proptest! {
        #[test]
        fn any_text_is_a_page_or_an_error_on_a_line(text in "(?s).{0,2000}") {
            let cleaned = crate::text::artefact::strip_pinyin_artefact(&text);
            if let Err(e) = parse_page(&cleaned.text) {
                proptest::prop_assert!(e.line >= 1);
            }
        }

        #[test]
        fn a_damaged_sample_page_never_panics(
            cuts in proptest::collection::vec((0usize..20_000, 0usize..400), 0..6),
            insert in "(?s).{0,200}",
            at in 0usize..20_000,
        ) {
            let mut chars: Vec<char> = seed().chars().collect();
            for (start, len) in cuts {
                let start = start.min(chars.len());
                let end = (start + len).min(chars.len());
                chars.drain(start..end);
            }
            let at = at.min(chars.len());
            chars.splice(at..at, insert.chars());
            let damaged: String = chars.into_iter().collect();
            let cleaned = crate::text::artefact::strip_pinyin_artefact(&damaged);
            if let Err(e) = parse_page(&cleaned.text) {
                proptest::prop_assert!(e.line >= 1);
            }
        }
    }
}
