//! Facet counts of a search: how many hits fall in each section and in
//! each month, counted by the index over every hit (not just the page).

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// Hits per section (the article's own section) and per month.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FacetCounts {
    /// (section id, hits), most hits first, then by id.
    pub sections: Vec<(i32, u64)>,
    /// (`YYYY-MM`, hits), newest month first.
    pub months: Vec<(String, u64)>,
}

/// Counts the hits by the `section` and `published` fast fields; months
/// are those of the site's time zone, taken as its offset now (a zone that
/// shifts for summer may put an article published within that hour of a
/// month's turn into the month beside it).
pub struct FacetCollector {
    /// Seconds east of UTC.
    pub utc_offset: i64,
}

const DAY: i64 = 86_400;

/// What one segment counted: hits by section and by day.
#[derive(Default)]
pub struct Tally {
    sections: HashMap<i64, u64>,
    days: HashMap<i64, u64>,
}

pub struct SegmentTally {
    section: Option<Column<i64>>,
    published: Option<Column<i64>>,
    utc_offset: i64,
    tally: Tally,
}

impl Tally {
    /// Counts a hit in `section`, published at `at` (Unix seconds).
    fn add(&mut self, section: i64, at: Option<i64>, utc_offset: i64) {
        *self.sections.entry(section).or_default() += 1;
        if let Some(at) = at {
            let day = (at + utc_offset).div_euclid(DAY);
            *self.days.entry(day).or_default() += 1;
        }
    }
}

/// The facet counts of hits known by their rows (while the index is
/// rebuilt): (section, published) each.
pub fn count_rows(
    hits: impl IntoIterator<Item = (i32, Option<chrono::NaiveDateTime>)>,
    utc_offset: i64,
) -> FacetCounts {
    let mut tally = Tally::default();
    for (section, at) in hits {
        let at = at.map(|t| t.and_utc().timestamp());
        tally.add(section.into(), at, utc_offset);
    }
    merged(vec![tally])
}

impl SegmentCollector for SegmentTally {
    type Fruit = Tally;

    fn collect(&mut self, doc: DocId, _score: Score) {
        let section = self.section.as_ref().and_then(|c| c.first(doc));
        let at = self.published.as_ref().and_then(|c| c.first(doc));
        self.tally.add(section.unwrap_or(0), at, self.utc_offset);
    }

    fn harvest(self) -> Tally {
        self.tally
    }
}

impl Collector for FacetCollector {
    type Fruit = FacetCounts;
    type Child = SegmentTally;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentTally> {
        Ok(SegmentTally {
            section: reader.fast_fields().i64("section").ok(),
            published: reader.fast_fields().i64("published").ok(),
            utc_offset: self.utc_offset,
            tally: Tally::default(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, tallies: Vec<Tally>) -> tantivy::Result<FacetCounts> {
        Ok(merged(tallies))
    }
}

fn merged(tallies: Vec<Tally>) -> FacetCounts {
    let mut sections: HashMap<i64, u64> = HashMap::new();
    let mut months: HashMap<(i32, u32), u64> = HashMap::new();
    for tally in tallies {
        for (section, n) in tally.sections {
            *sections.entry(section).or_default() += n;
        }
        for (day, n) in tally.days {
            if let Some(date) = day_date(day) {
                *months.entry((date.year(), date.month())).or_default() += n;
            }
        }
    }
    let mut sections: Vec<(i32, u64)> = sections
        .into_iter()
        .filter_map(|(id, n)| Some((i32::try_from(id).ok()?, n)))
        .collect();
    sections.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut months: Vec<((i32, u32), u64)> = months.into_iter().collect();
    months.sort_by_key(|m| std::cmp::Reverse(m.0));
    FacetCounts {
        sections,
        months: months
            .into_iter()
            .map(|((y, m), n)| (format!("{y:04}-{m:02}"), n))
            .collect(),
    }
}

/// The date of a day counted from 1970-01-01.
fn day_date(day: i64) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(chrono::TimeDelta::try_days(day)?)
}

/// Adds each section's hits to its ancestors': a section's count is then
/// that of the section with its subsections, as the section filter counts
/// (so the counts of sections at different levels overlap). `links` are
/// (section, parent) pairs.
pub fn rolled_up(direct: &[(i32, u64)], links: &[(i32, Option<i32>)]) -> Vec<(i32, u64)> {
    let parent: HashMap<i32, Option<i32>> = links.iter().copied().collect();
    let mut totals: HashMap<i32, u64> = HashMap::new();
    for &(section, n) in direct {
        let mut at = Some(section);
        // A tree has no cycles; the bound guards against bad data.
        for _ in 0..=links.len() {
            let Some(id) = at else { break };
            *totals.entry(id).or_default() += n;
            at = parent.get(&id).copied().flatten();
        }
    }
    let mut out: Vec<(i32, u64)> = totals.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sections_count_takes_in_its_subsections() {
        let links = [(1, None), (2, Some(1)), (3, Some(1)), (4, None)];
        let direct = [(2, 5), (3, 2), (1, 1), (4, 3)];
        assert_eq!(
            rolled_up(&direct, &links),
            vec![(1, 8), (2, 5), (4, 3), (3, 2)]
        );
    }

    #[test]
    fn days_turn_into_their_dates() {
        assert_eq!(day_date(0), NaiveDate::from_ymd_opt(1970, 1, 1));
        assert_eq!(day_date(20_000), NaiveDate::from_ymd_opt(2024, 10, 4));
    }
}
