// `reconcile adopt <txid>` and `reconcile cancel <txid>`: resolve what reconciliation with Kraken
// cannot explain. Done here when this process has the Kraken key; otherwise handed to the engine's
// process as an engine request and waited for — and if no answer comes, said to be pending, never done.
// Cancelling is never refused for being unarmed; adopting refuses what it cannot record safely.
import { z } from 'zod';
import type { EngineRequest, EngineRequestKind } from '../src/db/schema/index.js';
import { describeHolder } from '../src/domain/engine-holder.js';
import { readEngineHolder } from '../src/services/engine-lease/holder-view.js';
import { enqueueEngineRequest, waitForEngineRequest } from '../src/services/engine-requests/store.js';
import { parseKrakenId } from '../src/services/reconcile/cancel-order.js';
import { adoptFromKraken } from '../src/services/reconcile/start/adopt.js';
import { cancelAndRecheck } from '../src/services/reconcile/start/cancel.js';
import { defineCommand, type CommandContext } from './define.js';

const txidArgs = z.object({ txid: z.string().transform((v, c) => {
  try {
    return parseKrakenId(v);
  } catch (err) {
    c.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
}) }).strict();

export interface ResolveResult {
  ok: boolean;
  action: 'adopt' | 'cancel';
  txid: string;
  /** Who did it: this process (it has the key), or the engine's process through a request. */
  via: 'this_process' | 'engine_request';
  /** The engine request, when one was made; pending when no answer came in time. */
  request: { id: number; status: EngineRequest['status'] } | null;
  summary: string;
  details: Record<string, unknown>;
}

async function handOver(ctx: CommandContext, kind: EngineRequestKind, action: ResolveResult['action'], txid: string, timeoutMs: number): Promise<ResolveResult> {
  const request = await enqueueEngineRequest(ctx.db, ctx.clock, { kind, requestedBy: ctx.actor.id, params: { txid } });
  const answer = await waitForEngineRequest(ctx.db, request.id, { timeoutMs });
  const status = answer?.status ?? 'pending';
  if (status === 'done' || status === 'failed') {
    const result = (answer?.result ?? {}) as Record<string, unknown>;
    return {
      ok: status === 'done', action, txid, via: 'engine_request', request: { id: request.id, status },
      summary: String(result['summary'] ?? answer?.error ?? status), details: result,
    };
  }
  const holder = await readEngineHolder(ctx);
  return {
    ok: false, action, txid, via: 'engine_request', request: { id: request.id, status },
    summary: `This shell has no Kraken key, so request #${request.id} asks the engine's process to ${action} ${txid}; it is still ${status} after ${Math.round(timeoutMs / 1000)}s (engine: ${describeHolder(holder)}). Nothing is done until it answers.`,
    details: {},
  };
}

export function makeReconcileAdoptCommand() {
  return defineCommand({
    name: 'reconcile adopt',
    summary: 'record an order or fill on Kraken that reconciliation cannot explain as known to the bot (or say why it cannot be)',
    role: 'operator',
    args: txidArgs,
    async run(ctx, args): Promise<ResolveResult> {
      if (!ctx.exchanges.hasKrakenKeys()) return handOver(ctx, 'adopt_order', 'adopt', args.txid, ctx.config.RECONCILE_ANSWER_TIMEOUT);
      const r = await adoptFromKraken(ctx, args.txid, { actor: ctx.actor.id });
      return { ok: r.ok, action: 'adopt', txid: args.txid, via: 'this_process', request: null, summary: r.summary, details: { adopted: r.adopted, after: r.after } };
    },
  });
}

export function makeReconcileCancelCommand() {
  return defineCommand({
    name: 'reconcile cancel',
    summary: 'cancel an order on Kraken that reconciliation cannot explain, and confirm it is no longer open',
    role: 'operator',
    args: txidArgs,
    async run(ctx, args): Promise<ResolveResult> {
      if (!ctx.exchanges.hasKrakenKeys()) return handOver(ctx, 'cancel_order', 'cancel', args.txid, ctx.config.RECONCILE_ANSWER_TIMEOUT);
      const r = await cancelAndRecheck(ctx, args.txid);
      return { ok: r.ok, action: 'cancel', txid: args.txid, via: 'this_process', request: null, summary: r.summary, details: r.details ?? {} };
    },
  });
}
