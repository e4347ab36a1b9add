//! The registry in the OpenMetrics 1.0 text format, which Prometheus asks
//! for first: counters are named without `_total` in their metadata,
//! histograms end in a `+Inf` bucket, `*_info` gauges are info metrics,
//! and the exposition ends in `# EOF`.

use std::fmt::Write;

use prometheus::proto::{LabelPair, MetricFamily, MetricType};

/// The content type of [`encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Whether an `Accept` header asks for OpenMetrics over the Prometheus text.
pub fn preferred(accept: &str) -> bool {
    let weight = |wanted: &str| -> f32 {
        accept
            .split(',')
            .filter(|part| {
                part.split(';')
                    .next()
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case(wanted))
            })
            .map(|part| {
                part.split(';')
                    .filter_map(|p| p.trim().strip_prefix("q="))
                    .find_map(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0)
            })
            .fold(0.0, f32::max)
    };
    let open = weight("application/openmetrics-text");
    open > 0.0 && open >= weight("text/plain")
}

/// Writes `families` as OpenMetrics text.
pub fn encode(families: &[MetricFamily]) -> String {
    let mut out = String::new();
    for family in families {
        write_family(&mut out, family);
    }
    out.push_str("# EOF\n");
    out
}

fn write_family(out: &mut String, family: &MetricFamily) {
    let name = family.name();
    let kind = family.get_field_type();
    let (base, kind_name) = match kind {
        MetricType::COUNTER => (name.strip_suffix("_total").unwrap_or(name), "counter"),
        MetricType::GAUGE if name.ends_with("_info") => {
            (name.strip_suffix("_info").unwrap_or(name), "info")
        }
        MetricType::GAUGE => (name, "gauge"),
        MetricType::HISTOGRAM => (name, "histogram"),
        MetricType::SUMMARY => (name, "summary"),
        MetricType::UNTYPED => (name, "unknown"),
    };
    let _ = writeln!(out, "# TYPE {base} {kind_name}");
    if !family.help().is_empty() {
        let _ = writeln!(out, "# HELP {base} {}", escape(family.help()));
    }
    for metric in family.get_metric() {
        let labels = metric.get_label();
        match kind {
            MetricType::COUNTER => sample(
                out,
                &format!("{base}_total"),
                labels,
                None,
                metric.get_counter().get_value(),
            ),
            MetricType::GAUGE => sample(out, name, labels, None, metric.get_gauge().get_value()),
            MetricType::HISTOGRAM => {
                let histogram = metric.get_histogram();
                let bucket = format!("{base}_bucket");
                let mut saw_inf = false;
                for b in histogram.get_bucket() {
                    saw_inf |= b.upper_bound().is_infinite();
                    let le = number(b.upper_bound());
                    let count = b.cumulative_count() as f64;
                    sample(out, &bucket, labels, Some(("le", &le)), count);
                }
                let count = histogram.get_sample_count() as f64;
                if !saw_inf {
                    sample(out, &bucket, labels, Some(("le", "+Inf")), count);
                }
                sample(out, &format!("{base}_count"), labels, None, count);
                sample(
                    out,
                    &format!("{base}_sum"),
                    labels,
                    None,
                    histogram.get_sample_sum(),
                );
            }
            // Neither is registered: nothing to write.
            MetricType::SUMMARY | MetricType::UNTYPED => {}
        }
    }
}

fn sample(
    out: &mut String,
    name: &str,
    labels: &[LabelPair],
    extra: Option<(&str, &str)>,
    value: f64,
) {
    out.push_str(name);
    let pairs: Vec<(&str, &str)> = labels
        .iter()
        .map(|l| (l.name(), l.value()))
        .chain(extra)
        .collect();
    if !pairs.is_empty() {
        out.push('{');
        for (n, (label, value)) in pairs.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            let _ = write!(out, "{label}=\"{}\"", escape(value));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {}", number(value));
}

/// A number as OpenMetrics writes it (`+Inf`, `-Inf`, `NaN`).
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{value}")
    }
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openmetrics_is_chosen_only_when_preferred() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert!(preferred(prometheus));
        assert!(preferred("application/openmetrics-text"));
        assert!(!preferred("text/plain"));
        assert!(!preferred("*/*"));
        assert!(!preferred(""));
        assert!(!preferred("text/plain, application/openmetrics-text;q=0.5"));
        assert!(!preferred("application/openmetrics-text;q=0"));
    }
}
