// The GraphiQL page of newsdesk, bundled once (make graphiql) into
// assets/graphiql/ so the page loads nothing from outside the server.
import React from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import 'graphiql/style.css';
import './page.css';

// Monaco runs its language services in workers, built beside this file and
// served from the same folder (whose name changes with its contents).
const here = new URL('.', document.currentScript.src);
globalThis.MonacoEnvironment = {
  getWorker(_workerId, label) {
    const name = { json: 'json.worker.js', graphql: 'graphql.worker.js' }[label] ?? 'editor.worker.js';
    return new Worker(new URL(name, here));
  },
};

const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
const fetcher = createGraphiQLFetcher({
  url: `${window.location.origin}/graphql`,
  // The same origin as the page; used once the server serves subscriptions.
  subscriptionUrl: `${scheme}//${window.location.host}/graphql`,
});

createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, { fetcher, defaultEditorToolbarTabs: 'variables' }),
);
