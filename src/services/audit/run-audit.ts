// Owns running the audit: every registered check in order, each bounded in time and unable to crash
// the run (a throwing check becomes a failed line), the summary, and the stored record.
import { performance } from 'node:perf_hooks';
import type { Actor } from '../../domain/actor.js';
import { insertAuditRun } from '../../db/queries/audit-runs.js';
import { AppError } from '../../errors.js';
import { unreachableReason } from '../../exchange/errors.js';
import { readOnlyExchange } from '../../exchange/read-only.js';
import type { Exchange } from '../../exchange/types.js';
import { configSecrets, makeScrubber } from '../../logger.js';
import { getBotState } from '../bot-state.js';
import { readEngineHolder } from '../engine-lease/holder-view.js';
import { engineMode } from '../../domain/engine-mode.js';
import { auditChecks } from './checks/index.js';
import {
  auditConfig, auditThresholds, configuredThresholds, loadGatePolicy, notHoldersRecordOutcome, recordedEngineLimits, unknownPolicyOutcome, type AuditThresholds, type RecordedEngineLimits,
} from './gate-policy.js';
import { notTheHoldersRecord } from './sources/lease-holder-record.js';
import {
  CHECKLIST_SECTIONS, type AuditCheck, type AuditContext, type AuditDeps, type AuditOptions, type AuditPurpose, type AuditReport, type AuditSummary, type CheckOutcome,
  type CheckResult,
} from './types.js';
import { UNREACHABLE_FIX } from './sources/kraken.js';
import { KrakenNotAskedError, KrakenReach } from './sources/kraken-reach.js';

export interface RunAuditParams {
  actor: Actor;
  dryRun: boolean;
  /** Where `.env` and the git checkout are (the CLI's working directory). */
  cwd: string;
  /** Run only these check ids (verify-credentials); such partial runs are not stored. */
  only?: string[];
  /** Defaults to every registered check (checks/index.ts). */
  checks?: AuditCheck[];
  /** `golive` for the live switch's gate; defaults to `check` (see AuditPurpose). */
  purpose?: AuditPurpose;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * `thresholds` defaults to this process's settings (a check run on its own); runAudit passes the gate
 * policy's, and the engine's recorded limits (`engineLimits`, else none: the checks judge this process's).
 */
export function auditContext(
  ctx: AuditDeps, params: Pick<RunAuditParams, 'actor' | 'cwd' | 'dryRun'>, thresholds?: AuditThresholds, engineLimits: RecordedEngineLimits | null = null,
): AuditContext {
  const memos = new Map<string, Promise<unknown>>();
  let kraken: Exchange | undefined;
  const reach = new KrakenReach();
  return {
    ...ctx,
    // The checks read the gate policy's audit settings (ROI_TOLERANCE_PCT, LOG_CHECK_WINDOW, …), not this shell's.
    config: thresholds ? auditConfig(ctx.config, thresholds.used) : ctx.config,
    actor: params.actor,
    cwd: params.cwd,
    engineLimits,
    thresholds: thresholds ?? auditThresholds({ thresholds: configuredThresholds(ctx.config), source: 'default', recordedBy: null, recordedAt: null }, ctx.config),
    kraken() {
      if (!ctx.exchanges.hasKrakenKeys()) return undefined;
      kraken ??= reach.exchange(params.dryRun ? readOnlyExchange(ctx.exchanges.kraken()) : ctx.exchanges.kraken());
      return kraken;
    },
    krakenReach: reach,
    memo<T>(key: string, compute: () => Promise<T>): Promise<T> {
      let found = memos.get(key) as Promise<T> | undefined;
      if (!found) {
        found = compute();
        memos.set(key, found);
      }
      return found;
    },
  };
}

async function runOne(check: AuditCheck, actx: AuditContext, opts: AuditOptions, scrub: (s: string) => string): Promise<CheckResult> {
  const started = performance.now();
  const timeoutMs = check.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  let outcome: CheckOutcome;
  try {
    outcome = await Promise.race([
      check.run(actx, opts),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new AppError('retryable', 'check_timeout', `timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    outcome = failedToRun(check, actx, err, scrub);
  } finally {
    clearTimeout(timer);
  }
  return {
    id: check.id,
    title: check.title,
    section: check.checklistSection,
    sectionTitle: CHECKLIST_SECTIONS[check.checklistSection],
    status: outcome.status,
    value: scrub(outcome.value),
    fix: outcome.status === 'pass' ? null : outcome.fix === null ? null : scrub(outcome.fix),
    ...(outcome.details ? { details: outcome.details } : {}),
    durationMs: Math.round(performance.now() - started),
  };
}

/**
 * A check that threw. Kraken not answering at all is expected (no network, DNS): the report says
 * so and the log keeps one line, without a stack; anything else is logged whole.
 */
function failedToRun(check: AuditCheck, actx: AuditContext, err: unknown, scrub: (s: string) => string): CheckOutcome {
  const unreachable = unreachableReason(err);
  if (unreachable !== null) {
    const notAsked = err instanceof KrakenNotAskedError;
    const first = notAsked ? err.first : (err as AppError);
    // A timeout is said in the operator's terms: how long it waited, and which setting says so.
    const why = first.code === 'timeout'
      ? `Kraken did not answer within ${actx.config.KRAKEN_REQUEST_TIMEOUT / 1000} s (KRAKEN_REQUEST_TIMEOUT)`
      : `could not reach Kraken: ${unreachable}`;
    if (!notAsked) actx.logger.info({ check: check.id, reason: scrub(unreachable) }, 'audit check could not reach Kraken');
    return { status: 'fail', value: notAsked ? `${why} (earlier in this audit: not asked again)` : why, fix: UNREACHABLE_FIX };
  }
  const message = err instanceof AppError ? err.message : (err as Error)?.message ?? String(err);
  actx.logger.warn({ err, check: check.id }, 'audit check could not run');
  return {
    status: 'fail',
    value: `check could not run: ${scrub(message)}`,
    fix: err instanceof AppError && err.hint ? scrub(err.hint) : 'See the log for the error, fix its cause and run the audit again.',
  };
}

export function summarize(results: CheckResult[]): AuditSummary {
  const count = (s: CheckResult['status']) => results.filter((r) => r.status === s).length;
  return { pass: count('pass'), warn: count('warn'), fail: count('fail'), total: results.length };
}

export function summaryLineOf(s: AuditSummary, opts: { dryRun: boolean; mode: string; partial: boolean }): string {
  const verdict = s.fail > 0 ? 'FAILED' : 'PASSED';
  const what = opts.partial ? 'CHECK' : 'AUDIT';
  // "unknown mode" would read as a mode: unknown is what is known of a stale armed engine (mode.state says whose).
  const mode = opts.mode === 'unknown' ? 'mode unknown' : `${opts.mode} mode`;
  return `${what} ${verdict} — ${s.pass} pass, ${s.warn} warn, ${s.fail} fail (${opts.dryRun ? 'dry run' : 'full run'}, ${mode})`;
}

/** Runs the audit (or the `only` checks), stores a whole run, and returns the report. */
export async function runAudit(ctx: AuditDeps, params: RunAuditParams): Promise<AuditReport> {
  const all = params.checks ?? auditChecks;
  const only = params.only ?? null;
  if (only) {
    const unknown = only.filter((id) => !all.some((c) => c.id === id));
    if (unknown.length > 0) throw new AppError('usage', 'unknown_check', `Unknown audit check: ${unknown.join(', ')}.`);
  }
  const selected = only ? all.filter((c) => only.includes(c.id)) : all;
  const policy = await loadGatePolicy(ctx.db);
  const thresholds = auditThresholds(policy, ctx.config);
  const actx = auditContext(ctx, params, thresholds, recordedEngineLimits(policy));
  const scrub = makeScrubber(configSecrets(ctx.config));
  const at = ctx.clock.now();
  // The mode the running engine trades in (its lease records its arming): the audit may run in a web
  // replica or a shell that trades nothing, whose own IS_LIVE is only `armed` below. Unknown when the
  // lease is stale and its holder was armed with the database saying live, as mode.state judges it.
  const [state, engine] = await Promise.all([getBotState(ctx.db), readEngineHolder(ctx)]);
  const mode = engineMode(state, engine);

  // One after another: several checks talk to Kraken, whose rate limit is per key.
  const results: CheckResult[] = [];
  const opts: AuditOptions = { dryRun: params.dryRun, purpose: params.purpose ?? 'check' };
  // The live switch judges only the record of the engine holding the lease now, not one a stopped engine left.
  const notHolders = opts.purpose === 'golive' && policy.recordedBy !== null ? await notTheHoldersRecord(ctx, policy.recordedBy, 'go-live policy') : null;
  for (const check of selected) {
    // A check judging what the stored policy lacks fails rather than judge defaults or this shell's values.
    const unknown = unknownPolicyOutcome(check.id, policy) ?? notHoldersRecordOutcome(check.id, policy, notHolders);
    results.push(await runOne(unknown ? { ...check, run: async () => unknown } : check, actx, opts, scrub));
  }

  const summary = summarize(results);
  const ok = summary.fail === 0;
  const summaryLine = summaryLineOf(summary, { dryRun: params.dryRun, mode, partial: only !== null });
  const runId = only
    ? 0
    : await insertAuditRun(ctx.db, { at, actor: params.actor.id, mode, dryRun: params.dryRun, passed: ok, summary: summaryLine, results, thresholds: thresholds.used });
  return {
    kind: 'audit',
    schemaVersion: 3,
    ok,
    runId,
    at: at.toISOString(),
    actor: params.actor.id,
    mode,
    armed: ctx.exchanges.armed,
    dryRun: params.dryRun,
    only,
    summary,
    summaryLine,
    thresholds,
    results,
  };
}
