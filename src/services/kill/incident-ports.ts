// Owns the incident's capabilities as ports every process has from the moment its context is
// built: close positions (flatten) and reconcile the ledger. Each port either does the work here or
// hands it to the process that can, through a stored engine request, and answers done, failed or
// pending — never "done" for work nobody did:
// - flatten sells through the engine's order path, so it is always an engine request (in the bot's
//   own process too: one path, one order lock), carried out by the process that runs the engine;
// - reconcile reads Kraken's trade history read-only: a process with the Kraken key runs it here,
//   one without hands it over.
// The requester waits a little for the answer; past that the checklist item shows pending and is
// finished by the engine's process when the request is (engine-requests/handlers.ts, runner's
// onFinished → finishChecklistRequest).
import type { ReconciliationStanding } from '../../domain/reconciliation-standing.js';
import { readReconciliationStanding } from '../reconcile/start/state.js';
import type { Actor } from '../../domain/actor.js';
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import type { ExchangeProvider } from '../../exchange/provider.js';
import type { ChecklistItemKey, EngineRequest, EngineRequestKind } from '../../db/schema/index.js';
import { readOnlyExchange } from '../../exchange/read-only.js';
import { enqueueEngineRequest, waitForEngineRequest } from '../engine-requests/store.js';
import { describeError } from './deadline.js';

export interface CapabilityRequest {
  actor: Actor;
  incidentId?: number | undefined;
  checklistItem?: ChecklistItemKey | undefined;
  /** How long to wait for a handed-over request before answering pending (default INCIDENT_HANDOVER_WAIT). */
  waitMs?: number | undefined;
  /** Told as soon as the work is stored as a request, before waiting (the checklist shows it pending). */
  onHandedOver?: ((requestId: number) => Promise<unknown>) | undefined;
}

export interface CapabilityOutcome {
  state: 'done' | 'failed' | 'pending';
  summary: string;
  details?: Record<string, unknown>;
  /** The engine request carrying the work, when it was handed over. */
  requestId?: number;
}

/** What the incident's capabilities need: the database and clock to hand work over, the exchanges to reconcile here. */
export interface IncidentDeps {
  db: Db;
  clock: Clock;
  config: Config;
  exchanges: ExchangeProvider;
}

export type IncidentCapability = (ctx: IncidentDeps, request: CapabilityRequest) => Promise<CapabilityOutcome>;

export interface IncidentPorts {
  flatten: IncidentCapability;
  reconcile: IncidentCapability;
}

/** The outcome a finished (or still open) engine request stands for. */
export function outcomeOfRequest(row: EngineRequest): CapabilityOutcome {
  const result = row.result ?? {};
  const summary = typeof result.summary === 'string' ? result.summary : (row.error ?? '');
  const { summary: _summary, ...details } = result;
  if (row.status === 'done') return { state: 'done', summary, details: { ...details, carriedOutBy: row.claimedBy }, requestId: row.id };
  if (row.status === 'failed') return { state: 'failed', summary, details: { ...details, carriedOutBy: row.claimedBy }, requestId: row.id };
  // Said from the row alone (waiting-request.ts adds whether an engine runs): taken by whom, or not yet.
  const waiting = row.status === 'running'
    ? `Taken by ${row.claimedBy}, the engine's process (request #${row.id}); its answer shows here when it finishes.`
    : `Queued in the database for the engine's process (request #${row.id}), not yet taken; its answer shows here when one takes it and finishes.`;
  return { state: 'pending', requestId: row.id, summary: waiting };
}

/** Stores the work as an engine request and waits up to `waitMs` for its answer. */
export async function handOver(ctx: Pick<IncidentDeps, 'db' | 'clock' | 'config'>, kind: EngineRequestKind, request: CapabilityRequest): Promise<CapabilityOutcome> {
  let row: EngineRequest;
  const waitMs = request.waitMs ?? ctx.config.INCIDENT_HANDOVER_WAIT;
  try {
    row = await enqueueEngineRequest(ctx.db, ctx.clock, {
      // waitMs (counted from its writing, on the database's clock): an answer within it is told by
      // this requester; one after it, by the incident thread.
      kind, requestedBy: request.actor.id, params: { actorSource: request.actor.source, waitMs },
      ...(request.incidentId !== undefined ? { incidentId: request.incidentId } : {}),
      ...(request.checklistItem ? { checklistItem: request.checklistItem } : {}),
    });
  } catch (err) {
    return { state: 'failed', summary: `Could not hand it to the engine's process: ${describeError(err)}` };
  }
  await request.onHandedOver?.(row.id).catch(() => undefined);
  const answered = await waitForEngineRequest(ctx.db, row.id, { timeoutMs: waitMs }).catch(() => null);
  return outcomeOfRequest(answered ?? row);
}

/** Reconcile here when this process holds the Kraken key (read-only calls); otherwise hand it over. */
export const reconcilePort: IncidentCapability = async (ctx, request) => {
  if (!ctx.exchanges.hasKrakenKeys()) return handOver(ctx, 'reconcile', request);
  return reconcileHere(ctx);
};

/** The reconciliation itself, in a process with the key: Kraken's trade history and balances against the ledger. */
export async function reconcileHere(ctx: IncidentDeps): Promise<CapabilityOutcome> {
  try {
    // Imported when an incident asks: every process builds these ports with its context, few reconcile.
    const { reconcile: reconcileLedger } = await import('../reconcile/reconcile.js');
    const report = await reconcileLedger(ctx, readOnlyExchange(ctx.exchanges.kraken()), { writeReport: true });
    // The ledger agreeing is not the reconciliation block lifted: the item is not done while it stands,
    // and says so (ctb mode status and resume read the block), with the command that runs it again.
    const standing = await readReconciliationStanding(ctx);
    const blocked = standing.blocked ? `; but reconciliation is still BLOCKED (${blockText(standing)}), and the bot stays halted on it: `
      + 'run ctb reconcile, which reconciles again and lifts the block when Kraken now explains every order and fill (an order the kill cancelled), '
      + 'else ctb reconcile adopt|cancel <txid> for each; then tick this item again' : '';
    return {
      state: report.ok && !standing.blocked ? 'done' : 'failed',
      summary: `${report.summaryLine}${report.reportFile ? ` (report: ${report.reportFile})` : ''}${blocked}`,
      details: { counts: report.counts, reportFile: report.reportFile, fetchedSince: report.fetchedSince },
    };
  } catch (err) {
    return { state: 'failed', summary: `Could not reconcile against Kraken: ${describeError(err)}` };
  }
}

/** "unknown_order ONLPUG-…, …" or why it waits: what keeps reconciliation blocked. */
function blockText(standing: ReconciliationStanding): string {
  if (standing.differences.length === 0) return standing.pending ? 'waiting for a first reconciliation after a takeover' : standing.cause ?? 'no difference recorded';
  const shown = standing.differences.slice(0, 3).map((d) => `${d.kind} ${d.id}`).join(', ');
  return standing.differences.length > 3 ? `${shown} and ${standing.differences.length - 3} more` : shown;
}

/** Flatten goes through the engine's order path, wherever it is asked for. */
export const flattenPort: IncidentCapability = (ctx, request) => handOver(ctx, 'flatten', request);

export function defaultIncidentPorts(overrides: Partial<IncidentPorts> = {}): IncidentPorts {
  return { flatten: overrides.flatten ?? flattenPort, reconcile: overrides.reconcile ?? reconcilePort };
}
