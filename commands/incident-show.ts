// `ctb incident [show]`: the open (or latest) incident and its manual-intervention checklist.
import { z } from 'zod';
import { getBotState } from '../src/services/bot-state.js';
import { currentIncident, type IncidentView } from '../src/services/kill/incident.js';
import { readPendingKills, type PendingKill } from '../src/services/kill/pending-kill.js';
import { defineCommand, type CommandContext } from './define.js';

export interface IncidentShowResult {
  ok: true;
  halted: boolean;
  haltedReason: string | null;
  pendingKills: PendingKill[];
  current: IncidentView | null;
}

export const incidentShowCommand = defineCommand({
  name: 'incident',
  summary: 'show the open (or latest) incident and its checklist',
  role: 'reader',
  args: z.object({ incidentId: z.number({ error: 'an incident number such as 3' }).int('an incident number such as 3').positive('an incident number such as 3').optional() }),
  async run(ctx, args): Promise<IncidentShowResult> {
    const state = await getBotState(ctx.db);
    return {
      ok: true, halted: state.halted, haltedReason: state.haltedReason,
      pendingKills: readPendingKills(ctx.config.DATA_DIR), current: await currentIncident(ctx, args.incidentId),
    };
  },
});

/**
 * The incident and its checklist as they stand, and whether the bot is halted (an incident open on a
 * bot not halted says so), for redrawing the checklist message after a tick (the tick itself ran
 * through runCommand as incident done and is trailed there). Changes nothing.
 */
export async function readIncident(ctx: Pick<CommandContext, 'db' | 'clock'>, incidentId: number | undefined): Promise<(IncidentView & { botHalted: boolean }) | null> {
  const view = await currentIncident(ctx, incidentId);
  return view ? { ...view, botHalted: (await getBotState(ctx.db)).halted } : null;
}
