// Live-update load for `make bench` (bench/live.py): many subscribers over
// the `ws` package (what `graphql-ws` runs on in Node) speaking
// graphql-transport-ws, each subscribed to `articlePublished`.
//
//   node live_load.mjs BASE COUNT PUBLISHES TOKEN
//
// Opens COUNT sockets and subscribes each; prints {"held": COUNT, ...} and
// waits for a line on stdin. Then, PUBLISHES times: creates an article,
// publishes it, and times the moment the last subscriber has heard of it,
// from the publishing request's start and from its answer. Prints
// {"publishes": [...]} and exits.
import WebSocket from 'ws';
import readline from 'node:readline';

const [base, count, publishes, token] = process.argv.slice(2);
const url = `${base.replace('http', 'ws')}/graphql`;
const query = 'subscription { articlePublished { databaseId title } }';
const print = (line) => console.log(JSON.stringify(line));

const heard = new Map(); // article id -> [subscribers that heard it, time the last did]
let expected = Number(count);

function open(index) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, ['graphql-transport-ws'], { perMessageDeflate: false });
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
    socket.on('error', reject);
    socket.on('close', (code) => {
      if (!closing) {
        print({ closed: code, index });
        process.exit(1);
      }
    });
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
        resolve(socket);
      } else if (message.type === 'next') {
        const id = message.payload?.data?.articlePublished?.databaseId;
        const entry = heard.get(id) ?? [0, 0];
        entry[0] += 1;
        entry[1] = performance.now();
        heard.set(id, entry);
      }
    });
  });
}

let closing = false;
const started = performance.now();
const sockets = [];
for (let i = 0; i < expected; i += 200) {
  const batch = [];
  for (let j = i; j < Math.min(i + 200, expected); j++) batch.push(open(j));
  sockets.push(...(await Promise.all(batch)));
}
// A subscription registers a moment after its `subscribe` is read.
await new Promise((resolve) => setTimeout(resolve, 1000));
print({ held: sockets.length, open_ms: Math.round(performance.now() - started) });
await new Promise((resolve) => readline.createInterface({ input: process.stdin }).once('line', resolve));

async function graphql(body) {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: body }),
  });
  const answer = await response.json();
  if (answer.errors) throw new Error(JSON.stringify(answer.errors));
  return answer.data;
}

const results = [];
for (let n = 0; n < Number(publishes); n++) {
  const created = await graphql(
    `mutation { createArticle(input: {title: "直播压测 ${n}", section: "lin-yi", paragraphs: ["正文。"]}) { databaseId } }`,
  );
  const id = created.createArticle.databaseId;
  const sent = performance.now();
  await graphql(`mutation { publishArticle(id: "${id}") { status } }`);
  const answered = performance.now();
  const deadline = answered + 10_000;
  while ((heard.get(id)?.[0] ?? 0) < expected && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const [subscribers, last] = heard.get(id) ?? [0, 0];
  results.push({
    subscribers,
    from_request_ms: Math.round((last - sent) * 10) / 10,
    from_answer_ms: Math.round((last - answered) * 10) / 10,
  });
}
print({ publishes: results });
closing = true;
for (const socket of sockets) socket.terminate();
process.exit(0);
