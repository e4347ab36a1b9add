// Live updates through the real clients: `graphql-ws` over WebSocket and
// `graphql-sse` over server-sent events. Subscribes to `query` (a GraphQL
// subscription) and prints each event's data as one JSON line until one
// contains `marker` or `seconds` pass; prints "ready" once subscribed.
// Usage: node subscriptions.mjs ws|sse http://127.0.0.1:PORT 'subscription {...}' MARKER [TOKEN] [SECONDS]
import { createClient as wsClient } from 'graphql-ws';
import { createClient as sseClient } from 'graphql-sse';
import WebSocket from 'ws';

const [transport, base, query, marker, token, seconds = '15'] = process.argv.slice(2);
const auth = token ? { Authorization: `Bearer ${token}` } : {};
const client =
  transport === 'ws'
    ? wsClient({
        url: `${base.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: auth,
        retryAttempts: 0,
        on: { connected: () => console.log('ready') },
      })
    : sseClient({ url: `${base}/graphql`, headers: auth, retryAttempts: 0 });
if (transport !== 'ws') console.log('ready');

const timer = setTimeout(() => {
  console.log('timeout');
  process.exit(0);
}, Number(seconds) * 1000);

client.subscribe(
  { query },
  {
    next: (result) => {
      console.log(JSON.stringify(result));
      if (JSON.stringify(result).includes(marker)) {
        clearTimeout(timer);
        process.exit(0);
      }
    },
    error: (error) => {
      const detail = error?.code ? { code: error.code, reason: error.reason } : error;
      console.log(JSON.stringify({ failed: detail?.message ?? detail }));
      process.exit(0);
    },
    complete: () => {
      console.log('complete');
      process.exit(0);
    },
  },
);
