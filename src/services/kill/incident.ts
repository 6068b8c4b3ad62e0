// Owns the incident a kill opens and its manual-intervention checklist: reading it, and ticking
// an item with who did it and when. Ticking is idempotent: a second click (or a Slack retry) keeps
// the first person and time and says so. Items the bot can do itself are done, not just ticked:
// cancel re-cancels everywhere, close-positions runs the engine's flatten, reconcile runs the
// reconciler; the rest record the operator's word.
import { and, desc, eq, isNull } from 'drizzle-orm';
import type { Actor, AppContext } from '../../app/context.js';
import { incidentChecklistItems, incidents, type ChecklistItemKey, type Incident, type IncidentChecklistItem } from '../../db/schema/index.js';
import { AppError } from '../../errors.js';
import { cancelEverywhere } from './cancel-everywhere.js';
import { checklistSpec } from './checklist.js';
import { describeError } from './deadline.js';
import { killRuntime } from './runtime.js';

export interface IncidentView {
  incident: Incident;
  items: IncidentChecklistItem[];
}

/** The open incident, or else the most recent one; null when there has never been one. */
export async function currentIncident(ctx: Pick<AppContext, 'db'>, incidentId?: number): Promise<IncidentView | null> {
  const [incident] = incidentId !== undefined
    ? await ctx.db.select().from(incidents).where(eq(incidents.id, incidentId))
    : await ctx.db.select().from(incidents).orderBy(desc(incidents.status), desc(incidents.openedAt), desc(incidents.id)).limit(1);
  // status sorts 'open' > 'closed', so desc puts an open incident first.
  if (!incident) return null;
  const items = await ctx.db.select().from(incidentChecklistItems)
    .where(eq(incidentChecklistItems.incidentId, incident.id)).orderBy(incidentChecklistItems.position);
  return { incident, items };
}

export interface TickOutcome {
  item: IncidentChecklistItem;
  /** Someone had already done it: the first record stands. */
  alreadyDone: boolean;
}

export async function markChecklistItem(
  ctx: Pick<AppContext, 'db' | 'clock'>,
  opts: { incidentId: number; item: ChecklistItemKey; actor: Actor; outcome: Record<string, unknown> },
): Promise<TickOutcome> {
  const updated = await ctx.db
    .update(incidentChecklistItems)
    .set({ doneAt: ctx.clock.now(), doneBy: opts.actor.id, outcome: opts.outcome })
    .where(and(eq(incidentChecklistItems.incidentId, opts.incidentId), eq(incidentChecklistItems.item, opts.item), isNull(incidentChecklistItems.doneAt)))
    .returning();
  if (updated[0]) return { item: updated[0], alreadyDone: false };
  const [existing] = await ctx.db.select().from(incidentChecklistItems)
    .where(and(eq(incidentChecklistItems.incidentId, opts.incidentId), eq(incidentChecklistItems.item, opts.item)));
  if (!existing) throw new AppError('usage', 'no_such_item', `Incident ${opts.incidentId} has no checklist item ${opts.item}.`);
  return { item: existing, alreadyDone: true };
}

export interface DoItemResult {
  ok: boolean;
  incidentId: number;
  item: ChecklistItemKey;
  alreadyDone: boolean;
  doneBy: string | null;
  doneAt: Date | null;
  summary: string;
}

/** Does (where the bot can) and records one checklist item of the open incident. */
export async function doChecklistItem(
  ctx: AppContext,
  opts: { item: ChecklistItemKey; actor: Actor; confirmed: boolean; note?: string | undefined; incidentId?: number | undefined },
): Promise<DoItemResult> {
  const view = await currentIncident(ctx, opts.incidentId);
  if (!view) throw new AppError('conflict', 'no_incident', 'There is no incident: nothing has been killed.');
  const existing = view.items.find((i) => i.item === opts.item);
  if (!existing) throw new AppError('usage', 'no_such_item', `Incident ${view.incident.id} has no checklist item ${opts.item}.`);
  const base = { incidentId: view.incident.id, item: opts.item };
  if (existing.doneAt) {
    return { ...base, ok: true, alreadyDone: true, doneBy: existing.doneBy, doneAt: existing.doneAt,
      summary: `Already done by ${existing.doneBy} at ${existing.doneAt.toISOString()}.` };
  }
  if (checklistSpec(opts.item).confirm && !opts.confirmed) {
    throw new AppError('usage', 'confirmation_required', `${checklistSpec(opts.item).label} changes the account: confirm it.`, {
      hint: 'In the terminal add --yes; in Slack press Confirm in the dialog.',
    });
  }
  const action = await perform(ctx, opts.item, opts.actor);
  if (!action.ok) return { ...base, ok: false, alreadyDone: false, doneBy: null, doneAt: null, summary: action.summary };
  const tick = await markChecklistItem(ctx, {
    incidentId: view.incident.id, item: opts.item, actor: opts.actor,
    outcome: { summary: action.summary, ...(opts.note ? { note: opts.note } : {}), ...(action.details ?? {}) },
  });
  return { ...base, ok: true, alreadyDone: tick.alreadyDone, doneBy: tick.item.doneBy, doneAt: tick.item.doneAt, summary: action.summary };
}

async function perform(ctx: AppContext, item: ChecklistItemKey, actor: Actor): Promise<{ ok: boolean; summary: string; details?: Record<string, unknown> }> {
  const hooks = killRuntime(ctx).hooks;
  try {
    switch (item) {
      case 'cancel_orders': {
        const report = await cancelEverywhere({ exchanges: ctx.exchanges, logger: ctx.logger, attempts: ctx.config.KILL_CONFIRM_ATTEMPTS });
        const counts = report.venues.map((v) => `${v.venue}: ${v.confirmed ? 'none open' : `${v.survivors.length} still open${v.errors.length ? ` (${v.errors.at(-1)})` : ''}`}`).join(', ');
        return { ok: report.allConfirmed, summary: `Cancelled again — ${counts}.`, details: { cancel: report } };
      }
      case 'close_positions': {
        if (!hooks.flatten) return { ok: true, summary: 'Recorded as closed by hand (the engine flatten is not available in this process).' };
        const outcome = await hooks.flatten(ctx, actor);
        return { ok: outcome.ok, summary: outcome.summary, ...(outcome.details ? { details: outcome.details } : {}) };
      }
      case 'reconcile_ledger': {
        if (!hooks.reconcile) return { ok: true, summary: 'Recorded as reconciled by hand (the reconciler is not available in this process).' };
        const outcome = await hooks.reconcile(ctx);
        return { ok: outcome.ok, summary: outcome.summary };
      }
      case 'notify_stakeholders':
        return { ok: true, summary: 'Stakeholders notified.' };
    }
  } catch (err) {
    return { ok: false, summary: `Failed: ${describeError(err)}` };
  }
}
