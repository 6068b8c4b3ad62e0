// npm test's environment (scripts/test-env.mjs): the caller's, less NODE_EXTRA_CA_CERTS, which only
// slows every node process the suite starts; everything else passes through untouched.
import { describe, expect, it } from 'vitest';
import { DROPPED_FOR_TESTS, testRunEnv } from '../../scripts/test-env.mjs';

describe('the environment npm test runs the suite in', () => {
  it('leaves NODE_EXTRA_CA_CERTS out and names it, keeping every other variable as it was', () => {
    const caller = { NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt', PATH: '/usr/bin', PGAPPNAME: 'suite', NODE_OPTIONS: '--max-old-space-size=512' };
    const { env, dropped } = testRunEnv(caller);
    expect(dropped).toEqual(['NODE_EXTRA_CA_CERTS']);
    expect(env).toEqual({ PATH: '/usr/bin', PGAPPNAME: 'suite', NODE_OPTIONS: '--max-old-space-size=512' });
    expect(caller.NODE_EXTRA_CA_CERTS).toBe('/etc/ssl/certs/ca-certificates.crt');
  });

  it('keeps it, saying why, when the tests use a database the caller named: it may be reached over TLS', () => {
    const caller = { NODE_EXTRA_CA_CERTS: '/etc/company-ca.pem', TEST_DATABASE_URL: 'postgres://ci@db.internal:5432/t?sslmode=verify-full' };
    const { env, dropped, kept } = testRunEnv(caller);
    expect(env).toEqual(caller);
    expect(dropped).toEqual([]);
    expect(kept).toEqual([{ name: 'NODE_EXTRA_CA_CERTS', why: expect.stringMatching(/TEST_DATABASE_URL .*TLS/) }]);
  });

  it('drops nothing and says nothing when the variable is not set', () => {
    const { env, dropped, kept } = testRunEnv({ PATH: '/usr/bin' });
    expect(dropped).toEqual([]);
    expect(kept).toEqual([]);
    expect(env).toEqual({ PATH: '/usr/bin' });
  });

  it('says why each variable is left out', () => {
    expect(Object.keys(DROPPED_FOR_TESTS)).toEqual(['NODE_EXTRA_CA_CERTS']);
    expect(DROPPED_FOR_TESTS['NODE_EXTRA_CA_CERTS']).toMatch(/TLS/);
  });
});
