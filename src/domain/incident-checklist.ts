// The manual-intervention checklist every kill opens (go-live checklist §9): the same four items,
// in this order, in the database, in Slack (one button each) and in `ctb incident`.
import type { ChecklistItemKey, IncidentChecklistItem } from '../db/schema/index.js';
import type { WaitingRequest } from './waiting-request.js';

export interface ChecklistItemSpec {
  item: ChecklistItemKey;
  label: string;
  /** Doing it changes the account: Slack asks for a confirmation first. */
  confirm: boolean;
}

export const CHECKLIST: readonly ChecklistItemSpec[] = [
  { item: 'cancel_orders', label: 'Cancel open orders again and confirm none is left', confirm: false },
  { item: 'close_positions', label: 'Close open positions (flatten)', confirm: true },
  { item: 'reconcile_ledger', label: 'Reconcile the ledger against the exchange', confirm: false },
  { item: 'notify_stakeholders', label: 'Notify stakeholders', confirm: false },
];

export const CHECKLIST_KEYS = CHECKLIST.map((c) => c.item) as [ChecklistItemKey, ...ChecklistItemKey[]];

export function checklistSpec(item: ChecklistItemKey): ChecklistItemSpec {
  return CHECKLIST.find((c) => c.item === item)!;
}

/**
 * An item not done because a sale is on its way (close positions: sold, but the exchange has not
 * listed all its fills): shown as awaiting them, not as failed — selling again by hand would sell twice.
 */
export function awaitingFills(item: { doneAt: Date | null; outcome: Record<string, unknown> | null }): boolean {
  const pending = item.outcome?.['pending'];
  return item.doneAt === null && Array.isArray(pending) && pending.length > 0;
}

/**
 * A checklist item as shown: `waiting` on an item pending on a request another process carries out
 * (cancel, close positions, reconcile) says what that request stands at (services/kill/waiting-request.ts).
 */
export type ShownChecklistItem = IncidentChecklistItem & { waiting?: WaitingRequest & { text: string } };

/** The request a done item answered, when the process that carried it out is the one it names as done by. */
export function answeredRequest(item: Pick<IncidentChecklistItem, 'doneBy' | 'requestId' | 'outcome'>): number | null {
  return item.requestId !== null && item.doneBy !== null && item.outcome?.['carriedOutBy'] === item.doneBy ? item.requestId : null;
}

/**
 * An incident open on a bot that is not halted (its halt lifted without it) stays open until a resume
 * closes it: said wherever the incident is shown, in the words of that surface.
 */
export function openUnhaltedText(incidentId: number, surface: 'cli' | 'slack'): string {
  return surface === 'cli'
    ? `Incident #${incidentId} is still open although the bot is not halted: ctb resume closes it, once its checklist is done and an audit has passed since it opened (ctb audit).`
    : `Incident #${incidentId} is still open although the bot is not halted: \`/mode resume\` (\`ctb resume\` in a terminal) closes it, once its checklist is done and an audit has passed since it opened (\`/golive audit\`).`;
}

/** The halt a kill joining an open incident found and took over (someone else's than a kill in force), in words: "halted by X (reason)". */
export function takenOverText(halt: { by: string | null; reason: string | null }): string {
  return `halted by ${halt.by ?? 'an unrecorded actor'}${halt.reason ? ` (${halt.reason})` : ''}`;
}
