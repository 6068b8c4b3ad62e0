// Block Kit for the kill switch: the /kill reply, the incident thread with one button per checklist
// item (closing positions asks for a confirmation first), a checklist tick, and the /mode resume
// reply. Pure functions of plain data; the reply helpers add the paper/LIVE badge.
import type { ChecklistItemKey, Incident, IncidentChecklistItem } from '../../db/schema/index.js';
import { CANCEL_ALL_STALE_MS, CANCEL_FOLLOW_UP_MS, triesCount } from '../../domain/cancel-handover.js';
import type { CancelReport } from '../../services/kill/cancel-everywhere.js';
import { answeredRequest, awaitingFills, checklistSpec, openUnhaltedText, takenOverText, type ShownChecklistItem } from '../../domain/incident-checklist.js';
import { cancelledPhrase, clearCancelPhrase, confirmedClearPhrase, handedOffPhrase } from '../../domain/kraken-handoff.js';
import { localHaltText, savedFollowUpText, unsavedHaltText } from '../../domain/local-halt.js';
import type { DoItemResult } from '../../services/kill/incident.js';
import type { KillResult } from '../../services/kill/kill.js';
import type { ResumeResult } from '../../services/kill/resume.js';
import { actorLabel, slackDate } from './format.js';
import { context, escapeText, header, section, textMessage, type KnownBlock, type SlackMessage } from './message.js';

/** The action_id of an item's button; its value is the incident id. */
export const INCIDENT_ITEM_ACTION = /^incident_item_(cancel_orders|close_positions|reconcile_ledger|notify_stakeholders)$/;
export const incidentItemActionId = (item: ChecklistItemKey) => `incident_item_${item}`;

export function cancelLines(cancel: CancelReport): string[] {
  return cancel.venues.map((v) => {
    const cancelled = cancelledPhrase(v);
    const by = v.handedOff ? ` (${escapeText(handedOffPhrase(v.handedOff, { request: false }))})` : '';
    if (v.confirmed) return `:white_check_mark: *${v.venue}*${by}: ${confirmedClearPhrase(v, 'none left open')}`;
    const left = v.survivors.map((s) => `${escapeText(s.symbol)} ${s.side} ${escapeText(s.quantity)} (${escapeText(s.exchangeOrderId)})`).join(', ');
    // Never tried here (no key, and no bot answered for it): no cancel failed, none was sent.
    if (v.attempts === 0 && v.canceled === null) return `:x: *${v.venue}*${by}: no cancel sent from here; could not confirm zero open orders${v.errors.length ? ` — ${escapeText(v.errors.at(-1)!)}` : ''}`;
    // Listed before a later cancel that answered or may have run: they may be cancelled since, never "still open".
    const earlier = v.listedBefore
      ? ` — listed open at try ${v.listedBefore.attempt}, before a later cancel: ${v.listedBefore.orders.map((s) => `${escapeText(s.symbol)} ${s.side} ${escapeText(s.quantity)} (${escapeText(s.exchangeOrderId)})`).join(', ')}` : '';
    return `:x: *${v.venue}*${by}: ${cancelled}; could not confirm zero open orders after ${triesCount(v.attempts)}${left ? ` — still open: ${left}` : earlier}${v.errors.length ? ` — ${escapeText(v.errors.at(-1)!)}` : ''}`;
  });
}

/** Orders still on their way after the halt: they may reach the exchange after the kill. */
function fenceLine(r: KillResult): string | null {
  if (!r.fence) return null;
  if (r.fence.error) return `:warning: Orders in flight at the halt could not be checked (${escapeText(r.fence.error)}): an order may still reach the exchange.`;
  if (r.fence.unresolved.length === 0) return null;
  const list = r.fence.unresolved.map((o) => `${o.mode} ${o.side} ${escapeText(o.symbol)}`).join(', ');
  return `:warning: ${r.fence.unresolved.length} order(s) were still on their way after the halt and may reach the exchange after this kill: ${list}.`;
}

export function renderKillReply(r: KillResult): SlackMessage {
  const fence = fenceLine(r);
  const confirmed = r.cancel.allConfirmed && fence === null;
  // Never live here: what was not confirmed, as the alert and the cancel item say it (a paper line may say none left open).
  const unconfirmed = r.notClear ? `zero open orders could not be confirmed — ${escapeText(r.notClear.why)}` : 'some open orders could not be confirmed cancelled';
  const cancelled = confirmed ? clearCancelPhrase(r.cancel.venues, r.krakenAccess) : unconfirmed;
  const headline = r.state === 'pending'
    // Neither halted nor switched to paper in the database yet: said as saved locally, pending.
    ? (r.stateTimedOut
      // Its write timed out and may still land: not said to be absent from the database.
      ? `Kill saved on the bot's host, not confirmed in the database (the write may still land): ${cancelled}; this process is halted, the halt and the switch to paper are pending until confirmed written.`
      : `Kill saved on the bot's host only, not yet in the database: ${cancelled}; this process is halted, the halt and the switch to paper are pending until written.`)
    : r.state === 'unsaved'
    ? (r.stateTimedOut
      ? `Kill not confirmed in the database (the write may still land), and the bot's host could not save it: ${cancelled}; until it is, only this process is sure to be halted, while it runs.`
      : `Kill not saved, neither in the database nor on the bot's host: ${cancelled}; only this process is halted, while it runs.`)
    : r.alreadyKilled
    ? `Already killed${r.incidentId !== null ? ` (incident #${r.incidentId})` : ''}: cancelled again, ${confirmed ? cancelled : `but ${unconfirmed}`}; the bot stays halted in paper.`
    // An incident left open on a bot halted since by someone else: this kill took that halt over.
    : r.joinedIncident && r.haltTakenOver
    ? `Killed: the bot was ${escapeText(takenOverText(r.haltTakenOver))}; ${confirmed ? `${cancelled}, ` : `but ${unconfirmed}: `}this kill took that halt over (only a resume lifts it now), switched to paper, joining incident #${r.incidentId} (still open).`
    // An incident left open on a bot that was trading: this kill is what halted it.
    : r.joinedIncident
    ? `Killed: the bot was not halted; ${confirmed ? `${cancelled}, ` : `but ${unconfirmed}: `}trading halted now, switched to paper, joining incident #${r.incidentId} (still open).`
    : confirmed
      ? `Killed: ${cancelled}, trading halted, switched to paper.`
      : `Killed, but ${unconfirmed}: trading halted, switched to paper.`;
  const blocks: KnownBlock[] = [];
  if (r.notice) blocks.push(section(`:information_source: ${escapeText(r.notice)}`));
  blocks.push(section(`${confirmed ? ':octagonal_sign:' : ':rotating_light:'} *${headline}*`), section(cancelLines(r.cancel).join('\n')));
  if (fence) blocks.push(section(fence));
  if (r.notClear) blocks.push(section(`:warning: Nothing is queued for a bot (it would cancel only on Kraken): ${escapeText(r.notClear.next)}.`));
  if (r.followUpSaved) blocks.push(section(`:warning: ${escapeText(savedFollowUpText(r.stateConfigProblem !== undefined))}`));
  if (r.followUp) {
    blocks.push(section('requestId' in r.followUp
      ? (r.followUp.runningBot
        ? `:hourglass_flowing_sand: Cancelling is handed on (request #${r.followUp.requestId}) to the running bot with the Kraken key (${escapeText(r.followUp.runningBot)}): it cancels and confirms, trying again until Kraken confirms (up to ${CANCEL_FOLLOW_UP_MS / 60_000} min), and its answer shows on the incident's cancel item and in the alerts channel. Until then orders may remain open on Kraken.`
        : `:warning: ${r.followUp.keylessBot ? `*The running bot ${escapeText(r.followUp.keylessBot)} has no Kraken key*` : `*${r.followUp.botKnown ? 'No bot with the Kraken key is running' : 'Whether a bot with the Kraken key is running is not known'}* (${escapeText(r.followUp.engine)})`}: orders may remain open on Kraken. Request #${r.followUp.requestId} waits ${CANCEL_ALL_STALE_MS / 60_000} min for a bot with the key to take it; ${r.krakenAccess === 'direct'
          ? "this bot has the key, but Kraken did not confirm (the kraken line above says why): kill again once Kraken answers, or cancel in Kraken's UI."
          : "kill again where the key is, or cancel in Kraken's UI."}`)
      : `:warning: The confirmation could not be handed on to the running bot (${escapeText(r.followUp.error)}): kill again or check Kraken.`));
  }
  if (r.resolvedAlert) blocks.push(section(`:white_check_mark: Kill alert (group ${r.resolvedAlert.group}) resolved: ${escapeText(r.resolvedAlert.confirmed)}.`));
  if (r.state === 'pending') {
    blocks.push(section(`:warning: ${escapeText(localHaltText("DATA_DIR on the bot's host", r.stateError ?? 'no answer', r.stateConfigProblem !== undefined, r.stateTimedOut))} This process is halted meanwhile.`));
  } else if (r.state === 'unsaved') {
    blocks.push(section(`:rotating_light: ${escapeText(unsavedHaltText(r.stateError ?? 'no answer', r.saveError ?? 'no answer', r.stateConfigProblem !== undefined, r.stateTimedOut))}`));
  } else if (r.incidentId !== null && !r.alreadyKilled) {
    blocks.push(section(`Incident #${r.incidentId} is open: the manual-intervention checklist is in the ops channel. \`/mode resume\` lifts the halt once it is done and an audit passes.`));
  }
  if (r.flatten) blocks.push(section(`${r.flatten.ok ? ':white_check_mark:' : ':x:'} Close positions: ${escapeText(r.flatten.summary)}`));
  return { text: r.notice ? `${r.notice} ${headline}` : headline, blocks };
}

const SUMMARY_MAX = 200;
function summaryOf(i: Pick<IncidentChecklistItem, 'outcome'>): string {
  const s = typeof i.outcome?.summary === 'string' ? i.outcome.summary : '';
  return escapeText(s.length > SUMMARY_MAX ? `${s.slice(0, SUMMARY_MAX - 1)}…` : s);
}

/** One checklist line: done (who, when, what it found), pending (handed over), failed (why), or to do. */
function itemLine(i: Pick<ShownChecklistItem, 'item' | 'label' | 'doneAt' | 'doneBy' | 'state' | 'requestId' | 'outcome' | 'waiting'>): string {
  if (i.doneAt) {
    const found = summaryOf(i);
    const answered = answeredRequest(i);
    return `:white_check_mark: ~${escapeText(i.label)}~ — ${actorLabel(i.doneBy ?? 'unknown')}${answered !== null ? ` (answering request #${answered})` : ''}, ${slackDate(i.doneAt)}${found ? ` — ${found}` : ''}`;
  }
  // A kill's follow-up the bot retries says when its next try is.
  if (i.state === 'pending' && typeof i.outcome?.nextTryAt === 'string') {
    return `:hourglass_flowing_sand: ${escapeText(i.label)} — *pending* (request #${i.requestId ?? '?'}): ${summaryOf(i)}`;
  }
  if (i.state === 'pending' && i.waiting) return `:hourglass_flowing_sand: ${escapeText(i.label)} — *pending*: ${escapeText(i.waiting.text)}`;
  // Its request could not be read: what was recorded when it was asked for, not a guess at who has it.
  if (i.state === 'pending') return `:hourglass_flowing_sand: ${escapeText(i.label)} — *pending* (request #${i.requestId ?? '?'})${summaryOf(i) ? `: ${summaryOf(i)}` : ''}`;
  if (awaitingFills(i)) return `:hourglass_flowing_sand: ${escapeText(i.label)} — *not done yet, awaiting the exchange's fills*: ${summaryOf(i)}`;
  if (i.state === 'failed') return `:x: ${escapeText(i.label)} — *failed*: ${summaryOf(i)}`;
  return `:white_square: ${escapeText(i.label)}`;
}

/**
 * The incident's checklist message. `botHalted` as bot_state says it when the message is drawn: an
 * incident still open on a bot not halted says so, and what closes it (as `ctb incident` does);
 * undefined when not read (nothing is said then).
 */
export function renderIncident(incident: Incident, items: ShownChecklistItem[], opts: { botHalted?: boolean } = {}): SlackMessage {
  const blocks: KnownBlock[] = [
    header(`Incident #${incident.id}: the bot was killed${incident.status === 'closed' ? ' (closed)' : ''}`),
    section(`*By* ${actorLabel(incident.openedBy)} (${incident.trigger}) ${slackDate(incident.openedAt)}\n*Reason:* ${escapeText(incident.reason)}`),
  ];
  if (incident.status === 'open' && opts.botHalted === false) blocks.push(section(`:warning: ${openUnhaltedText(incident.id, 'slack')}`));
  blocks.push(section(`*Manual-intervention checklist* — each button does (where the bot can) and records who and when:\n${items.map(itemLine).join('\n')}`));
  // No button for an item done or already handed over (its answer updates this message) — except
  // cancelling, never refused: "cancel again" stays while the incident is open, whatever its state.
  const undone = items.filter((i) => i.item === 'cancel_orders' || (!i.doneAt && i.state !== 'pending'));
  if (undone.length > 0 && incident.status === 'open') {
    blocks.push({
      type: 'actions',
      block_id: `incident_${incident.id}`,
      elements: undone.map((i) => ({
        type: 'button' as const,
        action_id: incidentItemActionId(i.item),
        value: String(incident.id),
        text: { type: 'plain_text' as const, text: i.label.slice(0, 75) },
        ...(checklistSpec(i.item).confirm
          ? {
              style: 'danger' as const,
              confirm: {
                title: { type: 'plain_text' as const, text: 'Close every open position?' },
                text: { type: 'mrkdwn' as const, text: 'This sells every open position at market now (live on Kraken when armed). It cannot be undone.' },
                confirm: { type: 'plain_text' as const, text: 'Close positions' },
                deny: { type: 'plain_text' as const, text: 'Cancel' },
              },
            }
          : {}),
      })),
    });
  }
  blocks.push(context('`ctb incident` shows the same checklist · `/mode resume` needs it done and a passing audit since the halt'));
  return { text: `Incident #${incident.id}: the bot was killed by ${incident.openedBy} — ${incident.reason}`, blocks };
}

/** A line a cancel again says while Kraken is slow (a call that missed its deadline, no further try sent). */
export function renderCancelProgress(line: string): SlackMessage {
  return textMessage(`:hourglass_flowing_sand: Cancel again: ${escapeText(line)}`);
}

export function renderChecklistTick(r: DoItemResult): SlackMessage {
  const label = checklistSpec(r.item).label;
  const summary = escapeText(r.summary);
  const text = r.state === 'pending'
    ? `:hourglass_flowing_sand: ${label}: pending — ${summary}`
    : !r.ok
    ? `:x: ${label}: not done — ${summary}`
    : r.alreadyDone
      ? `:information_source: ${label}: already done by ${actorLabel(r.doneBy ?? 'unknown')}${r.doneAt ? ` ${slackDate(r.doneAt)}` : ''}.`
      : `:white_check_mark: ${label}: done by ${actorLabel(r.doneBy ?? 'unknown')}${r.doneAt ? ` ${slackDate(r.doneAt)}` : ''} — ${summary}`;
  return { text, blocks: [section(text)] };
}

/** An item the engine's process answered after whoever asked stopped waiting (posted in the thread). */
export function renderChecklistAnswer(i: IncidentChecklistItem): SlackMessage {
  const label = checklistSpec(i.item).label;
  const text = i.state === 'done'
    ? `:white_check_mark: ${label}: done (asked by ${actorLabel(i.doneBy ?? 'unknown')}, request #${i.requestId ?? '?'}) — ${summaryOf(i)}`
    : awaitingFills(i)
      ? `:hourglass_flowing_sand: ${label}: not done yet, awaiting the exchange's fills (request #${i.requestId ?? '?'}) — ${summaryOf(i)}`
      : `:x: ${label}: failed (request #${i.requestId ?? '?'}) — ${summaryOf(i)}`;
  return { text, blocks: [section(text.slice(0, 2900))] };
}

export function renderResume(r: ResumeResult): SlackMessage {
  if (!r.lifted) {
    const closed = `Incident #${r.incidentId} closed (audit run #${r.auditRunId}); the bot was not halted, so nothing was lifted and its mode is unchanged.`;
    return { text: closed, blocks: [section(`:white_check_mark: ${closed}`)] };
  }
  const text = `Halt lifted: trading resumes in paper (audit run #${r.auditRunId}${r.incidentId !== null ? `, incident #${r.incidentId} closed` : ''}). Going live again needs the two-approver switch.`;
  return { text, blocks: [section(`:arrow_forward: ${text}`)] };
}
