// GraphQL Code Generator (typescript + typescript-operations) against a
// running newsdesk with introspection on, for the operations in
// operations/. Usage: node codegen.mjs http://127.0.0.1:PORT OUT.ts
import { generate } from '@graphql-codegen/cli';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const [, , base, out] = process.argv;
await generate(
  {
    schema: `${base}/graphql`,
    documents: path.join(here, 'operations', '*.graphql'),
    generates: {
      [out]: {
        plugins: ['typescript', 'typescript-operations'],
        // RFC 3339 text with its offset, as schema.graphql describes it.
        config: { scalars: { DateTime: 'string' } },
      },
    },
    silent: true,
  },
  true,
);
