// Builds assets/graphiql/ from entry.jsx: the page script, its stylesheet and
// Monaco's three workers. Run through `make graphiql`; the output is committed.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(here, '../../assets/graphiql');

const common = {
  bundle: true,
  minify: true,
  legalComments: 'none',
  target: 'es2020',
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
};

await build({
  ...common,
  entryPoints: { graphiql: path.join(here, 'entry.jsx') },
  outdir: out,
  format: 'iife',
  // Fonts and images go inside the stylesheet: one file, no other requests.
  loader: { '.ttf': 'dataurl', '.woff': 'dataurl', '.woff2': 'dataurl', '.svg': 'dataurl', '.png': 'dataurl' },
});

await build({
  ...common,
  entryPoints: {
    'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
    'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
    'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
  },
  outdir: out,
  format: 'iife',
});
