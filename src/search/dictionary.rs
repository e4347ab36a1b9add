//! The site's own words, added to jieba's dictionary so they stay whole:
//! section names, contributor and source names, and the place names of the
//! regions the portal covers.
//!
//! Matching does not depend on the dictionary (queries match Han bigrams,
//! which every indexed text has), so an article indexed before a word was
//! added is still found; the whole words sharpen `related`, which compares
//! the jieba words of articles. Words join at server start, at the start of
//! `import`, `dev seed` and `reindex`; `reindex` rewrites every article with
//! the current dictionary.

use diesel::prelude::*;

use crate::db::schema::{contributors, sections, sources};
use crate::db::AnyConnection;
use crate::error::AppError;

/// Shandong's prefecture-level cities and the districts and counties of
/// Linyi, where the portal's regional channels are.
pub const REGION_PLACES: &[&str] = &[
    "临沂",
    "兰山区",
    "罗庄区",
    "河东区",
    "沂南县",
    "郯城县",
    "沂水县",
    "兰陵县",
    "费县",
    "平邑县",
    "莒南县",
    "蒙阴县",
    "临沭县",
    "济南",
    "青岛",
    "烟台",
    "潍坊",
    "淄博",
    "日照",
    "枣庄",
    "济宁",
    "泰安",
    "威海",
    "德州",
    "聊城",
    "滨州",
    "菏泽",
    "东营",
];

/// Adds the place names and every section, contributor and source name
/// stored; returns how many words were added.
pub fn load_site_words(conn: &mut AnyConnection) -> Result<usize, AppError> {
    let mut words: Vec<String> = REGION_PLACES.iter().map(|w| w.to_string()).collect();
    words.extend(
        sections::table
            .select(sections::name)
            .load::<String>(conn)?,
    );
    words.extend(
        contributors::table
            .select(contributors::name)
            .load::<String>(conn)?,
    );
    words.extend(sources::table.select(sources::name).load::<String>(conn)?);
    Ok(super::index::add_words(&words))
}
