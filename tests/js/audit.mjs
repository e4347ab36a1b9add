// graphql-http's server audits against a running newsdesk. Prints one JSON
// object: the failed MUST audits ("errors") and the SHOULD/MAY warnings
// ("warnings"), by name; exits 1 when a MUST audit fails.
// Usage: node audit.mjs http://127.0.0.1:PORT
import { serverAudits } from 'graphql-http';

const results = [];
for (const audit of serverAudits({ url: `${process.argv[2]}/graphql` })) {
  const result = await audit.fn();
  results.push({ id: audit.id, name: audit.name, status: result.status, reason: result.reason });
}
const errors = results.filter((r) => r.status === 'error');
const warnings = results.filter((r) => r.status === 'warn');
console.log(JSON.stringify({ audits: results.length, errors, warnings }, null, 1));
process.exit(errors.length > 0 ? 1 : 0);
