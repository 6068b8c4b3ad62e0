// Terminal text for the kill switch's results (kill, incident, resume). Pure functions of results.
import type { IncidentShowResult } from '../../../commands/incident-show.js';
import { CANCEL_ALL_STALE_MS, CANCEL_FOLLOW_UP_MS, triesCount } from '../../domain/cancel-handover.js';
import type { DoItemResult, IncidentView } from '../../services/kill/incident.js';
import type { KillResult } from '../../services/kill/kill.js';
import type { ResumeResult } from '../../services/kill/resume.js';
import type { VenueCancelReport } from '../../services/kill/cancel-everywhere.js';
import { answeredRequest, awaitingFills, openUnhaltedText, takenOverText } from '../../domain/incident-checklist.js';
import { cancelledPhrase, clearCancelPhrase, confirmedClearPhrase, handedOffPhrase } from '../../domain/kraken-handoff.js';
import { localHaltText, savedFollowUpText, unsavedHaltText } from '../../domain/local-halt.js';

/** Why no bot takes the follow-up now, said loudly: the host:pid and the engine lease's description as they are. */
function shout(f: { keylessBot?: string | null | undefined; botKnown: boolean; engine: string }): string {
  if (f.keylessBot) return `THE RUNNING BOT ${f.keylessBot} HAS NO KRAKEN KEY`;
  return `${f.botKnown ? 'NO BOT WITH THE KRAKEN KEY IS RUNNING' : 'WHETHER A BOT WITH THE KRAKEN KEY IS RUNNING IS NOT KNOWN'} (${f.engine})`;
}

/**
 * What one venue's cancels came to, as every kill reply says it: "2 cancelled, none open (confirmed)",
 * or not confirmed with what is known — a lower bound when a cancel's answer was lost, what is still
 * open, the last error.
 */
export function venueOutcome(v: VenueCancelReport): string {
  if (v.confirmed) return confirmedClearPhrase(v);
  const survivors = v.survivors.map((s) => `${s.exchangeOrderId} ${s.symbol} ${s.side} ${s.quantity}`).join('; ');
  const why = v.errors.at(-1) ?? '';
  // Never tried here (no key, and no bot answered for it): no cancel failed, none was sent.
  if (v.attempts === 0 && v.canceled === null) return `no cancel sent from this process, NOT CONFIRMED${why ? ` — ${why}` : ''}`;
  // Listed before a later cancel that answered or may have run: they may be cancelled since, never "still open".
  const earlier = v.listedBefore
    ? ` — listed open at try ${v.listedBefore.attempt}, before a later cancel: ${v.listedBefore.orders.map((s) => `${s.exchangeOrderId} ${s.symbol} ${s.side} ${s.quantity}`).join('; ')}` : '';
  return `${cancelledPhrase(v)}, NOT CONFIRMED after ${triesCount(v.attempts)}${survivors ? ` — still open: ${survivors}` : earlier}${why ? ` — ${why}` : ''}`;
}

function venueLine(v: VenueCancelReport): string {
  const by = v.handedOff ? ` (${handedOffPhrase(v.handedOff, { request: true })})` : '';
  return `  ${v.venue}${by}: ${venueOutcome(v)}`;
}

function fenceLines(r: KillResult): string[] {
  if (!r.fence) return [];
  // Never live here, nothing of this bot is on Kraken to reconcile: what to do next is said once, below.
  const check = r.notClear ? '' : ' — check `ctb reconcile`';
  if (r.fence.error) return [`Orders in flight at the halt could not be checked (${r.fence.error}): an order may still reach the exchange${check}.`];
  if (r.fence.unresolved.length === 0) return [];
  const list = r.fence.unresolved.map((o) => `${o.mode} ${o.side} ${o.symbol} (${o.clientOrderId})`).join('; ');
  return [`${r.fence.unresolved.length} order(s) were still on their way ${Math.round(r.fence.waitedMs)} ms after the halt and may reach the exchange after this kill: ${list}${check}.`];
}

export function renderChecklist(view: IncidentView): string {
  const lines = [`Incident #${view.incident.id} (${view.incident.status}) — ${view.incident.reason} — opened by ${view.incident.openedBy} at ${view.incident.openedAt.toISOString()}`];
  for (const item of view.items) {
    const found = typeof item.outcome?.summary === 'string' ? item.outcome.summary : '';
    const status = item.doneAt
      ? `done by ${item.doneBy}${answeredRequest(item) !== null ? ` (answering request #${answeredRequest(item)})` : ''} at ${item.doneAt.toISOString()}${found ? `: ${found}` : ''}`
      : item.state === 'pending'
        // A kill's follow-up the bot retries says when its next try is.
        ? typeof item.outcome?.nextTryAt === 'string' ? `PENDING (request #${item.requestId ?? '?'}): ${found}` : item.waiting ? `PENDING: ${item.waiting.text}` : `PENDING (request #${item.requestId ?? '?'})${found ? `: ${found}` : ''}`
        : awaitingFills(item) ? `NOT DONE YET, AWAITING THE EXCHANGE'S FILLS: ${found}`
          : item.state === 'failed' ? `FAILED: ${found}` : 'to do';
    const box = item.doneAt ? 'x' : item.state === 'pending' || awaitingFills(item) ? '~' : item.state === 'failed' ? '!' : ' ';
    lines.push(`  [${box}] ${item.item.padEnd(20)} ${item.label} — ${status}`);
  }
  return lines.join('\n');
}

/**
 * `noBot`: the database the halt went to is one no bot has used (ctb kill run outside the bot's
 * directory): said first, and neither "KILLED" nor "Halted" is claimed.
 */
export function renderKill(r: KillResult, opts: { noBot?: string } = {}): string {
  const lines: string[] = [];
  if (opts.noBot) lines.push(opts.noBot);
  if (r.notice) lines.push(r.notice);
  const fenceHolds = fenceLines(r).length === 0;
  const head = r.cancel.allConfirmed && fenceHolds ? clearCancelPhrase(r.cancel.venues, r.krakenAccess)
    : r.notClear ? `ZERO OPEN ORDERS NOT CONFIRMED: ${r.notClear.why}` : 'OPEN ORDERS MAY REMAIN: NOT ALL CONFIRMED CANCELLED';
  // Killed only once the database holds the halt; saved in DATA_DIR alone, it is said as pending.
  lines.push(opts.noBot ? `Cancelled from this process — ${head}.`
    : r.alreadyKilled ? `Already killed (incident #${r.incidentId}) — cancelled again: ${head}.`
    // An incident left open on a bot that was trading: this kill is what halted it.
    // An incident left open on a bot halted since by someone else: this kill took that halt over.
    : r.joinedIncident && r.state === 'written' && r.haltTakenOver ? `KILLED — the bot was ${takenOverText(r.haltTakenOver)}: this kill took that halt over (only a resume lifts it now), joining incident #${r.incidentId} (still open) — ${head}.`
    : r.joinedIncident && r.state === 'written' ? `KILLED — the bot was not halted: halted now, joining incident #${r.incidentId} (still open) — ${head}.`
    // A write that timed out may still land: "not confirmed", not "not in the database".
    : r.state === 'pending' ? (r.stateTimedOut
      ? `HALT SAVED IN DATA_DIR, NOT CONFIRMED IN THE DATABASE (THE WRITE MAY STILL LAND) — ${head}.`
      : `HALT NOT YET IN THE DATABASE, SAVED IN DATA_DIR ONLY — ${head}.`)
      : r.state === 'unsaved' ? (r.stateTimedOut
        ? `HALT NOT SAVED IN DATA_DIR, NOT CONFIRMED IN THE DATABASE (THE WRITE MAY STILL LAND) — ${head}.`
        : `HALT NOT SAVED, NEITHER IN THE DATABASE NOR IN DATA_DIR — ${head}.`) : `KILLED — ${head}.`);
  lines.push(...r.cancel.venues.map(venueLine));
  lines.push(...fenceLines(r));
  if (r.notClear) lines.push(`Nothing is queued for a bot (it would cancel only on Kraken): ${r.notClear.next}.`);
  if (r.followUpSaved) lines.push(savedFollowUpText(r.stateConfigProblem !== undefined));
  if (r.followUp) {
    lines.push('requestId' in r.followUp
      ? (r.followUp.runningBot
        ? `Cancelling is handed on (request #${r.followUp.requestId}) to the running bot with the Kraken key (${r.followUp.runningBot}): it cancels and confirms, trying again until Kraken confirms (up to ${CANCEL_FOLLOW_UP_MS / 60_000} min), and \`ctb incident\` shows its answer on cancel_orders. Until then orders may remain open on Kraken.`
        : `${shout(r.followUp)}: orders may remain open on Kraken. Request #${r.followUp.requestId} waits ${CANCEL_ALL_STALE_MS / 60_000} min for a bot with the key to take it; ${r.krakenAccess === 'direct'
          // This process has the key: what stopped it is on the kraken line above, not a missing key.
          ? "this process has the key, but Kraken did not confirm (the kraken line above says why): run `ctb kill` again once Kraken answers here, or cancel in Kraken's UI."
          : "run `ctb kill` again where the key is, or cancel in Kraken's UI."}`)
      : `The confirmation could not be handed on to the running bot (${r.followUp.error}): run \`ctb kill\` again or check Kraken.`);
  }
  if (r.resolvedAlert) lines.push(`Kill alert (group ${r.resolvedAlert.group}) resolved: ${r.resolvedAlert.confirmed}.`);
  if (opts.noBot) lines.push('The halt is recorded only in that database, on which no engine has run yet.');
  else if (r.state === 'written') lines.push('Halted in paper mode: the halt is recorded in the database.');
  else if (r.state === 'pending') lines.push(localHaltText(r.pendingFile ?? 'DATA_DIR', r.stateError ?? 'no answer', r.stateConfigProblem !== undefined, r.stateTimedOut, r.pendingTarget));
  // Shown by `ctb kill`, which exits once it has answered: its latch halts nothing after that.
  else lines.push(unsavedHaltText(r.stateError ?? 'no answer', r.saveError ?? 'no answer', r.stateConfigProblem !== undefined, r.stateTimedOut, 'cli'));
  if (r.flatten) lines.push(`Close positions: ${r.flatten.summary}`);
  if (r.checklist.length > 0) {
    lines.push(`Incident #${r.incidentId} — manual-intervention checklist:`);
    // As `ctb incident` marks them: a cancel item the kill left failed or pending on a follow-up says so.
    for (const c of r.checklist) {
      const [box, state] = c.doneAt ? ['x', ''] : c.state === 'failed' ? ['!', ' — FAILED'] : c.state === 'pending' ? ['~', ' — PENDING'] : [' ', ''];
      lines.push(`  [${box}] ${c.item.padEnd(20)} ${c.label}${state}`);
    }
    lines.push('Tick each item when done: ctb incident done <item>   (ctb incident shows the list)');
  }
  return lines.join('\n');
}

export function renderIncident(r: IncidentShowResult): string {
  const lines = [r.halted ? `HALTED: ${r.haltedReason ?? 'no reason recorded'}` : 'Not halted.'];
  // An incident open on a bot that is not halted stays open until someone closes it: say which command does.
  if (!r.halted && r.current?.incident.status === 'open') {
    lines.push(openUnhaltedText(r.current.incident.id, 'cli'));
  }
  if (r.pendingKills.length > 0) lines.push(`${r.pendingKills.length} kill(s) saved while the database was down, not yet written.`);
  lines.push(r.current ? renderChecklist(r.current) : 'No incident has been opened.');
  return lines.join('\n');
}

export function renderItemDone(r: DoItemResult): string {
  if (r.state === 'pending') return `${r.item}: PENDING — ${r.summary}`;
  if (!r.ok) return `${r.item}: not done — ${r.summary}`;
  if (r.alreadyDone) return `${r.item}: already done by ${r.doneBy} at ${r.doneAt?.toISOString()}.`;
  return `${r.item}: done by ${r.doneBy} at ${r.doneAt?.toISOString()} — ${r.summary}`;
}

export function renderResume(r: ResumeResult): string {
  if (!r.lifted) return `Incident #${r.incidentId} closed (audit run #${r.auditRunId} passed); the bot was not halted, so nothing was lifted and its mode is unchanged.`;
  return `Halt lifted (audit run #${r.auditRunId} passed${r.incidentId ? `, incident #${r.incidentId} closed` : ''}). Trading resumes in paper mode; going live needs /mode live and two approvals.`;
}
