// Owns carrying out engine requests in the process that can: it polls for pending requests of the
// kinds it has handlers for, claims one at a time, runs its handler and records done/failed with the
// result — or, when the handler asks to try again later (or another writer changed what it decided
// on while it ran: finishIf), puts it back pending until then. Handlers are the capabilities of this process (a port per kind), given when it starts;
// a kind without a handler here stays pending for a process that has one.
import type { Clock } from '../../clock.js';
import type { Db } from '../../db/client.js';
import type { BotState, EngineRequest, EngineRequestKind } from '../../db/schema/index.js';
import { isProgramError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { claimEngineRequest, engineRequestsToDo, engineRequestsToDoAndBotState, finishEngineRequest, requeueGoneClaims, requeueStaleEngineRequests, retryEngineRequestLater, sayNextTryAt } from './store.js';
import { claimScopeFor, hereNow, type Here } from './claim-gone.js';

export interface HandlerOutcome {
  ok: boolean;
  summary: string;
  details?: Record<string, unknown>;
  /**
   * Not finished: the handler tries again at this moment (on this process's clock: the wait from its
   * now is what counts). The request goes back to pending with this try's result (summary, details)
   * and is not claimed before that wait has passed on the database's clock, by this process or the
   * next; the moment as the summary and details.nextTryAt name it is said as the database's.
   */
  retryAt?: Date;
  /**
   * Finished only while the request's params still hold these values as the handler read them (null:
   * absent): a writer that changed one while the try ran voids the handler's decision, and the
   * request goes back pending as `otherwise` says instead (its result, and when it is tried again).
   */
  finishIf?: { params: Record<string, string | null>; otherwise: RetryOutcome };
  /** Done once the request is finished as this outcome says (not when `finishIf` put it back). */
  afterFinish?: () => Promise<void>;
}

/** A try whose handler tries again later. */
export type RetryOutcome = Pick<HandlerOutcome, 'ok' | 'summary' | 'details'> & { retryAt: Date };

export type EngineRequestHandler = (request: EngineRequest) => Promise<HandlerOutcome>;
export type EngineRequestHandlers = Partial<Record<EngineRequestKind, EngineRequestHandler>>;

export interface RequestRunnerDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
}

export interface RequestRunnerOptions {
  /** Names this process in claimed_by (host:pid or the lease holder id). */
  holder: string;
  handlers: EngineRequestHandlers;
  /** Only claim while this says yes (e.g. while this process holds the engine lease). */
  active?: () => boolean;
  pollMs?: number;
  /** A claim older than this belongs to a runner that died: it is put back to pending. */
  staleClaimMs?: number;
  timer?: boolean;
  /** This process's pid scope (tests); default readBootId(). null: unknown, no claim is judged by its pid. */
  bootId?: string | null;
  /** Whether a pid is a process (tests); default process.kill(pid, 0). */
  pidExists?: (pid: number) => boolean;
  /** Told after each finished request (the incident checklist updates its item). */
  onFinished?: (request: EngineRequest, outcome: HandlerOutcome) => Promise<void>;
  /** Told after a try whose handler asked to try again later (outcome.retryAt). */
  onRetry?: (request: EngineRequest, outcome: RetryOutcome) => Promise<void>;
  /**
   * Asked as each poll starts: who takes the bot_state row this poll reads too (this process's halt
   * watcher, whose own read it saves), or nobody (undefined: the poll reads engine_requests alone).
   */
  botStateReader?: () => ((state: BotState) => unknown) | undefined;
}

export interface RequestRunner {
  /** Claims and runs every pending request it can, one after another; returns how many ran. */
  drain(): Promise<number>;
  stop(): Promise<void>;
}

export function startRequestRunner(deps: RequestRunnerDeps, opts: RequestRunnerOptions): RequestRunner {
  const kinds = Object.keys(opts.handlers) as EngineRequestKind[];
  // Where this runner's pid means something: recorded with each claim, and the scope whose gone claimers it puts back.
  const here: Here = { ...hereNow(), ...(opts.bootId !== undefined ? { bootId: opts.bootId } : {}) };
  const scope = claimScopeFor(opts.holder, here.bootId);
  let running: Promise<number> | null = null;
  let failures = 0;

  const runOne = async (request: EngineRequest): Promise<void> => {
    const handler = opts.handlers[request.kind]!;
    let outcome: HandlerOutcome;
    try {
      outcome = await handler(request);
    } catch (err) {
      outcome = { ok: false, summary: `Failed: ${err instanceof Error ? err.message : String(err)}` };
    }
    const retryAt = outcome.retryAt;
    if (retryAt) return tryLater(request, { ok: outcome.ok, summary: outcome.summary, ...(outcome.details ? { details: outcome.details } : {}), retryAt });
    const finished = await finishEngineRequest(deps.db, deps.clock, request.id, {
      ok: outcome.ok, result: { summary: outcome.summary, ...(outcome.details ?? {}) }, ...(outcome.ok ? {} : { error: outcome.summary }),
      ...(outcome.finishIf ? { paramsStill: outcome.finishIf.params } : {}),
    });
    // Changed while it ran (or no longer running: then putting it back does nothing either).
    if (!finished && outcome.finishIf) return tryLater(request, outcome.finishIf.otherwise);
    deps.logger.info({ requestId: request.id, kind: request.kind, ok: outcome.ok, summary: outcome.summary }, 'engine request finished');
    if (finished) await outcome.afterFinish?.().catch((err: unknown) => deps.logger.error({ err, requestId: request.id }, 'engine request follow-up failed'));
    await opts.onFinished?.(request, outcome).catch((err: unknown) => deps.logger.error({ err, requestId: request.id }, 'engine request follow-up failed'));
  };

  const tryLater = async (request: EngineRequest, outcome: RetryOutcome): Promise<void> => {
    const requeued = await retryEngineRequestLater(deps.db, deps.clock, request.id, { notBefore: outcome.retryAt, result: { summary: outcome.summary, ...(outcome.details ?? {}) } });
    // No longer this runner's (requeued as stale and taken by another, or finished): nothing was put
    // back by it, so nothing is said of it either; whoever holds the request now reports it.
    if (!requeued) {
      deps.logger.warn({ requestId: request.id, kind: request.kind, summary: outcome.summary }, 'engine request was no longer this runner\'s when it tried to put it back: left to whoever holds it');
      return;
    }
    // Told as written: the next try on the database's clock, which is when a runner takes it.
    const written: RetryOutcome = {
      ...outcome, retryAt: requeued.nextTryAt, summary: sayNextTryAt({ summary: outcome.summary }, outcome.retryAt, requeued.nextTryAt)['summary'] as string,
      ...(outcome.details ? { details: sayNextTryAt(outcome.details, outcome.retryAt, requeued.nextTryAt) } : {}),
    };
    deps.logger.info({ requestId: request.id, kind: request.kind, retryAt: written.retryAt.toISOString(), summary: written.summary }, 'engine request tried; tried again later');
    await opts.onRetry?.(request, written).catch((err: unknown) => deps.logger.error({ err, requestId: request.id }, 'engine request follow-up failed'));
  };

  const loop = async (): Promise<number> => {
    if (opts.active && !opts.active()) return 0;
    let ran = 0;
    const staleMs = opts.staleClaimMs ?? 120_000;
    // One read first: an idle poll (nearly every poll) sends nothing else. It reads bot_state too
    // when this process's halt watcher takes that read in place of its own.
    const reader = opts.botStateReader?.();
    const todo: { pending: boolean; stale: boolean; inScope: boolean; state?: BotState } = reader ? await engineRequestsToDoAndBotState(deps.db, kinds, staleMs, here.bootId) : await engineRequestsToDo(deps.db, kinds, staleMs, here.bootId);
    if (reader && todo.state) reader(todo.state);
    // A claim of a process on this host and boot that is gone (killed mid-request) goes back at once.
    const gone = todo.inScope ? await requeueGoneClaims(deps.db, here, opts.pidExists) : [];
    for (const g of gone) {
      deps.logger.warn({ requestId: g.id, kind: g.kind, claimedBy: g.claimedBy },
        `engine request #${g.id} (${g.kind}) was taken by ${g.claimedBy}, which is gone (ended without finishing it): put back to be taken again`);
    }
    if (todo.stale) await requeueStaleEngineRequests(deps.db, staleMs);
    else if (!todo.pending && gone.length === 0) return 0;
    for (;;) {
      const request = await claimEngineRequest(deps.db, opts.holder, kinds, scope);
      if (!request) return ran;
      await runOne(request);
      ran += 1;
    }
  };

  const drain = (): Promise<number> => {
    running ??= loop()
      .then((n) => {
        failures = 0;
        return n;
      })
      .catch((err: unknown) => {
        failures += 1;
        // The database away is retried with a warning; a bug (TypeError…) is an error, and so an
        // alert: the requests waiting here include a kill's cancel handed over to this process.
        if (failures === 1 || failures % 100 === 0) {
          if (isProgramError(err)) deps.logger.error({ err, failures }, 'could not poll engine requests: a program error; still polling');
          else deps.logger.warn({ err, failures }, 'could not poll engine requests');
        }
        return 0;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };

  const timer = opts.timer === false ? undefined : setInterval(() => void drain(), opts.pollMs ?? 250);
  timer?.unref();
  return {
    drain,
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
