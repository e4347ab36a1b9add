// A raw WebSocket client (the `ws` package, which `graphql-ws` runs on in
// Node) for the transport's edges: sends the given frames in order and
// prints, one JSON line each, what comes back until the socket closes or
// `seconds` pass.
//
//   node ws_frames.mjs URL PROTOCOL STEPS [SECONDS] [ORIGIN]
//
// PROTOCOL is the Sec-WebSocket-Protocol to ask for ("-" for none). STEPS is
// a JSON array: a string is sent as a text frame, {"json": value} as its
// JSON text, {"wait": ms} pauses, {"until": text} waits for a message
// containing text, {"binary": text} sends a binary frame, {"bytes": n} sends a
// text frame of n bytes, {"silent": true} stops answering pings, {"exit":
// true} prints {"exit": true} and ends (the socket still open).
// Prints {"open": protocol}, {"message": text}, {"ping": true},
// {"close": code, "reason": text}, {"refused": status, "body": text}.
import WebSocket from 'ws';

const [url, protocol, steps, seconds = '10', origin] = process.argv.slice(2);
const print = (line) => console.log(JSON.stringify(line));
const socket = new WebSocket(url, protocol === '-' ? [] : [protocol], {
  headers: origin ? { Origin: origin } : {},
  autoPong: true,
  maxPayload: 64 * 1024 * 1024,
});
const received = [];
let wake = null;
const timer = setTimeout(() => {
  print({ timeout: true });
  process.exit(0);
}, Number(seconds) * 1000);

socket.on('unexpected-response', (_request, response) => {
  let body = '';
  response.on('data', (chunk) => (body += chunk));
  response.on('end', () => {
    print({ refused: response.statusCode, body });
    process.exit(0);
  });
});
socket.on('error', (error) => print({ error: String(error) }));
socket.on('ping', () => print({ ping: true }));
socket.on('message', (data) => {
  const text = data.toString();
  received.push(text);
  print({ message: text });
  if (wake) wake();
});
socket.on('close', (code, reason) => {
  clearTimeout(timer);
  print({ close: code, reason: reason.toString() });
  process.exit(0);
});
socket.on('open', async () => {
  print({ open: socket.protocol });
  for (const step of JSON.parse(steps)) {
    if (typeof step === 'string') socket.send(step);
    else if ('json' in step) socket.send(JSON.stringify(step.json));
    else if ('binary' in step) socket.send(Buffer.from(step.binary), { binary: true });
    else if ('bytes' in step) socket.send('x'.repeat(step.bytes));
    else if ('silent' in step) socket._autoPong = false;
    else if ('exit' in step) {
      print({ exit: true });
      process.exit(0);
    }
    else if ('wait' in step) await new Promise((resolve) => setTimeout(resolve, step.wait));
    else if ('until' in step) {
      while (!received.some((text) => text.includes(step.until))) {
        await new Promise((resolve) => (wake = resolve));
      }
    }
  }
});
