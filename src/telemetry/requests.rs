//! The HTTP request series, kept per server worker and summed when
//! scraped. Every request touches several of them (a counter, three
//! histograms, the in-flight gauge): shared by the workers, their atomics
//! bounce between cores on every request, which cost about 8 % of a cached
//! answer's throughput; each worker counting into its own copy costs a
//! fraction of that, and a scrape adds the copies up.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use prometheus::core::{Collector, Desc};
use prometheus::proto::{Metric, MetricFamily, MetricType};
use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts,
};

/// Latency buckets, in seconds: 1 ms to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Body size buckets, in bytes: 100 B to 16 MiB.
const SIZE_BUCKETS: &[f64] = &[
    100.0,
    1_000.0,
    10_000.0,
    100_000.0,
    1_000_000.0,
    4_000_000.0,
    16_000_000.0,
];

/// One worker's copy of the request series.
pub struct RequestSeries {
    requests: IntCounterVec,
    duration: HistogramVec,
    pub in_flight: IntGauge,
    request_bytes: HistogramVec,
    response_bytes: HistogramVec,
    /// The series each route has answered into, found with one lookup
    /// (the label sets are bounded, so this is too).
    routes: Mutex<HashMap<String, RouteSeries>>,
}

/// A route's series.
struct RouteSeries {
    request_bytes: Histogram,
    response_bytes: Histogram,
    /// By method and status.
    answers: Vec<(&'static str, u16, IntCounter, Histogram)>,
}

/// One answered request, as the series count it.
pub struct Answered<'a> {
    pub route: &'a str,
    pub method: &'static str,
    pub status: actix_web::http::StatusCode,
    pub seconds: f64,
    pub request_bytes: Option<f64>,
    pub response_bytes: Option<f64>,
}

impl RequestSeries {
    fn new() -> Result<RequestSeries, prometheus::Error> {
        Ok(RequestSeries {
            requests: IntCounterVec::new(
                Opts::new(
                    "newsdesk_http_requests_total",
                    "HTTP requests answered, by route template, method and status.",
                ),
                &["route", "method", "status"],
            )?,
            duration: HistogramVec::new(
                HistogramOpts::new(
                    "newsdesk_http_request_duration_seconds",
                    "Time from a request's arrival to its answer's head, by route template and method.",
                )
                .buckets(LATENCY_BUCKETS.to_vec()),
                &["route", "method"],
            )?,
            in_flight: IntGauge::new(
                "newsdesk_http_requests_in_flight",
                "Requests being answered now.",
            )?,
            request_bytes: HistogramVec::new(
                HistogramOpts::new(
                    "newsdesk_http_request_body_bytes",
                    "Request bodies, by route template (as announced by Content-Length).",
                )
                .buckets(SIZE_BUCKETS.to_vec()),
                &["route"],
            )?,
            response_bytes: HistogramVec::new(
                HistogramOpts::new(
                    "newsdesk_http_response_body_bytes",
                    "Response bodies of known size as sent (compressed when compressed), by route template.",
                )
                .buckets(SIZE_BUCKETS.to_vec()),
                &["route"],
            )?,
            routes: Mutex::default(),
        })
    }

    /// Counts one answered request.
    pub fn record(&self, answer: Answered<'_>) {
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        if !routes.contains_key(answer.route) {
            let series = RouteSeries {
                request_bytes: self.request_bytes.with_label_values(&[answer.route]),
                response_bytes: self.response_bytes.with_label_values(&[answer.route]),
                answers: Vec::new(),
            };
            routes.insert(answer.route.to_string(), series);
        }
        let Some(route) = routes.get_mut(answer.route) else {
            return;
        };
        let status = answer.status.as_u16();
        let at = match route
            .answers
            .iter()
            .position(|(m, s, ..)| *m == answer.method && *s == status)
        {
            Some(at) => at,
            None => {
                route.answers.push((
                    answer.method,
                    status,
                    self.requests.with_label_values(&[
                        answer.route,
                        answer.method,
                        answer.status.as_str(),
                    ]),
                    self.duration
                        .with_label_values(&[answer.route, answer.method]),
                ));
                route.answers.len() - 1
            }
        };
        let (.., requests, duration) = &route.answers[at];
        requests.inc();
        duration.observe(answer.seconds);
        if let Some(bytes) = answer.request_bytes {
            route.request_bytes.observe(bytes);
        }
        if let Some(bytes) = answer.response_bytes {
            route.response_bytes.observe(bytes);
        }
    }

    fn collectors(&self) -> [&dyn Collector; 5] {
        [
            &self.requests,
            &self.duration,
            &self.in_flight,
            &self.request_bytes,
            &self.response_bytes,
        ]
    }
}

/// The copies of every worker, registered as one collector.
#[derive(Clone)]
pub struct RequestShards {
    /// Never counted into: it names the series for the registry.
    template: Arc<RequestSeries>,
    shards: Arc<Mutex<Vec<Arc<RequestSeries>>>>,
}

impl RequestShards {
    pub fn new() -> Result<RequestShards, prometheus::Error> {
        Ok(RequestShards {
            template: Arc::new(RequestSeries::new()?),
            shards: Arc::default(),
        })
    }

    /// A copy for one more worker.
    pub fn shard(&self) -> Result<Arc<RequestSeries>, prometheus::Error> {
        let shard = Arc::new(RequestSeries::new()?);
        self.shards
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(shard.clone());
        Ok(shard)
    }
}

impl Collector for RequestShards {
    fn desc(&self) -> Vec<&Desc> {
        self.template
            .collectors()
            .into_iter()
            .flat_map(|c| c.desc())
            .collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let shards = self
            .shards
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut families = self
            .template
            .collectors()
            .into_iter()
            .flat_map(|c| c.collect())
            .collect::<Vec<_>>();
        for family in &mut families {
            family.set_metric(Vec::new());
        }
        for shard in &shards {
            for (sum, part) in families
                .iter_mut()
                .zip(shard.collectors().into_iter().flat_map(|c| c.collect()))
            {
                add(sum, part);
            }
        }
        families
    }
}

/// A series' labels, as a key.
fn labels(metric: &Metric) -> Vec<(String, String)> {
    metric
        .get_label()
        .iter()
        .map(|l| (l.name().to_string(), l.value().to_string()))
        .collect()
}

/// Adds `part`'s series into `sum`'s, series by series.
fn add(sum: &mut MetricFamily, mut part: MetricFamily) {
    let kind = sum.get_field_type();
    let mut index: BTreeMap<Vec<(String, String)>, usize> = sum
        .get_metric()
        .iter()
        .enumerate()
        .map(|(i, m)| (labels(m), i))
        .collect();
    for metric in part.take_metric() {
        let key = labels(&metric);
        let Some(&at) = index.get(&key) else {
            index.insert(key, sum.get_metric().len());
            sum.mut_metric().push(metric);
            continue;
        };
        let into = &mut sum.mut_metric()[at];
        match kind {
            MetricType::COUNTER => {
                let mut counter = into.get_counter().clone();
                counter.set_value(counter.get_value() + metric.get_counter().get_value());
                into.set_counter(counter);
            }
            MetricType::GAUGE => {
                let mut gauge = into.get_gauge().clone();
                gauge.set_value(gauge.get_value() + metric.get_gauge().get_value());
                into.set_gauge(gauge);
            }
            MetricType::HISTOGRAM => {
                let mut histogram = into.get_histogram().clone();
                let other = metric.get_histogram();
                histogram.set_sample_count(histogram.get_sample_count() + other.get_sample_count());
                histogram.set_sample_sum(histogram.get_sample_sum() + other.get_sample_sum());
                let mut buckets = histogram.get_bucket().to_vec();
                for (bucket, more) in buckets.iter_mut().zip(other.get_bucket()) {
                    bucket
                        .set_cumulative_count(bucket.cumulative_count() + more.cumulative_count());
                }
                histogram.set_bucket(buckets);
                into.set_histogram(histogram);
            }
            MetricType::SUMMARY | MetricType::UNTYPED => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workers_copies_add_up_when_scraped() {
        let shards = RequestShards::new().expect("series");
        let (a, b) = (shards.shard().expect("a"), shards.shard().expect("b"));
        for (shard, n) in [(&a, 2), (&b, 3)] {
            for _ in 0..n {
                shard
                    .requests
                    .with_label_values(&["/graphql", "POST", "200"])
                    .inc();
                shard
                    .duration
                    .with_label_values(&["/graphql", "POST"])
                    .observe(0.002);
            }
        }
        b.requests
            .with_label_values(&["/healthz", "GET", "200"])
            .inc();
        a.in_flight.inc();
        let registry = prometheus::Registry::new();
        registry
            .register(Box::new(shards.clone()))
            .expect("register");
        let families = registry.gather();
        let family = |name: &str| {
            families
                .iter()
                .find(|f| f.name() == name)
                .unwrap_or_else(|| panic!("{name}"))
        };
        let requests = family("newsdesk_http_requests_total");
        let counts: Vec<(Vec<(String, String)>, f64)> = requests
            .get_metric()
            .iter()
            .map(|m| (labels(m), m.get_counter().get_value()))
            .collect();
        assert_eq!(counts.len(), 2, "{counts:?}");
        assert!(counts
            .iter()
            .any(|(l, v)| *v == 5.0 && l.iter().any(|p| p.1 == "/graphql")));
        assert!(counts
            .iter()
            .any(|(l, v)| *v == 1.0 && l.iter().any(|p| p.1 == "/healthz")));
        let duration = family("newsdesk_http_request_duration_seconds").get_metric()[0]
            .get_histogram()
            .clone();
        assert_eq!(duration.get_sample_count(), 5);
        assert_eq!(duration.get_bucket()[1].cumulative_count(), 5);
        assert_eq!(
            family("newsdesk_http_requests_in_flight").get_metric()[0]
                .get_gauge()
                .get_value(),
            1.0
        );
    }
}
