// graphql-js's standard introspection queries, with every option on and with
// the defaults, against a running newsdesk; each answer must build a client
// schema. Usage: node introspection.mjs http://127.0.0.1:PORT
import { buildClientSchema, getIntrospectionQuery } from 'graphql';

const url = `${process.argv[2]}/graphql`;
const variants = {
  defaults: {},
  everything: {
    descriptions: true,
    specifiedByUrl: true,
    directiveIsRepeatable: true,
    schemaDescription: true,
    inputValueDeprecation: true,
    oneOf: true,
  },
};
let failed = false;
for (const [name, options] of Object.entries(variants)) {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json;q=0.9',
    },
    body: JSON.stringify({ query: getIntrospectionQuery(options) }),
  });
  const body = await response.json();
  if (response.status !== 200 || body.errors || !body.data) {
    console.error(`${name}: HTTP ${response.status} ${JSON.stringify(body.errors ?? body)}`);
    failed = true;
    continue;
  }
  const schema = buildClientSchema(body.data);
  const fields = Object.keys(schema.getQueryType().getFields());
  console.log(`${name}: ${Object.keys(schema.getTypeMap()).length} types; Query has ${fields.length} fields`);
  if (!fields.includes('article')) {
    console.error(`${name}: the schema has no Query.article`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
