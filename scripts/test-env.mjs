// The environment `npm test` runs the suite in (scripts/test.mjs): the caller's, less the variables
// that only cost the tests time. NODE_EXTRA_CA_CERTS makes every node process parse that file of
// certificates as it starts (the system's bundle, ~140 certificates: ~40 ms of CPU per process on a
// 2-core VM, where `node -e 0` is otherwise ~10 ms), and the suite starts several hundred node
// processes (workers, `ctb` commands, bots, simulators). No test makes a TLS connection: every test
// file allows loopback only (tests/support/setup.ts), and the local fakes of Kraken and Slack speak
// plain HTTP, so no certificate is read — unless the tests' PostgreSQL is one the caller named
// (TEST_DATABASE_URL), which may be reached over TLS with a certificate only that file vouches for:
// then it is kept. The product is not changed: a `ctb` an operator starts keeps whatever the
// operator's environment says.

/** Variables left out of the test run, and why (printed by scripts/test.mjs when one was set). */
export const DROPPED_FOR_TESTS = {
  NODE_EXTRA_CA_CERTS: 'no test makes a TLS connection to the default test database or anything else; with it every node process the suite starts parses that file first',
};

/** Why a variable of DROPPED_FOR_TESTS is kept after all in `env`, or null. */
function keptBecause(name, env) {
  if (name === 'NODE_EXTRA_CA_CERTS' && env.TEST_DATABASE_URL) return 'TEST_DATABASE_URL names a database that may be reached over TLS';
  return null;
}

/**
 * `env` without the variables in DROPPED_FOR_TESTS; `dropped` names those that were set and left
 * out, `kept` those set and kept after all, with why.
 */
export function testRunEnv(env = process.env) {
  const kept = { ...env };
  const dropped = [];
  const keptAnyway = [];
  for (const name of Object.keys(DROPPED_FOR_TESTS)) {
    if (kept[name] === undefined) continue;
    const why = keptBecause(name, env);
    if (why) {
      keptAnyway.push({ name, why });
      continue;
    }
    delete kept[name];
    dropped.push(name);
  }
  return { env: kept, dropped, kept: keptAnyway };
}
