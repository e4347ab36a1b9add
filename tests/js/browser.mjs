// Headless Chromium (playwright-core, the system's chromium) against a
// running newsdesk. Every request leaving the server's origin is refused and
// counted, so the page has to work offline.
//
//   node browser.mjs graphiql URL         GraphiQL loads, and its docs explorer
//                                         shows the schema
//   node browser.mjs graphiql-subscription URL QUERY MARKER
//                                         GraphiQL runs the subscription
//                                         QUERY (over its WebSocket); prints
//                                         "ready", then waits up to 30 s for
//                                         MARKER in the result pane
//   node browser.mjs cross-origin URL ORIGIN
//                                         a page at ORIGIN (served by the
//                                         browser itself) calls URL the way
//                                         Apollo Client does, until a 429
//
// Prints one JSON report; exits 1 when a check fails.
import { chromium } from 'playwright-core';

const [, , mode, base, ...rest] = process.argv;
const pageOrigin = mode === 'cross-origin' ? rest[0] : undefined;
const executablePath = process.env.NEWSDESK_CHROMIUM || '/usr/bin/chromium';
const browser = await chromium.launch({
  executablePath,
  // Containers run as root; loopback is "local network" to newer Chromium.
  args: ['--no-sandbox', '--disable-features=LocalNetworkAccessChecks,PrivateNetworkAccessSendPreflights,BlockInsecurePrivateNetworkRequests'],
});
const report = { mode, external: [], problems: [], console: [] };
const fail = (message) => report.problems.push(message);

try {
  const context = await browser.newContext();
  const allowed = new Set([new URL(base).origin, pageOrigin].filter(Boolean));
  await context.route('**/*', (route) => {
    const url = route.request().url();
    const origin = url.startsWith('data:') || url.startsWith('blob:') ? null : new URL(url).origin;
    if (origin && !allowed.has(origin)) {
      report.external.push(url);
      return route.abort();
    }
    if (pageOrigin && origin === pageOrigin) {
      return route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>app</title>' });
    }
    return route.continue();
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') report.console.push(m.text());
  });
  page.on('pageerror', (e) => fail(`page error: ${e.message}`));

  if (mode === 'graphiql') {
    await page.goto(`${base}/graphql`, { waitUntil: 'load' });
    await page.waitForSelector('.graphiql-container', { timeout: 30000 });
    await page.locator('[aria-label="Show Documentation Explorer"]').first().click();
    const explorer = page.locator('.graphiql-doc-explorer');
    await explorer.getByText('QueryRoot').first().waitFor({ timeout: 30000 });
    await explorer.getByText('QueryRoot').first().click();
    await explorer.getByText('article', { exact: true }).first().waitFor({ timeout: 30000 });
    report.docs = 'QueryRoot.article shown';
    const refused = report.console.filter((t) => /Content Security Policy|Refused to/i.test(t));
    if (refused.length) fail(`CSP violations: ${refused.join(' | ')}`);
  } else if (mode === 'graphiql-subscription') {
    const [query, marker] = rest;
    await page.goto(`${base}/graphql`, { waitUntil: 'load' });
    await page.waitForSelector('.graphiql-query-editor .monaco-editor', { timeout: 30000 });
    await page.locator('.graphiql-query-editor .monaco-editor').first().click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(query);
    // GraphiQL parses the editor's text a moment after it changes; run
    // before that, it sends the previous document's kind over HTTP.
    await page.waitForTimeout(1500);
    await page.locator('.graphiql-execute-button').first().click();
    console.log('ready');
    const pane = page.locator('.graphiql-response');
    const deadline = Date.now() + 30000;
    let text = '';
    while (Date.now() < deadline && !text.includes(marker)) {
      await page.waitForTimeout(200);
      text = (await pane.first().innerText()).replace(/\s+/g, ' ');
    }
    report.result = text;
    if (!text.includes(marker)) fail(`no ${marker} in the result pane: ${text}`);
  } else if (mode === 'cross-origin') {
    await page.goto(`${pageOrigin}/`);
    report.calls = await page.evaluate(async (endpoint) => {
      const call = async (init) => {
        try {
          const r = await fetch(endpoint, init);
          return {
            status: r.status,
            contentType: r.headers.get('content-type'),
            retryAfter: r.headers.get('retry-after'),
            requestId: r.headers.get('x-request-id'),
            code: (await r.json()).errors?.[0]?.extensions?.code ?? null,
          };
        } catch (e) {
          return { failed: String(e) };
        }
      };
      const apollo = {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json,application/json;q=0.9',
          'apollographql-client-name': 'web',
          'apollographql-client-version': '1.0.0',
          'apollo-require-preflight': 'true',
          'x-request-id': 'browser-check',
        },
        body: JSON.stringify({ query: '{ __typename }' }),
      };
      const calls = [];
      for (let i = 0; i < 6; i++) {
        const r = await call(apollo);
        calls.push(r);
        if (r.status === 429 || r.failed) break;
      }
      return calls;
    }, `${base}/graphql`);
    const first = report.calls[0];
    const last = report.calls[report.calls.length - 1];
    if (first.status !== 200 || !first.contentType?.startsWith('application/graphql-response+json'))
      fail(`first call: ${JSON.stringify(first)}`);
    if (first.requestId !== 'browser-check') fail('X-Request-Id not readable');
    if (last.status !== 429 || last.code !== 'TOO_MANY_REQUESTS' || !last.retryAfter)
      fail(`no readable 429: ${JSON.stringify(last)}`);
  } else {
    fail(`unknown mode ${mode}`);
  }
  if (report.external.length) fail(`requests to other origins: ${report.external.join(', ')}`);
} catch (e) {
  fail(String(e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report, null, 1));
process.exit(report.problems.length ? 1 : 0);
