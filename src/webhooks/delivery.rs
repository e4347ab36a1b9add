use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use tracing::Instrument;

use super::target;
use crate::db::webhooks::{self, OutboxRow, WebhookRow};
use crate::db::{self, Database};
use crate::telemetry::traces;

/// The `X-Newsdesk-Signature` value: `t=UNIX,v1=HEX(HMAC-SHA256(secret, "t.body"))`.
/// Receivers recompute it and refuse old timestamps, which stops replays.
pub fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| {
            <Hmac<Sha256> as KeyInit>::new_from_slice(b"-").expect("HMAC takes any key")
        });
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let digest: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={timestamp},v1={digest}")
}

/// Seconds to wait after `attempts` failures: 1, 2, 4 … capped at an hour.
fn backoff(attempts: i32) -> i64 {
    2i64.saturating_pow(attempts.clamp(0, 12) as u32).min(3600)
}

/// One delivery attempt; `Ok(status)` for an HTTP answer, `Err` otherwise.
async fn deliver(
    outbox: &OutboxRow,
    hook: &WebhookRow,
    allow_private: bool,
    timeout: Duration,
    lookup: Arc<target::Lookup>,
) -> Result<u16, String> {
    let url = target::check_url(&hook.url, allow_private).map_err(|e| e.to_string())?;
    let resolve_url = url.clone();
    let addr =
        tokio::task::spawn_blocking(move || target::resolve(&resolve_url, allow_private, &*lookup))
            .await
            .map_err(|e| e.to_string())??;
    let host = url.host_str().unwrap_or_default().to_string();
    // The checked address is the one connected to; redirects are not followed.
    let client = reqwest::Client::builder()
        .resolve(&host, addr)
        .redirect(reqwest::redirect::Policy::none())
        // Covers connecting and the answer's headers; the body is never read,
        // so a huge or endless body costs nothing.
        .timeout(timeout)
        .build()
        .map_err(|e| e.to_string())?;
    let timestamp = chrono::Utc::now().timestamp();
    let mut request = client.post(url);
    // The receiver's spans join the trace of the change announced.
    if let Some(traceparent) = traces::traceparent(&tracing::Span::current()) {
        request = request.header("traceparent", traceparent);
    }
    let response = request
        .header("content-type", "application/json")
        .header("x-newsdesk-event", &outbox.event)
        .header("x-newsdesk-delivery", outbox.id.to_string())
        .header(
            "x-newsdesk-signature",
            sign(&hook.secret, timestamp, &outbox.payload),
        )
        .body(outbox.payload.clone())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    Ok(response.status().as_u16())
}

/// Delivery attempts by how they ended, for `/metrics`.
#[derive(Debug, Default)]
pub struct DeliveryCounts {
    by_class: [std::sync::atomic::AtomicU64; 5],
}

impl DeliveryCounts {
    /// The classes counted: an answer's status class, or `error` when none
    /// came (refused target, connection failed, timed out).
    pub const CLASSES: [&'static str; 5] = ["2xx", "3xx", "4xx", "5xx", "error"];

    fn count(&self, result: &Result<u16, String>) {
        let class = match result {
            Ok(200..=299) => 0,
            Ok(300..=399) => 1,
            Ok(400..=499) => 2,
            Ok(_) => 3,
            Err(_) => 4,
        };
        self.by_class[class].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Attempts that ended in `class` (one of [`DeliveryCounts::CLASSES`]).
    pub fn get(&self, class: &str) -> u64 {
        Self::CLASSES
            .iter()
            .position(|c| *c == class)
            .map_or(0, |i| {
                self.by_class[i].load(std::sync::atomic::Ordering::Relaxed)
            })
    }
}

/// Events delivered per round, at most.
const ROUND: usize = 20;

/// How long a node holds the event it is delivering: the delivery's time
/// limit, and room for resolving the host. Events are claimed one at a
/// time, so a node that dies mid-delivery holds up one event, that long.
fn lease(timeout: Duration) -> chrono::Duration {
    chrono::Duration::from_std(timeout + Duration::from_secs(10))
        .unwrap_or(chrono::Duration::minutes(1))
}

/// Delivers due events every `poll`, until the runtime stops. Delivery is at
/// least once: the outbox row is marked delivered only after a 2xx answer.
/// Every node runs this; the lease on each event makes one node send it.
pub fn spawn_worker(
    database: Database,
    allow_private: bool,
    poll: Duration,
    timeout: Duration,
    counts: Arc<DeliveryCounts>,
) {
    let lease = lease(timeout);
    let lookup: Arc<target::Lookup> = Arc::new(target::system_lookup);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(poll).await;
            for _ in 0..ROUND {
                let claimed = database
                    .write(move |conn| webhooks::claim_due(conn, db::now(), lease, 1))
                    .await;
                let Some((outbox, hook)) = claimed.ok().and_then(|d| d.into_iter().next()) else {
                    break;
                };
                let span = tracing::debug_span!(
                    "webhook.deliver",
                    otel.name = "POST webhook",
                    otel.kind = "client",
                    webhook.id = hook.id,
                    outbox.id = outbox.id,
                    webhook.event = %outbox.event,
                    http.response.status_code = tracing::field::Empty,
                    otel.status_code = tracing::field::Empty,
                );
                traces::continue_trace(&span, outbox.traceparent.as_deref(), None);
                let result = deliver(&outbox, &hook, allow_private, timeout, lookup.clone())
                    .instrument(span.clone())
                    .await;
                counts.count(&result);
                match &result {
                    Ok(code) if (200..300).contains(code) => {
                        span.record("http.response.status_code", i64::from(*code));
                    }
                    Ok(code) => {
                        span.record("http.response.status_code", i64::from(*code));
                        span.record("otel.status_code", "ERROR");
                    }
                    Err(_) => {
                        span.record("otel.status_code", "ERROR");
                    }
                }
                let (status, error, delivered) = match result {
                    Ok(code) if (200..300).contains(&code) => (Some(code as i32), None, true),
                    Ok(code) => (Some(code as i32), Some(format!("HTTP {code}")), false),
                    Err(e) => (None, Some(e), false),
                };
                if let Some(e) = &error {
                    tracing::warn!(webhook.id = hook.id, outbox.id = outbox.id, error = %e, "webhook delivery failed");
                }
                let retry_at = db::now() + chrono::Duration::seconds(backoff(outbox.attempts));
                let outcome = database
                    .write(move |conn| {
                        webhooks::record_attempt(
                            conn,
                            &outbox,
                            status,
                            error.as_deref(),
                            delivered,
                            retry_at,
                        )
                    })
                    .await;
                if let Err(e) = outcome {
                    tracing::warn!(error = %e, "cannot record a webhook attempt");
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A loopback listener that counts the connections it accepts.
    async fn counting_listener(address: &str) -> (SocketAddr, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind(address).await.expect("bind");
        let address = listener.local_addr().expect("address");
        let count = Arc::new(AtomicUsize::new(0));
        let counted = count.clone();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((mut stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let _ = stream
                    .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                    .await;
            }
        });
        (address, count)
    }

    /// A resolver that answers `first` once and `later` ever after, and
    /// counts the lookups.
    fn rebinding(first: SocketAddr, later: SocketAddr) -> (Arc<target::Lookup>, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        let lookup = move |_: &str, _: u16| {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            Ok(vec![if n == 0 { first } else { later }])
        };
        (Arc::new(lookup), calls)
    }

    fn event_for(url: &str) -> (OutboxRow, WebhookRow) {
        let now = crate::db::now();
        let hook = WebhookRow {
            id: 1,
            url: url.into(),
            events: "article.published".into(),
            secret: "s".into(),
            active: true,
            created_at: now,
        };
        let outbox = OutboxRow {
            id: 1,
            webhook_id: 1,
            event: "article.published".into(),
            payload: "{}".into(),
            attempts: 0,
            next_attempt_at: now,
            delivered_at: None,
            last_error: None,
            created_at: now,
            traceparent: None,
        };
        (outbox, hook)
    }

    #[tokio::test]
    async fn a_host_that_rebinds_to_loopback_is_refused_and_never_contacted_t_ssrf_3() {
        let (inside, contacted) = counting_listener("127.0.0.1:0").await;
        let public: SocketAddr = "93.184.216.34:80".parse().expect("address");
        let (lookup, calls) = rebinding(public, inside);
        let url = reqwest::Url::parse(&format!("http://rebind.test:{}/hook", inside.port()))
            .expect("url");
        // The check an attacker passes: the host looks public.
        assert_eq!(target::resolve(&url, false, &*lookup), Ok(public));

        let (outbox, hook) = event_for(url.as_str());
        let outcome = deliver(&outbox, &hook, false, Duration::from_secs(2), lookup).await;

        let error = outcome.expect_err("delivered to a rebinding host");
        assert!(error.contains("non-public"), "{error}");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            contacted.load(Ordering::SeqCst),
            0,
            "the inside was contacted"
        );
    }

    #[tokio::test]
    async fn the_connection_goes_to_the_address_that_was_checked_t_ssrf_3() {
        // Private targets allowed, so both loopback listeners pass the
        // check: what is left to see is where the connection goes. They
        // share a port, as the URL names the port and DNS only the address.
        let (checked, checked_contacts) = counting_listener("127.0.0.1:0").await;
        let (other, other_contacts) =
            counting_listener(&format!("127.0.0.2:{}", checked.port())).await;
        let (lookup, calls) = rebinding(checked, other);
        let (outbox, hook) = event_for(&format!("http://rebind.test:{}/hook", checked.port()));

        let outcome = deliver(&outbox, &hook, true, Duration::from_secs(5), lookup).await;

        assert_eq!(outcome, Ok(204));
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "the host was looked up again"
        );
        assert_eq!(checked_contacts.load(Ordering::SeqCst), 1);
        assert_eq!(other_contacts.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn signatures_cover_time_and_body() {
        let a = sign("secret", 1_700_000_000, "{}");
        assert!(a.starts_with("t=1700000000,v1="));
        assert_ne!(a, sign("secret", 1_700_000_001, "{}"));
        assert_ne!(a, sign("secret", 1_700_000_000, "{ }"));
        assert_ne!(a, sign("other", 1_700_000_000, "{}"));
        assert_eq!(backoff(0), 1);
        assert_eq!(backoff(2), 4);
        assert_eq!(backoff(30), 3600);
    }
}
