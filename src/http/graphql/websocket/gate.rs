//! The protocol's rules for what a client sends, checked before a message
//! reaches the GraphQL executor: the close codes of `graphql-transport-ws`
//! (4400 for a message that is not one of the protocol's, 4401 for an
//! operation before `connection_init`, 4409 for an id already running,
//! 4429 for a second `connection_init`) and the limit on operations per
//! connection.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use async_graphql::http::{ClientMessage, WebSocketProtocols};
use serde_json::json;

/// What one message from the client does.
pub enum Verdict {
    /// The executor runs it.
    Pass(Box<ClientMessage>),
    /// Answered here, with this text; the socket stays open.
    Answer(String),
    /// The socket closes with this code and reason.
    Close(u16, String),
}

/// One connection's state as the protocol sees it.
pub struct Gate {
    protocol: WebSocketProtocols,
    /// Operations that may run at once; 0 for no limit.
    per_connection: usize,
    initialised: bool,
    running: HashSet<String>,
    /// Since when no operation runs (`None` while one does).
    idle_since: Option<Instant>,
}

/// A message the server sent that ends an operation.
#[derive(serde::Deserialize)]
struct Completed {
    id: String,
}

impl Gate {
    pub fn new(protocol: WebSocketProtocols, per_connection: usize) -> Self {
        Gate {
            protocol,
            per_connection,
            initialised: false,
            running: HashSet::new(),
            idle_since: Some(Instant::now()),
        }
    }

    /// Whether `connection_init` came.
    pub fn initialised(&self) -> bool {
        self.initialised
    }

    /// How long no operation has run (`None` while one runs).
    pub fn idle_for(&self) -> Option<Duration> {
        self.idle_since.map(|since| since.elapsed())
    }

    /// Checks a text message from the client.
    pub fn admit(&mut self, text: &[u8]) -> Verdict {
        let message = match ClientMessage::from_bytes(text) {
            Ok(message) => message,
            Err(error) => {
                return Verdict::Close(4400, format!("Invalid message received: {error}"))
            }
        };
        match &message {
            ClientMessage::ConnectionInit { .. } if self.initialised => {
                return Verdict::Close(4429, "Too many initialisation requests".into());
            }
            ClientMessage::ConnectionInit { .. } => self.initialised = true,
            ClientMessage::Start { .. } if !self.initialised => {
                return Verdict::Close(4401, "Unauthorized: send connection_init first".into());
            }
            ClientMessage::Start { payload, .. }
                if payload.query.is_empty()
                    && !payload.extensions.contains_key("persistedQuery") =>
            {
                return Verdict::Close(
                    4400,
                    "Invalid message received: subscribe without a query".into(),
                );
            }
            ClientMessage::Start { id, .. } if self.running.contains(id) => {
                return Verdict::Close(4409, format!("Subscriber for {id} already exists"));
            }
            ClientMessage::Start { id, .. }
                if self.per_connection > 0 && self.running.len() >= self.per_connection =>
            {
                return Verdict::Answer(self.too_many(id));
            }
            ClientMessage::Start { id, .. } => {
                self.running.insert(id.clone());
                self.idle_since = None;
            }
            ClientMessage::Stop { id } => self.finished(id),
            _ => {}
        }
        Verdict::Pass(Box::new(message))
    }

    /// Notes what the server sent: a `complete` ends its operation.
    pub fn sent(&mut self, text: &str) {
        // Serialised with the tag first; nothing else needs parsing.
        if text.starts_with(r#"{"type":"complete""#) {
            if let Ok(Completed { id }) = serde_json::from_str(text) {
                self.finished(&id);
            }
        }
    }

    fn finished(&mut self, id: &str) {
        self.running.remove(id);
        if self.running.is_empty() && self.idle_since.is_none() {
            self.idle_since = Some(Instant::now());
        }
    }

    /// The `error` message refusing one operation too many.
    fn too_many(&self, id: &str) -> String {
        let error = json!({
            "message": format!(
                "at most {} operations run at once on one connection; complete one first",
                self.per_connection
            ),
            "extensions": {"code": "TOO_MANY_SUBSCRIPTIONS"},
        });
        // The newer protocol sends a list of GraphQL errors, the older one.
        let payload = match self.protocol {
            WebSocketProtocols::GraphQLWS => json!([error]),
            WebSocketProtocols::SubscriptionsTransportWS => error,
        };
        json!({"type": "error", "id": id, "payload": payload}).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INIT: &[u8] = br#"{"type":"connection_init"}"#;

    fn subscribe(id: &str) -> Vec<u8> {
        json!({"type": "subscribe", "id": id, "payload": {"query": "subscription { articlePublished { id } }"}})
            .to_string()
            .into_bytes()
    }

    fn closes(verdict: Verdict) -> Option<u16> {
        match verdict {
            Verdict::Close(code, _) => Some(code),
            _ => None,
        }
    }

    #[test]
    fn the_protocol_codes_close_what_breaks_it() {
        let mut gate = Gate::new(WebSocketProtocols::GraphQLWS, 0);
        assert_eq!(closes(gate.admit(&subscribe("1"))), Some(4401));
        assert_eq!(closes(gate.admit(b"{not json")), Some(4400));
        assert_eq!(closes(gate.admit(br#"{"type":"launch"}"#)), Some(4400));
        assert_eq!(
            closes(gate.admit(br#"{"type":"subscribe","id":"1"}"#)),
            Some(4400)
        );
        assert_eq!(closes(gate.admit(INIT)), None);
        assert_eq!(
            closes(gate.admit(br#"{"type":"subscribe","id":"1","payload":{}}"#)),
            Some(4400)
        );
        assert_eq!(closes(gate.admit(INIT)), Some(4429));
        assert_eq!(closes(gate.admit(&subscribe("1"))), None);
        assert_eq!(closes(gate.admit(&subscribe("1"))), Some(4409));
    }

    #[test]
    fn an_id_is_free_again_once_its_operation_completed_either_way() {
        let mut gate = Gate::new(WebSocketProtocols::GraphQLWS, 0);
        gate.admit(INIT);
        gate.admit(&subscribe("a"));
        gate.admit(&subscribe("b"));
        gate.admit(br#"{"type":"complete","id":"a"}"#);
        gate.sent(r#"{"type":"complete","id":"b"}"#);
        assert_eq!(closes(gate.admit(&subscribe("a"))), None);
        assert_eq!(closes(gate.admit(&subscribe("b"))), None);
    }

    #[test]
    fn one_operation_too_many_is_refused_and_the_socket_stays_open() {
        let mut gate = Gate::new(WebSocketProtocols::GraphQLWS, 2);
        gate.admit(INIT);
        gate.admit(&subscribe("1"));
        gate.admit(&subscribe("2"));
        let Verdict::Answer(text) = gate.admit(&subscribe("3")) else {
            panic!("the third is answered");
        };
        let error: serde_json::Value = serde_json::from_str(&text).expect("an error message");
        assert_eq!(error["type"], "error");
        assert_eq!(error["id"], "3");
        assert_eq!(
            error["payload"][0]["extensions"]["code"],
            "TOO_MANY_SUBSCRIPTIONS"
        );
        gate.sent(r#"{"type":"complete","id":"1"}"#);
        assert!(matches!(gate.admit(&subscribe("3")), Verdict::Pass(_)));
    }

    #[test]
    fn idle_time_counts_only_while_no_operation_runs() {
        let mut gate = Gate::new(WebSocketProtocols::GraphQLWS, 0);
        assert!(gate.idle_for().is_some());
        gate.admit(INIT);
        gate.admit(&subscribe("1"));
        assert!(gate.idle_for().is_none());
        gate.sent(r#"{"type":"complete","id":"1"}"#);
        assert!(gate.idle_for().is_some());
    }
}
