// Owns reading the reconciliation's standing from bot_state (domain/reconciliation-standing.ts
// says what it means). Read-only.
import type { Db } from '../../../db/client.js';
import { standingOf, type ReconciliationStanding } from '../../../domain/reconciliation-standing.js';
import { getBotState } from '../../bot-state.js';

export async function readReconciliationStanding(ctx: { db: Db }): Promise<ReconciliationStanding> {
  return standingOf(await getBotState(ctx.db));
}
