// Owns the words for where a kill's Kraken cancel went when the process that killed has no Kraken
// key: taken by a running bot that has it, queued in the database for one, or not handed over at
// all. Everything is said from what happened (the hand-over's report and the follow-up request),
// never from what was meant to happen, so the terminal, Slack and --json say the same true thing.
import { CANCEL_ALL_STALE_MS } from './cancel-handover.js';

/** The Kraken venue's hand-over, as services/kill/handoff.ts reports it. */
export interface HandedOff {
  /** The engine request the cancel was written as; null: none was written. */
  requestId: number | null;
  /** The bot that took it (host:pid); null: no bot took it (or its answer could not be read). */
  by: string | null;
  /**
   * done | failed | claimed (taken, unanswered) | withdrawn (nobody took it in time) | no_bot | not_sent | unknown,
   * or queued: no bot took it, and the kill's follow-up request waits in the database for one (see queuedHandOff).
   */
  status: string;
  /** With status queued: the running bot with the key the engine lease named, if any. */
  queuedFor?: string | null;
}

/**
 * Kraken not confirmed clear when the kill answered: the cancel goes on as a request for the running
 * bot with the key (runningBot, from the engine lease), or waits for one (botKnown: whether the lease
 * could be read); `error` when even that could not be written.
 */
export type KillFollowUp =
  | {
    requestId: number; runningBot: string | null; engine: string; /** false: the engine lease could not be read, so whether a bot runs is unknown. */ botKnown: boolean;
    /** host:pid of the running bot when it has no Kraken key (it cannot take the cancel); null or absent otherwise. */
    keylessBot?: string | null;
  }
  | { error: string };

/**
 * direct: this process cancelled on Kraken itself; handed_off: it has no key and a running bot with
 * the key took the cancel; queued: no bot took it, it waits in the database for one; not_handed_off:
 * it could not be handed over; never_live: no key here nor in a running bot, and the database records no
 * use of Kraken ever, so nothing was sent to Kraken nor queued (neverLiveNotice).
 */
export type KrakenAccess = 'direct' | 'handed_off' | 'queued' | 'not_handed_off' | 'never_live';

/** Printed by the terminal while a keyless kill looks for the bot (only an intent: the outcome is said after). */
export const NO_KEY_LOOKING = 'Looking for a running bot with the Kraken key (this process has none) to cancel on Kraken through the database…';

/**
 * A keyless kill where no running bot has the key and the database records no use of Kraken ever
 * (db/queries/kraken-use-ever.ts): what is known, and only that (`nobody`: who has no key, as the engine lease shows it).
 */
export function neverLiveNotice(nobody: string): string {
  return `No Kraken key here, and ${nobody}: nothing was sent to Kraken. This database records no use of Kraken ever (no live order or live mode, no cancel there, no engine that took the lease armed or with the key), so there is nothing on Kraken to cancel from this bot.`;
}

/**
 * What a kill (or a second kill's cancel again) did, once every venue it asked confirmed none open:
 * "every open order cancelled" only when some venue cancelled one; none there to cancel is said as
 * such, naming the venues that confirmed it (and, where a cancel's count never came back, that how
 * many it cancelled is not known) — and a never-live keyless kill, which asked Kraken nothing, says
 * so instead of calling Kraken confirmed.
 */
export function clearCancelPhrase(venues: ReadonlyArray<{ venue: string; canceled: number | null; lostAnswers?: readonly number[] }>, krakenAccess: KrakenAccess): string {
  if (venues.length === 0 || venues.some((v) => (v.canceled ?? 0) > 0)) return 'every open order cancelled';
  const asked = venues.map((v) => v.venue).join(' and ');
  const nothingOnKraken = krakenAccess === 'never_live' ? '; nothing of this bot on Kraken' : '';
  // A cancel whose count never came back (its answer timed out, then the open-orders query confirmed
  // none) may have cancelled orders: none open now, not "no open orders" as if there had been none.
  const uncounted = venues.filter((v) => v.canceled === null || (v.lostAnswers?.length ?? 0) > 0).map((v) => v.venue);
  if (uncounted.length > 0) return `none open now (${asked} confirmed; how many ${uncounted.join(' and ')} cancelled is not known${nothingOnKraken})`;
  return `no open orders (${asked} confirmed${nothingOnKraken})`;
}

/**
 * What a later kill that confirmed zero open orders says of it when it resolves the first kill's alert
 * group: the venues that confirmed — and, for a never-live keyless kill, that Kraken was not asked
 * (nothing of this bot is there), not that Kraken confirmed.
 */
export function zeroOpenConfirmedPhrase(venues: ReadonlyArray<{ venue: string }>, krakenAccess: KrakenAccess): string {
  const asked = venues.map((v) => v.venue).join(' and ');
  return `zero open orders confirmed (${asked}${krakenAccess === 'never_live' ? '; nothing of this bot on Kraken' : ''})`;
}

export function krakenAccessOf(handedOff: HandedOff | undefined, followUp: KillFollowUp | undefined): Exclude<KrakenAccess, 'direct' | 'never_live'> {
  if (handedOff?.by) return 'handed_off';
  if (followUp && 'requestId' in followUp) return 'queued';
  return 'not_handed_off';
}

/**
 * Why no bot takes a follow-up cancel now: the running bot has no Kraken key, no bot with the key is
 * running, or whether one is cannot be told (the engine lease described in brackets).
 */
export function nobodyWithKey(f: { keylessBot?: string | null | undefined; botKnown: boolean; engine: string }): string {
  if (f.keylessBot) return `the running bot ${f.keylessBot} has no Kraken key`;
  return f.botKnown ? `no bot with the key is running (${f.engine})` : `whether a bot with the key is running is not known (${f.engine})`;
}

/** The first thing a keyless kill says: what became of its Kraken cancel. */
export function noKeyNotice(handedOff: HandedOff | undefined, followUp: KillFollowUp | undefined): string {
  const access = krakenAccessOf(handedOff, followUp);
  if (access === 'handed_off') {
    return `This process has no Kraken key: the cancel on Kraken was handed to the running bot that has it (${handedOff!.by}, request #${handedOff!.requestId}).`;
  }
  if (access === 'queued' && followUp && 'requestId' in followUp) {
    const minutes = CANCEL_ALL_STALE_MS / 60_000;
    if (followUp.runningBot) {
      return `This process has no Kraken key: the cancel on Kraken is queued in the database for the running bot that has it (${followUp.runningBot}, request #${followUp.requestId}), which has not taken it yet; until it does, orders may stay open on Kraken.`;
    }
    const nobody = nobodyWithKey(followUp);
    return `This process has no Kraken key and ${nobody}: the cancel on Kraken is queued in the database (request #${followUp.requestId}) and waits up to ${minutes} min for one to take it; until one does, orders may stay open on Kraken.`;
  }
  const why = followUp && 'error' in followUp ? ` (${followUp.error})` : '';
  return `This process has no Kraken key and the cancel on Kraken could not be handed to a bot that has it${why}: orders may remain open on Kraken.`;
}

/**
 * The venue's hand-over once the kill's follow-up is known: a cancel no bot took that is now queued
 * for one is said as queued (the follow-up's request), as the notice says — never "not handed to a
 * bot" beside a notice that says it waits in the database. What the first hand-over met stays in the
 * venue's errors.
 */
export function queuedHandOff(handedOff: HandedOff, followUp: KillFollowUp | undefined): HandedOff {
  if (krakenAccessOf(handedOff, followUp) !== 'queued' || !followUp || !('requestId' in followUp)) return handedOff;
  return { requestId: followUp.requestId, by: null, status: 'queued', queuedFor: followUp.runningBot };
}

/** Who cancelled on Kraken for a keyless kill, for its venue line; `request` adds the request number. */
export function handedOffPhrase(h: HandedOff, opts: { request: boolean }): string {
  const request = opts.request && h.requestId !== null ? `, request #${h.requestId}` : '';
  if (h.by) return `by the running bot ${h.by}${request}`;
  if (h.status === 'queued') return `queued for ${h.queuedFor ? `the running bot ${h.queuedFor}` : 'a bot with the key'}, not yet taken${request}`;
  if (h.requestId === null) return 'not handed to a bot';
  if (h.status === 'withdrawn') return `no bot took it${request}`;
  return `no bot's answer read${request}`;
}

/** "how many the first cancel cancelled is unknown (its answer was lost)", for a venue's tries whose CancelAll answer was lost. */
export function lostAnswersPhrase(lost: readonly number[]): string {
  if (lost.length === 1) return `how many ${lost[0] === 1 ? 'the first cancel' : `cancel #${lost[0]}`} cancelled is unknown (its answer was lost)`;
  return `how many cancels ${lost.map((n) => `#${n}`).join(', ')} cancelled is unknown (their answers were lost)`;
}

/**
 * What a venue's cancels are known to have cancelled: "2 cancelled"; "cancel failed" when none
 * answered and none may have run; with a cancel whose answer was lost, only a lower bound ("at least
 * 2 cancelled", "no cancel answered") — never a count of what was not known.
 */
export function cancelledPhrase(v: { canceled: number | null; lostAnswers?: readonly number[] }): string {
  const lost = (v.lostAnswers?.length ?? 0) > 0;
  if (v.canceled === null) return lost ? 'no cancel answered' : 'cancel failed';
  return lost ? `at least ${v.canceled} cancelled` : `${v.canceled} cancelled`;
}

/** A venue confirmed clear: "2 cancelled, none open (confirmed)", or, a cancel's answer lost, "none open (confirmed); how many … is unknown (…)". */
export function confirmedClearPhrase(v: { canceled: number | null; lostAnswers?: readonly number[] }, noneOpen = 'none open (confirmed)'): string {
  if (!v.lostAnswers?.length) return `${cancelledPhrase(v)}, ${noneOpen}`;
  return `${(v.canceled ?? 0) > 0 ? `${cancelledPhrase(v)}, ` : ''}${noneOpen}; ${lostAnswersPhrase(v.lostAnswers)}`;
}
