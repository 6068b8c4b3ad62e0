// npm test's environment (scripts/test-env.mjs): the caller's, less NODE_EXTRA_CA_CERTS, which only
// slows every node process the suite starts; everything else passes through untouched.
import { describe, expect, it } from 'vitest';
import { DROPPED_FOR_TESTS, testRunEnv } from '../../scripts/test-env.mjs';

describe('the environment npm test runs the suite in', () => {
  it('leaves NODE_EXTRA_CA_CERTS out and names it, keeping every other variable as it was', () => {
    const caller = { NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt', PATH: '/usr/bin', TEST_DATABASE_URL: 'postgres://x@127.0.0.1/t', NODE_OPTIONS: '--max-old-space-size=512' };
    const { env, dropped } = testRunEnv(caller);
    expect(dropped).toEqual(['NODE_EXTRA_CA_CERTS']);
    expect(env).toEqual({ PATH: '/usr/bin', TEST_DATABASE_URL: 'postgres://x@127.0.0.1/t', NODE_OPTIONS: '--max-old-space-size=512' });
    expect(caller.NODE_EXTRA_CA_CERTS).toBe('/etc/ssl/certs/ca-certificates.crt');
  });

  it('drops nothing and says nothing when the variable is not set', () => {
    const { env, dropped } = testRunEnv({ PATH: '/usr/bin' });
    expect(dropped).toEqual([]);
    expect(env).toEqual({ PATH: '/usr/bin' });
  });

  it('says why each variable is left out', () => {
    expect(Object.keys(DROPPED_FOR_TESTS)).toEqual(['NODE_EXTRA_CA_CERTS']);
    expect(DROPPED_FOR_TESTS['NODE_EXTRA_CA_CERTS']).toMatch(/TLS/);
  });
});
