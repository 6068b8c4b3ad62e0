import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import type { CliIo } from '../../src/cli/io.js';
import { usePostgresTestDb } from '../support/db.js';

function io(env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const value: CliIo = {
    env: { DATA_DIR: '/nonexistent-ctb-test', ...env },
    cwd: '/nonexistent-ctb-test',
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
  };
  return { value, out: () => out, err: () => err };
}

describe('ctb usage and configuration errors', () => {
  it('exits 2 on an unknown subcommand and says how to get help', async () => {
    const t = io();
    expect(await runCli(['launch-rockets'], t.value)).toBe(2);
    expect(t.err()).toMatch(/unknown command 'launch-rockets'/);
  });

  it('exits 2 naming the missing Kraken keys when IS_LIVE=true has none', async () => {
    const t = io({ IS_LIVE: 'true' });
    expect(await runCli(['migrate'], t.value)).toBe(2);
    expect(t.err()).toMatch(/KRAKEN_API_KEY: required when IS_LIVE=true/);
    expect(t.err()).toMatch(/KRAKEN_API_SECRET: required when IS_LIVE=true/);
  });

  it('ctb start exits 2 naming the missing KRAKEN_API_SECRET when only the key is set, never echoing the key', async () => {
    const key = 'Q'.repeat(56);
    const t = io({ KRAKEN_API_KEY: key });
    expect(await runCli(['start', '--feed', 'replay'], t.value)).toBe(2);
    expect(t.err()).toMatch(/KRAKEN_API_SECRET: required when KRAKEN_API_KEY is set/);
    expect(t.out() + t.err()).not.toContain(key);
  });

  it('exits 2 on malformed values, naming each', async () => {
    const t = io({ IS_LIVE: 'maybe', PORT: 'abc' });
    expect(await runCli(['migrate'], t.value)).toBe(2);
    expect(t.err()).toMatch(/IS_LIVE: expected true, 1, yes, on \(for true\) or false, 0, no, off \(for false\), got "maybe"/);
    expect(t.err()).toMatch(/PORT: expected a whole number, got "abc"/);
  });

  it('prints help and exits 0', async () => {
    const t = io();
    expect(await runCli(['--help'], t.value)).toBe(0);
    expect(t.out()).toMatch(/Usage: ctb/);
  });
});

describe('ctb numeric options', () => {
  const database = usePostgresTestDb();

  it.each([
    [['mode', 'history', '--limit', 'abc'], /a whole number from 1 to 500/],
    [['oncall', 'show', '--weeks', 'abc'], /a whole number of weeks from 1 to 26/],
  ])('exits 2 on a non-numeric number (%j), saying what it expects instead of "NaN"', async (args, expected) => {
    const t = io({ DATABASE_URL: database().url });
    expect(await runCli(args, t.value)).toBe(2);
    expect(t.err()).toMatch(expected);
    expect(t.err()).not.toMatch(/NaN/);
  });
});
