//! Counters and gauges whose values live where the work is counted (an
//! atomic in the pool, the peers' listener, the search index), read into
//! the registry at each scrape instead of being copied on every change.

use std::collections::HashMap;

use prometheus::core::{Collector, Desc};
use prometheus::proto::{Counter, Gauge, Metric, MetricFamily, MetricType};

/// Reads the current value.
pub type Read = Box<dyn Fn() -> f64 + Send + Sync>;

/// One series, read when scraped.
pub struct Sampled {
    desc: Desc,
    kind: MetricType,
    read: Read,
}

impl Sampled {
    /// A series `name{labels}`: a counter (`kind` COUNTER, its value never
    /// goes down) or a gauge.
    pub fn new(
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        kind: MetricType,
        read: Read,
    ) -> Result<Sampled, prometheus::Error> {
        let labels: HashMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Ok(Sampled {
            desc: Desc::new(name.to_string(), help.to_string(), Vec::new(), labels)?,
            kind,
            read,
        })
    }
}

impl Collector for Sampled {
    fn desc(&self) -> Vec<&Desc> {
        vec![&self.desc]
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let value = (self.read)();
        let mut metric = Metric::from_label(self.desc.const_label_pairs.clone());
        match self.kind {
            MetricType::COUNTER => {
                let mut counter = Counter::default();
                counter.set_value(value);
                metric.set_counter(counter);
            }
            _ => {
                let mut gauge = Gauge::default();
                gauge.set_value(value);
                metric.set_gauge(gauge);
            }
        }
        let mut family = MetricFamily::default();
        family.set_name(self.desc.fq_name.clone());
        family.set_help(self.desc.help.clone());
        family.set_field_type(self.kind);
        family.set_metric(vec![metric]);
        vec![family]
    }
}
