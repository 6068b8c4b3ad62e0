// Owns the process configuration: one zod schema over the environment (plus .env), parsed once
// at start by readEnv(env). Nothing else in the project reads process.env.
import { createRequire } from 'node:module';
import { z } from 'zod';
import { similarWords } from '../suggest-similar.js';
import { parseDuration } from './duration.js';
import { Secret } from './secret.js';

const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];
const didYouMean = (got: string, candidates: readonly string[]) => {
  const near = similarWords(got, candidates);
  return near.length ? ` (did you mean ${near.join(' or ')}?)` : '';
};

const bool = (fallback: boolean) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      if (TRUE_WORDS.includes(v)) return true;
      if (FALSE_WORDS.includes(v)) return false;
      ctx.addIssue({
        code: 'custom',
        message: `expected ${TRUE_WORDS.join(', ')} (for true) or ${FALSE_WORDS.join(', ')} (for false), got "${v}"${didYouMean(v, [...TRUE_WORDS, ...FALSE_WORDS])}`,
      });
      return z.NEVER;
    });

const duration = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const text = v === undefined || v.trim() === '' ? fallback : v;
      const ms = parseDuration(text);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `expected a duration such as 30s, 5m, 2h or 1d, got "${text}"` });
        return z.NEVER;
      }
      return ms;
    });

const number = (fallback: number, opts: { min?: number; max?: number; int?: boolean; why?: string } = {}) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallback;
      const n = Number(v);
      const problems: string[] = [];
      if (!Number.isFinite(n)) problems.push(opts.int ? 'a whole number' : 'a number');
      else if (opts.int && !Number.isInteger(n)) problems.push('a whole number');
      if (opts.min !== undefined && n < opts.min) problems.push(`at least ${opts.min}`);
      if (opts.max !== undefined && n > opts.max) problems.push(`at most ${opts.max}`);
      if (problems.length > 0) {
        ctx.addIssue({ code: 'custom', message: `expected ${problems.join(', ')}${opts.why ? ` (${opts.why})` : ''}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const secret = optionalText.transform((v) => (v === undefined ? undefined : new Secret(v)));

const url = (fallback: string | undefined) =>
  optionalText.transform((v, ctx) => {
    const text = v ?? fallback;
    if (text === undefined) return undefined;
    try {
      return new URL(text).toString();
    } catch {
      ctx.addIssue({ code: 'custom', message: `expected a URL such as https://host/path, got "${text}"` });
      return z.NEVER;
    }
  });

// The mail server for alert email: smtp:// or smtps://, checked with every other field at start (a
// bad one found only when the first email is built would be found after the database is open). Its
// value is never echoed: it may hold the mail account's password.
const SMTP_EXPECTED = 'expected smtp://user:pass@host:587 or smtps://user:pass@host:465';
const smtpUrl = optionalText.transform((v, ctx) => {
  if (v === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: `${SMTP_EXPECTED}, got a value that is not a URL (not shown: it may hold a password)` });
    return z.NEVER;
  }
  if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:') {
    ctx.addIssue({ code: 'custom', message: `${SMTP_EXPECTED}, got a URL of another scheme (not shown: it may hold a password)` });
    return z.NEVER;
  }
  if (u.hostname === '') {
    ctx.addIssue({ code: 'custom', message: `${SMTP_EXPECTED}, got a URL without a host (not shown: it may hold a password)` });
    return z.NEVER;
  }
  return new Secret(v);
});

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** A WebSocket URL: wss://, or ws:// on this machine only (the token must not cross a network in clear). */
function wsUrlProblem(text: string): string | undefined {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return `expected a WebSocket URL such as wss://ws-auth.kraken.com/v2, got "${text}"`;
  }
  if (u.protocol === 'wss:') return undefined;
  if (u.protocol === 'ws:' && LOOPBACK_HOSTS.has(u.hostname)) return undefined;
  if (u.protocol === 'ws:') return `expected wss:// (ws:// only on 127.0.0.1 or localhost: the token must not travel unencrypted), got "${text}"`;
  return `expected a wss:// URL such as wss://ws-auth.kraken.com/v2, got "${text}"`;
}

const wsUrl = optionalText.transform((v, ctx) => {
  if (v === undefined) return undefined;
  const problem = wsUrlProblem(v);
  if (problem) {
    ctx.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  }
  return new URL(v).toString();
});

export const KRAKEN_WS_AUTH_URL = 'wss://ws-auth.kraken.com/v2';

/**
 * The executions channel's URL: KRAKEN_WS_URL when set; Kraken's own beside Kraken's REST API; and
 * beside any other KRAKEN_API_URL (the simulator, a staging fake) the same host on /v2, so a rehearsal
 * never opens a socket to the real Kraken while its REST calls go elsewhere.
 */
function krakenWsUrl(cfg: { KRAKEN_WS_URL: string | undefined; KRAKEN_API_URL: string | undefined }): string | { problem: string } {
  if (cfg.KRAKEN_WS_URL) return cfg.KRAKEN_WS_URL;
  const api = new URL(cfg.KRAKEN_API_URL ?? 'https://api.kraken.com');
  if (api.hostname === 'api.kraken.com') return KRAKEN_WS_AUTH_URL;
  const derived = `${api.protocol === 'https:' ? 'wss:' : 'ws:'}//${api.host}/v2`;
  const problem = wsUrlProblem(derived);
  return problem ? { problem: `unset, and the URL derived from KRAKEN_API_URL (${derived}) is not allowed: ${problem}; set KRAKEN_WS_URL, or KRAKEN_WS_EXECUTIONS=off` } : derived;
}

/**
 * Comma-separated Slack user ids. `oncePerPerson`: an id listed twice is refused (approvers: two
 * entries are read as two people, and the same id twice made the go-live audit count one approver as
 * two while no request could ever get its approvals); otherwise it is kept once (operators: a repeat
 * changes nothing of who may do what, and refusing it would stop a deployment from restarting).
 */
const userList = (oncePerPerson: boolean) => optionalText.transform((v, ctx) => {
  if (v === undefined) return [] as string[];
  const ids = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = ids.filter((id) => !/^[UW][A-Z0-9]{2,}$/.test(id));
  if (bad.length > 0) {
    ctx.addIssue({ code: 'custom', message: `expected comma-separated Slack user ids such as U012ABCDEF, got "${bad.join(', ')}"` });
    return z.NEVER;
  }
  const repeated = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
  if (oncePerPerson && repeated.length > 0) {
    ctx.addIssue({ code: 'custom', message: `lists ${repeated.join(', ')} more than once: expected each Slack user id once (each entry is one person)` });
    return z.NEVER;
  }
  return [...new Set(ids)];
});

const channel = optionalText.refine((v) => v === undefined || /^[CGD][A-Z0-9]{2,}$/.test(v), {
  message: 'expected a Slack channel id such as C012ABCDEF (not a #name)',
});

const pairs = optionalText.transform((v, ctx) => {
  const list = (v ?? 'BTC/USD').split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  const bad = list.filter((p) => !/^[A-Z0-9]{2,10}\/[A-Z0-9]{2,10}$/.test(p));
  if (bad.length > 0) {
    ctx.addIssue({ code: 'custom', message: `expected pairs such as BTC/USD,ETH/USD, got "${bad.join(', ')}"` });
    return z.NEVER;
  }
  return list;
});

export interface BackupRetention {
  /** Keep at most this many snapshots (newest first). */
  count: number | undefined;
  /** Prune snapshots older than this many milliseconds. */
  maxAgeMs: number | undefined;
}

function parseRetention(text: string): BackupRetention | string {
  const expected = `expected a count, an age or both, such as 20, 30d or 20,30d, got "${text}"`;
  const out: BackupRetention = { count: undefined, maxAgeMs: undefined };
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (/^\d+$/.test(part)) {
      if (out.count !== undefined || Number(part) < 1) return expected;
      out.count = Number(part);
    } else {
      const ms = parseDuration(part);
      if (ms === undefined || out.maxAgeMs !== undefined) return expected;
      out.maxAgeMs = ms;
    }
  }
  if (out.count === undefined && out.maxAgeMs === undefined) return expected;
  return out;
}

export interface OpenOrderLimits {
  perPair: number;
  total: number;
}

/** "3" (per pair and in all) or "3,10" (per pair, in all). */
function parseOpenOrders(text: string): OpenOrderLimits | string {
  const expected = `expected a count per pair and optionally in all, such as 3 or 3,10, got "${text}"`;
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length > 2 || parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 10_000)) return expected;
  const perPair = Number(parts[0]);
  const total = Number(parts[1] ?? parts[0]);
  if (total < perPair) return `expected the count in all (${total}) to be at least the count per pair (${perPair}), got "${text}"`;
  return { perPair, total };
}

// Checked only when set: the first Intl time zone costs ~70 ms of every command's start (ICU's
// zone data), and UTC needs no check. node-cron is required for the same reason only when a
// schedule is set; the defaults are constants (tests/unit/stats-config.test.ts checks they parse).
const timeZone = optionalText.transform((v, ctx) => {
  const zone = v ?? 'UTC';
  if (zone === 'UTC') return zone;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone;
  } catch {
    ctx.addIssue({ code: 'custom', message: `expected an IANA time zone such as UTC or Europe/Paris, got "${zone}"` });
    return z.NEVER;
  }
});

const isCronExpression = (expr: string): boolean =>
  (createRequire(import.meta.url)('node-cron') as typeof import('node-cron')).validate(expr);

const cronExpression = (fallback: string) =>
  optionalText.transform((v, ctx) => {
    if (v === undefined) return fallback;
    const expr = v;
    if (!isCronExpression(expr)) {
      ctx.addIssue({ code: 'custom', message: `expected a cron expression such as "${fallback}" (minute hour day month weekday), got "${expr}"` });
      return z.NEVER;
    }
    return expr;
  });

/** The go-live thresholds' built-in defaults: the gate holds audits to them until an engine records its own. */
export const GOLIVE_DEFAULTS = {
  GOLIVE_MIN_PAPER_TRADES: 50, GOLIVE_MIN_ROI_PCT: 0, GOLIVE_ALERT_WINDOW: '7d',
  // The other settings that decide what counts as a passing audit: held to the same gate policy.
  ROI_TOLERANCE_PCT: 0.5, LOG_CHECK_WINDOW: '24h', PAPER_STARTING_BALANCE: 10_000,
  RISK_APPETITE_MAX_DRAWDOWN_PCT: 20, RISK_MAX_DRAWDOWN_PCT: 10, RISK_DAILY_LOSS_PCT: 3, RISK_HARD_DRAWDOWN_PCT: 15,
} as const;

/** The settings an audit judges by that the gate policy holds (src/services/audit/gate-policy.ts). */
export const GATE_POLICY_ENV = [
  'GOLIVE_MIN_PAPER_TRADES', 'GOLIVE_MIN_ROI_PCT', 'GOLIVE_ALERT_WINDOW', 'ROI_TOLERANCE_PCT', 'LOG_CHECK_WINDOW', 'PAPER_STARTING_BALANCE', 'RECONCILE_LEGACY_CUTOFF',
  'RISK_APPETITE_MAX_DRAWDOWN_PCT', 'RISK_MAX_DRAWDOWN_PCT', 'RISK_DAILY_LOSS_PCT', 'RISK_HARD_DRAWDOWN_PCT',
] as const;
export type GatePolicyEnv = (typeof GATE_POLICY_ENV)[number];

export const envSchema = z.object({
  IS_LIVE: bool(false),
  KRAKEN_API_KEY: secret,
  KRAKEN_API_SECRET: secret,
  KRAKEN_API_URL: url('https://api.kraken.com'),
  KRAKEN_RATE_LIMIT: bool(true),
  KRAKEN_RATE_TIER: z.enum(['starter', 'intermediate', 'pro']).optional().default('starter'),
  // How long one REST call to Kraken is waited for before its outcome is taken as unknown (an order
  // then is resolved with the exchange, never resent blind).
  KRAKEN_REQUEST_TIMEOUT: duration('10s'),
  // Live fills from Kraken's WebSocket v2 executions channel (on by default; REST polling stays as the
  // safety net and takes over while the socket is down), and that channel's URL (see krakenWsUrl).
  KRAKEN_WS_EXECUTIONS: bool(true),
  KRAKEN_WS_URL: wsUrl,
  DATABASE_URL: optionalText.refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), {
    message: 'expected a postgres:// or postgresql:// URL, or unset for the embedded database',
  }),
  MARKET_FEED: z.enum(['kraken', 'replay']).optional().default('kraken'),
  REPLAY_FILE: optionalText,
  REPLAY_INTERVAL: duration('200ms'),
  TRADING_PAIRS: pairs,
  STRATEGIES_FILE: optionalText,
  QUOTE_CURRENCY: optionalText.transform((v) => (v ?? 'USD').toUpperCase()),
  PAPER_STARTING_BALANCE: number(GOLIVE_DEFAULTS.PAPER_STARTING_BALANCE, { min: 1 }),
  CAPITAL_RESERVE_PCT: number(20, { min: 0, max: 100 }),
  // Paper exchange: fees in percent of notional (0.26/0.16 is Kraken's older lowest-volume schedule;
  // the simulator charges today's lowest tier, 0.40/0.25) and a slippage model in basis points:
  // PAPER_SLIPPAGE_BPS always, plus PAPER_IMPACT_BPS × sqrt(order size / candle volume).
  PAPER_TAKER_FEE_PCT: number(0.26, { min: 0, max: 5 }),
  PAPER_MAKER_FEE_PCT: number(0.16, { min: 0, max: 5 }),
  PAPER_SLIPPAGE_BPS: number(2, { min: 0, max: 1000 }),
  PAPER_IMPACT_BPS: number(50, { min: 0, max: 10_000 }),
  // Engine: how often equity is snapshotted (market time), how often the Kraken feed polls.
  EQUITY_SNAPSHOT_INTERVAL: duration('15m'),
  MARKET_POLL_INTERVAL: duration('15s'),
  RISK_MAX_DRAWDOWN_PCT: number(GOLIVE_DEFAULTS.RISK_MAX_DRAWDOWN_PCT, { min: 0.1, max: 100 }),
  RISK_DAILY_LOSS_PCT: number(GOLIVE_DEFAULTS.RISK_DAILY_LOSS_PCT, { min: 0.1, max: 100 }),
  RISK_APPETITE_MAX_DRAWDOWN_PCT: number(GOLIVE_DEFAULTS.RISK_APPETITE_MAX_DRAWDOWN_PCT, { min: 0.1, max: 100 }),
  RISK_HARD_DRAWDOWN_PCT: number(GOLIVE_DEFAULTS.RISK_HARD_DRAWDOWN_PCT, { min: 0.1, max: 100 }),
  // The pre-trade gate (src/engine/pre-trade-gate.ts), before every order intent, paper and live.
  RISK_MAX_ORDER_NOTIONAL: number(2500, { min: 1 }),
  RISK_PRICE_BAND_PCT: number(2, { min: 0.01, max: 50 }),
  RISK_MAX_OPEN_ORDERS: optionalText.transform((v, ctx) => {
    const parsed = parseOpenOrders(v ?? '3,10');
    if (typeof parsed === 'string') {
      ctx.addIssue({ code: 'custom', message: parsed });
      return z.NEVER;
    }
    return parsed;
  }),
  RISK_MAX_ORDERS_PER_MINUTE: number(20, { min: 1, max: 1000, int: true }),
  RISK_SELF_TRADE_PREVENTION: z.enum(['cancel-newest', 'cancel-oldest', 'cancel-both']).optional().default('cancel-newest'),
  SLACK_BOT_TOKEN: secret,
  SLACK_SIGNING_SECRET: secret,
  SLACK_APP_TOKEN: secret,
  SLACK_API_URL: url(undefined),
  // How long one Slack Web API call is waited for; then it has failed (it may have reached Slack).
  SLACK_API_TIMEOUT: duration('10s'),
  // The pause before a Slack Web API call that failed (a 5xx, a refused connection) is sent again; the
  // second retry, the last, waits twice as long (src/slack/web-client.ts).
  SLACK_RETRY_PAUSE: duration('200ms'),
  SLACK_OPS_CHANNEL: channel,
  SLACK_ALERTS_CHANNEL: channel,
  SLACK_OPERATORS: userList(false),
  SLACK_APPROVERS: userList(true),
  APPROVAL_EMOJI: optionalText.transform((v) => (v ?? 'white_check_mark').replace(/^:|:$/g, '')),
  REJECTION_EMOJI: optionalText.transform((v) => (v ?? 'x').replace(/^:|:$/g, '')),
  MODE_CHANGE_TTL: duration('30m'),
  // How long a closed request's outcome may stay undelivered in its Slack thread before it is raised as
  // an alert (once per announcement, resolved when delivered): services/mode/announce-pending.ts.
  MODE_ANNOUNCE_ALERT_AFTER: duration('15m'),
  ESCALATION_ACK_SLA: duration('5m'),
  ESCALATION_MAX_ROUNDS: number(3, { min: 1, max: 20, int: true }),
  // Never 0: the gate would then pass with no paper trade at all (a rehearsal may lower it, to 1 at least).
  GOLIVE_MIN_PAPER_TRADES: number(GOLIVE_DEFAULTS.GOLIVE_MIN_PAPER_TRADES, {
    min: 1, int: true, why: 'closed paper trades before go-live; a rehearsal may lower it, never to 0',
  }),
  GOLIVE_MIN_ROI_PCT: number(GOLIVE_DEFAULTS.GOLIVE_MIN_ROI_PCT, { min: -100 }),
  GOLIVE_ALERT_WINDOW: duration(GOLIVE_DEFAULTS.GOLIVE_ALERT_WINDOW),
  // The go-live audit warns when the last `ctb alerts test` is older than this (test the channel periodically).
  ALERT_TEST_MAX_AGE: duration('7d'),
  ROI_TOLERANCE_PCT: number(GOLIVE_DEFAULTS.ROI_TOLERANCE_PCT, { min: 0, max: 100 }),
  RECONCILE_LEGACY_CUTOFF: optionalText.refine((v) => v === undefined || !Number.isNaN(Date.parse(v)), {
    message: 'expected an ISO date such as 2026-01-31',
  }),
  SMTP_URL: smtpUrl,
  ALERT_EMAIL_TO: optionalText,
  ALERT_EMAIL_FROM: optionalText,
  SCHEDULE_TZ: timeZone,
  DAILY_SUMMARY_CRON: cronExpression('0 8 * * *'),
  WEEKLY_SUMMARY_CRON: cronExpression('0 8 * * 1'),
  PORT: number(3000, { min: 0, max: 65_535, int: true }),
  HOST: optionalText.transform((v) => v ?? '0.0.0.0'),
  DATA_DIR: optionalText.transform((v) => v ?? './data'),
  // How long a client of the bot's embedded database (a ctb command on its socket) may hold it, inside a
  // transaction or a protocol cycle, without sending anything before it is cut off (its transaction
  // rolled back, the session handed on): the bot's own writes wait meanwhile (src/db/pglite-serve.ts).
  PGLITE_IDLE_IN_TRANSACTION: duration('5s'),
  // A part of `ctb start` still starting this long after its start has the database checked (one
  // short read); no answer within START_DB_CHECK_TIMEOUT is an outage: said, shown on /healthz, and
  // waited for (src/app/wait-for-database.ts). A stalled database is told at most their sum after it stalled.
  START_DB_CHECK_AFTER: duration('10s'),
  START_DB_CHECK_TIMEOUT: duration('5s'),
  LOG_DIR: optionalText.transform((v) => v ?? './logs'),
  BACKUP_DIR: optionalText.transform((v) => v ?? './backups'),
  // How many snapshots to keep and/or for how long: "20", "30d" or "20,30d" (both limits apply).
  BACKUP_RETENTION: optionalText.transform((v, ctx) => {
    const parsed = parseRetention(v ?? '20');
    if (typeof parsed === 'string') {
      ctx.addIssue({ code: 'custom', message: parsed });
      return z.NEVER;
    }
    return parsed;
  }),
  // The go-live audit warns when the newest snapshot is older than this.
  BACKUP_RECENT_WITHIN: duration('24h'),
  REPORTS_DIR: optionalText.transform((v) => v ?? './reports'),
  // How far back the go-live log check looks for unhandled errors in LOG_DIR.
  LOG_CHECK_WINDOW: duration(GOLIVE_DEFAULTS.LOG_CHECK_WINDOW),
  // The commit this build was made from, for `ctb version` outside a git checkout (set by the deploy).
  BUILD_COMMIT: optionalText.refine((v) => v === undefined || /^[0-9a-f]{7,40}$/i.test(v), {
    message: 'expected a git commit hash (7 to 40 hex characters)',
  }),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).optional().default('info'),
  // Standard output's log format: auto = readable lines on a terminal, JSON otherwise (files are always JSON).
  // A command's stderr is readable lines unless json.
  LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).optional().default('auto'),
  LOG_MAX_BYTES: number(10 * 1024 * 1024, { min: 1024, max: 10 * 1024 * 1024, int: true }),
  LOG_ARCHIVES: number(20, { min: 1, max: 1000, int: true }),
  // Kill switch, dead man's switch, watchdog (issue 6).
  AUTO_KILL: z.enum(['on', 'off', 'live']).optional().default('live'),
  KILL_CONFIRM_ATTEMPTS: number(3, { min: 1, max: 10, int: true }),
  // How long a kill keeps at it on a slow or faulty Kraken (cancel, re-query, wait for orders already
  // on their way) before it answers unconfirmed: past KILL_CONFIRM_ATTEMPTS rounds, until this much
  // time has passed. A healthy Kraken confirms in the first round. No Kraken call of a kill runs
  // past KILL_CONFIRM_WAIT plus one call's deadline (KILL_CALL_TIMEOUT, services/kill/cancel-everywhere.ts).
  KILL_CONFIRM_WAIT: duration('20s'),
  // One Kraken call's deadline in a kill (its cancel, its confirming look): given up past this, and
  // the "one call's deadline" of the kill's answer bound above (services/kill/deadline.ts).
  KILL_CALL_TIMEOUT: duration('10s'),
  KILL_DB_TIMEOUT: duration('3s'),
  // How long GET /healthz waits for the database before answering with what it could not read.
  HEALTHZ_DB_TIMEOUT: duration('1s'),
  // How long an incident checklist item handed to the engine's process (flatten, reconcile without
  // the key) is waited for before it is shown pending; its answer lands on the item either way.
  INCIDENT_HANDOVER_WAIT: duration('15s'),
  KILL_HANDOFF_TIMEOUT: duration('10s'),
  KILL_HTTP_TOKEN: secret,
  HALT_POLL_INTERVAL: duration('500ms'),
  DEAD_MAN_TIMEOUT: duration('60s'),
  DEAD_MAN_INTERVAL: duration('20s'),
  WATCHDOG_INTERVAL: duration('15s'),
  ENGINE_STALE_AFTER: duration('60s'),
  // What the process running the engine does when its heartbeat is stale: exit so the process
  // manager restarts it (pending orders are resolved at start), or only alert. auto: exit for
  // `--role worker` (the Procfile's worker is restarted by its manager), alert otherwise.
  ENGINE_STALE_ACTION: z.enum(['auto', 'exit', 'alert']).optional().default('auto'),
  // One engine per database: the engine's process renews its lease (engine_lease) every third of this;
  // a lease not renewed for this long is stale, and a standby worker takes over (halted until start
  // reconciliation passes when it is armed for live).
  ENGINE_LEASE_TTL: duration('15s'),
  // While live, how often the engine's process checks that Kraken answers; after an outage, no strategy
  // runs until reconciliation against Kraken passes again.
  RECONCILE_PROBE_INTERVAL: duration('30s'),
  // How long `ctb reconcile adopt|cancel` in a shell without the Kraken key waits for the engine's process.
  RECONCILE_ANSWER_TIMEOUT: duration('30s'),
  // A confirmed exit (ctb exit, /exit) no engine carried out within this is never carried out: selling
  // at whatever the price is hours later is not what the operator confirmed.
  EXIT_REQUEST_TTL: duration('10m'),
});

export type RawEnv = z.infer<typeof envSchema>;

export interface Config extends RawEnv {
  /**
   * KRAKEN_WS_URL, or the URL derived from KRAKEN_API_URL (krakenWsUrl); undefined when the derived
   * one is not allowed, and then `krakenWsProblem` says why (live fills are then followed by REST only).
   */
  KRAKEN_WS_URL: string | undefined;
  krakenWsProblem?: string;
  databaseKind: 'pglite' | 'postgres';
  slackEnabled: boolean;
  /** Whether a hard risk breach or an overdue critical alert fires the kill (AUTO_KILL; on while live by default). */
  autoKill: boolean;
  /** Which escalation variables the environment set (the others are the built-in defaults): `ctb oncall show` names the source. */
  escalationEnv: { ESCALATION_ACK_SLA: boolean; ESCALATION_MAX_ROUNDS: boolean };
  /**
   * The variables the PostgreSQL driver itself reads from the process environment for what
   * DATABASE_URL leaves out (its host, port, database, user): naming the database a kill is aimed at
   * (services/kill/kill-target.ts) resolves them as the driver does. Never in .env (the driver does
   * not read that file: load.ts leaves them out of it). Optional: configurations built by hand have none.
   */
  postgresEnv?: PostgresEnv;
  /** Which gate-policy settings the environment set: the audit says which of them the gate policy overrides. */
  goliveEnv: Record<GatePolicyEnv, boolean>;
}

const EMAIL = /^[^\s@,<>]+@[^\s@,<>]+\.[^\s@,<>.]+$/;

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** The PostgreSQL driver's own environment variables for what a connection URL leaves out (postgres.js 3.4: parseOptions). */
export const POSTGRES_ENV = ['PGHOST', 'PGPORT', 'PGDATABASE', 'PGUSER', 'PGUSERNAME'] as const;
export type PostgresEnv = Partial<Record<(typeof POSTGRES_ENV)[number], string>>;

/** `vars` without the driver's own variables: what .env sets of them never reaches the driver. */
export function withoutPostgresEnv<T extends Record<string, string | undefined>>(vars: T): T {
  return Object.fromEntries(Object.entries(vars).filter(([name]) => !(POSTGRES_ENV as readonly string[]).includes(name))) as T;
}

/** Parses the environment once. Throws ConfigError naming every bad field and what is expected. */
export function readEnv(env: Record<string, string | undefined>): Config {
  // jitless: zod compiles a fast path for an object schema on its first parse, which pays off only
  // for a schema parsed many times; this one is parsed once per process (~60 ms saved per command).
  const parsed = envSchema.safeParse(env, { jitless: true });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.') || '(environment)';
      const message =
        issue.code === 'invalid_value' && 'values' in issue
          ? `expected one of ${(issue.values as unknown[]).join(', ')}, got "${String(env[name])}"${didYouMean(String(env[name]), (issue.values as unknown[]).map(String))}`
          : issue.message;
      return `${name}: ${message}`;
    });
    throw new ConfigError(problems);
  }
  const cfg = parsed.data;
  const problems: string[] = [];
  if (cfg.IS_LIVE) {
    if (!cfg.KRAKEN_API_KEY) problems.push('KRAKEN_API_KEY: required when IS_LIVE=true (a Kraken API key with Trade rights only)');
    if (!cfg.KRAKEN_API_SECRET) problems.push('KRAKEN_API_SECRET: required when IS_LIVE=true (the private key of that API key)');
  } else if (!cfg.KRAKEN_API_KEY !== !cfg.KRAKEN_API_SECRET) {
    // One of the pair alone is no key at all: the bot would run paper only and say "no Kraken keys".
    problems.push(cfg.KRAKEN_API_KEY
      ? 'KRAKEN_API_SECRET: required when KRAKEN_API_KEY is set (the private key of that API key); set both, or neither for paper only'
      : 'KRAKEN_API_KEY: required when KRAKEN_API_SECRET is set (the API key the secret belongs to); set both, or neither for paper only');
  }
  if (cfg.SLACK_BOT_TOKEN && !cfg.SLACK_SIGNING_SECRET && !cfg.SLACK_APP_TOKEN) {
    problems.push('SLACK_SIGNING_SECRET: required with SLACK_BOT_TOKEN unless SLACK_APP_TOKEN selects Socket Mode');
  }
  if (!cfg.SLACK_BOT_TOKEN && (cfg.SLACK_SIGNING_SECRET || cfg.SLACK_APP_TOKEN)) {
    problems.push('SLACK_BOT_TOKEN: required when SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is set (xoxb-…)');
  }
  if (cfg.RISK_MAX_DRAWDOWN_PCT > cfg.RISK_HARD_DRAWDOWN_PCT) {
    problems.push(`RISK_HARD_DRAWDOWN_PCT: expected at least RISK_MAX_DRAWDOWN_PCT (${cfg.RISK_MAX_DRAWDOWN_PCT}), got ${cfg.RISK_HARD_DRAWDOWN_PCT}`);
  }
  if (cfg.DEAD_MAN_INTERVAL * 2 > cfg.DEAD_MAN_TIMEOUT) {
    problems.push(`DEAD_MAN_INTERVAL: expected at most half of DEAD_MAN_TIMEOUT (${cfg.DEAD_MAN_TIMEOUT / 1000}s) so one missed renewal does not cancel every order, got ${cfg.DEAD_MAN_INTERVAL / 1000}s`);
  }
  if (cfg.DEAD_MAN_TIMEOUT < 5_000 || cfg.DEAD_MAN_TIMEOUT > 86_400_000) {
    problems.push(`DEAD_MAN_TIMEOUT: expected between 5s and 1d (Kraken's CancelAllOrdersAfter range), got ${cfg.DEAD_MAN_TIMEOUT / 1000}s`);
  }
  if (cfg.KRAKEN_REQUEST_TIMEOUT < 1_000 || cfg.KRAKEN_REQUEST_TIMEOUT > 120_000) {
    problems.push(`KRAKEN_REQUEST_TIMEOUT: expected between 1s and 2m, got ${cfg.KRAKEN_REQUEST_TIMEOUT / 1000}s`);
  }
  if (cfg.SLACK_API_TIMEOUT < 1_000 || cfg.SLACK_API_TIMEOUT > 120_000) {
    problems.push(`SLACK_API_TIMEOUT: expected between 1s and 2m, got ${cfg.SLACK_API_TIMEOUT / 1000}s`);
  }
  if (cfg.KILL_CALL_TIMEOUT < 1_000 || cfg.KILL_CALL_TIMEOUT > 120_000) {
    problems.push(`KILL_CALL_TIMEOUT: expected between 1s and 2m, got ${cfg.KILL_CALL_TIMEOUT / 1000}s`);
  }
  for (const name of ['START_DB_CHECK_AFTER', 'START_DB_CHECK_TIMEOUT'] as const) {
    if (cfg[name] < 100 || cfg[name] > 600_000) problems.push(`${name}: expected between 100ms and 10m, got ${cfg[name] / 1000}s`);
  }
  // Compared with the database's clock as an interval: a value PostgreSQL cannot take would make every sweep throw.
  if (cfg.MODE_ANNOUNCE_ALERT_AFTER < 1_000 || cfg.MODE_ANNOUNCE_ALERT_AFTER > 30 * 86_400_000) {
    problems.push(`MODE_ANNOUNCE_ALERT_AFTER: expected between 1s and 30d, got ${cfg.MODE_ANNOUNCE_ALERT_AFTER / 1000}s`);
  }
  if (cfg.PGLITE_IDLE_IN_TRANSACTION < 1_000 || cfg.PGLITE_IDLE_IN_TRANSACTION > 600_000) {
    problems.push(`PGLITE_IDLE_IN_TRANSACTION: expected between 1s and 10m, got ${cfg.PGLITE_IDLE_IN_TRANSACTION / 1000}s`);
  }
  if (cfg.SLACK_RETRY_PAUSE > 10_000) {
    problems.push(`SLACK_RETRY_PAUSE: expected at most 10s (a call is tried three times in all), got ${cfg.SLACK_RETRY_PAUSE / 1000}s`);
  }
  if (cfg.ENGINE_LEASE_TTL < 1_000 || cfg.ENGINE_LEASE_TTL > 600_000) {
    problems.push(`ENGINE_LEASE_TTL: expected between 1s and 10m, got ${cfg.ENGINE_LEASE_TTL}ms`);
  }
  if (cfg.KILL_HTTP_TOKEN && cfg.KILL_HTTP_TOKEN.reveal().length < 24) {
    problems.push('KILL_HTTP_TOKEN: expected at least 24 characters (a random token), or unset to disable POST /kill');
  }
  const badEmails = (cfg.ALERT_EMAIL_TO ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '' && !EMAIL.test(s));
  if (badEmails.length > 0) {
    problems.push(`ALERT_EMAIL_TO: expected comma-separated email addresses such as ops@example.com,oncall@example.com, got ${badEmails.map((e) => `"${e}"`).join(', ')}`);
  }
  const ws = krakenWsUrl(cfg);
  if (problems.length > 0) throw new ConfigError(problems);
  const isSet = (name: string) => (env[name] ?? '').trim() !== '';
  return {
    ...cfg,
    KRAKEN_WS_URL: typeof ws === 'string' ? ws : undefined,
    ...(typeof ws === 'string' ? {} : { krakenWsProblem: `KRAKEN_WS_URL: ${ws.problem}` }),
    databaseKind: cfg.DATABASE_URL ? 'postgres' : 'pglite',
    slackEnabled: cfg.SLACK_BOT_TOKEN !== undefined,
    autoKill: cfg.AUTO_KILL === 'on' || (cfg.AUTO_KILL === 'live' && cfg.IS_LIVE),
    escalationEnv: { ESCALATION_ACK_SLA: isSet('ESCALATION_ACK_SLA'), ESCALATION_MAX_ROUNDS: isSet('ESCALATION_MAX_ROUNDS') },
    // As the driver takes them: any non-empty value, untrimmed.
    postgresEnv: Object.fromEntries(POSTGRES_ENV.filter((name) => (env[name] ?? '') !== '').map((name) => [name, env[name]!])) as PostgresEnv,
    goliveEnv: Object.fromEntries(GATE_POLICY_ENV.map((name) => [name, isSet(name)])) as Record<GatePolicyEnv, boolean>,
  };
}

/**
 * Test and bench helper: a valid config with overrides, never touching process.env. The executions
 * WebSocket is off unless a test turns it on (KRAKEN_WS_EXECUTIONS: 'on'): in-process tests of the
 * REST path keep to it; the tests of the stream, and every `ctb start` child, run it as it ships.
 */
export function testConfig(overrides: Record<string, string | undefined> = {}): Config {
  return readEnv({ LOG_LEVEL: 'warn', KRAKEN_WS_EXECUTIONS: 'off', ...overrides });
}
