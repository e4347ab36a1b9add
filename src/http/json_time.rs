//! Times in REST bodies, written as chrono writes them (RFC 3339, as many
//! digits of a second as it has, `Z` for UTC) but in one piece: chrono's
//! own `Serialize` hands serde_json a dozen short pieces, each escaped on
//! its own, and the two times of each list item took a third of the
//! instructions that write a search page's JSON.

use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde::Serializer;

/// For `#[serde(serialize_with = "…")]` on a time.
pub fn rfc3339<S: Serializer>(at: &DateTime<FixedOffset>, to: S) -> Result<S::Ok, S::Error> {
    to.serialize_str(&at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// For `#[serde(serialize_with = "…")]` on a time that may be absent.
pub fn rfc3339_or_null<S: Serializer>(
    at: &Option<DateTime<FixedOffset>>,
    to: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => rfc3339(at, to),
        None => to.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};
    use serde::Serialize;

    #[derive(Serialize)]
    struct Ours {
        #[serde(serialize_with = "super::rfc3339")]
        at: chrono::DateTime<chrono::FixedOffset>,
        #[serde(serialize_with = "super::rfc3339_or_null")]
        maybe: Option<chrono::DateTime<chrono::FixedOffset>>,
    }

    #[derive(Serialize)]
    struct Chronos {
        at: chrono::DateTime<chrono::FixedOffset>,
        maybe: Option<chrono::DateTime<chrono::FixedOffset>>,
    }

    #[test]
    fn times_read_as_chrono_writes_them() {
        let offsets = [0, 8 * 3600, -(5 * 3600 + 1800), 3600 + 30];
        let nanos = [0, 120_000_000, 123_456_000, 123_456_789, 1_500_000_000];
        for seconds in offsets {
            let zone = chrono::FixedOffset::east_opt(seconds).expect("offset");
            for nano in nanos {
                for year in [999, 2026, 10_000] {
                    let naive = NaiveDate::from_ymd_opt(year, 12, 31)
                        .and_then(|d| d.and_hms_nano_opt(23, 59, 59, nano))
                        .expect("time");
                    let at = zone.from_utc_datetime(&naive);
                    for maybe in [Some(at), None] {
                        let ours = serde_json::to_string(&Ours { at, maybe });
                        let chronos = serde_json::to_string(&Chronos { at, maybe });
                        assert_eq!(ours.ok(), chronos.ok());
                    }
                }
            }
        }
    }
}
