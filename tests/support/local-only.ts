// Keeps a test's child processes on this machine. A child `ctb` (or bot) a test starts gets an
// environment of the test's making, not this process's: without a KRAKEN_API_URL it would ask the
// real Kraken (the audit reads its public AssetPairs with no key at all), and with a Slack token but
// no SLACK_API_URL the real Slack. `localOnly` points each at a closed local port unless the test
// chose one itself — in the environment, or in the `.env` the child reads (the environment wins
// over .env, so a default set there would override the test's file). A child that still reaches
// beyond loopback is recorded by net-watch.mjs and `offMachine` names where it went.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Nothing listens here: a Kraken or Slack call is refused at once (ECONNREFUSED). A privileged port, so
 * no test's server is ever given it; not 9 or 1, which fetch refuses itself ("bad port") before trying.
 */
export const CLOSED_LOCAL_URL = 'http://127.0.0.1:3';

const WATCH = new URL('./net-watch.mjs', import.meta.url).pathname;

function dotEnvNames(cwd: string): Set<string> {
  const file = join(cwd, '.env');
  if (!existsSync(file)) return new Set();
  return new Set(readFileSync(file, 'utf8').split(/\r?\n/).map((line) => /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1]).filter((n): n is string => n !== undefined));
}

/**
 * `env` for a child run in `cwd`, with KRAKEN_API_URL (and SLACK_API_URL when a Slack token is set)
 * at a closed local port unless `env` or `cwd`'s .env sets it. Read when the child is spawned: a
 * test that writes .env first keeps its own URL.
 */
export function localOnly(env: Record<string, string>, cwd: string): Record<string, string> {
  const inFile = dotEnvNames(cwd);
  const set = (name: string) => name in env || inFile.has(name);
  const out = { ...env };
  if (!set('KRAKEN_API_URL')) out['KRAKEN_API_URL'] = CLOSED_LOCAL_URL;
  const slackToken = ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN'].some((n) => (n in env ? env[n] !== '' : inFile.has(n)));
  if (slackToken && !set('SLACK_API_URL')) out['SLACK_API_URL'] = `${CLOSED_LOCAL_URL}/api/`;
  return out;
}

export interface NetWatch {
  /** The environment with the watch loaded (NODE_OPTIONS) and its log named. */
  env: Record<string, string>;
  /** `host:port` of every connection the child has opened beyond this machine so far, in order. */
  seen(): string[];
  /** As seen(), once the child has exited: removes the log. */
  offMachine(): string[];
}

/** Watches the outbound connections of the child spawned with `watch.env` (net-watch.mjs). */
export function netWatch(env: Record<string, string>): NetWatch {
  const dir = mkdtempSync(join(tmpdir(), 'ctb-net-watch-'));
  const log = join(dir, 'connections');
  const options = [env['NODE_OPTIONS'], `--import=${WATCH}`].filter(Boolean).join(' ');
  return {
    env: { ...env, NODE_OPTIONS: options, CTB_TEST_NET_LOG: log },
    seen: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []),
    offMachine() {
      const seen = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
      rmSync(dir, { recursive: true, force: true });
      return seen;
    },
  };
}

/** The error a spawn helper fails with when its child reached beyond this machine. */
export function offMachineError(what: string, hosts: string[]): Error {
  return new Error(`${what} connected beyond this machine (${[...new Set(hosts)].join(', ')}): a test's child must not reach Kraken, Slack or any other remote host — give it KRAKEN_API_URL/SLACK_API_URL on 127.0.0.1 (tests/support/local-only.ts)`);
}
