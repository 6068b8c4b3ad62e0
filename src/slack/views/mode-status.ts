// Renders `/mode status` and `/golive status` results.
import type { GoLiveStatusResult } from '../../../commands/golive-status.js';
import type { ModeStatusResult, OpenModeRequest } from '../../../commands/mode-status.js';
import { renewedEveryPhrase, type EngineHolderView } from '../../domain/engine-holder.js';
import { engineLiveVerdict } from '../../domain/engine-live-readiness.js';
import { holderProgressPhrase } from '../../domain/engine-waiting.js';
import { unknownModePhrase, type EngineMode } from '../../domain/engine-mode.js';
import type { ShellView } from '../../services/engine-lease/holder-view.js';
import type { AuditVerdict, ModeStatus } from '../../services/mode-status.js';
import { gateVerdictText } from '../../domain/golive-thresholds.js';
import { liveWithdrawnPhrase, type LiveWithdrawn } from '../../domain/live-withdrawal.js';
import { liveLeftOpenPhrase, type LiveLeftOpen } from '../../domain/live-left-open.js';
import { actorLabel, slackDate } from './format.js';
import { tradingStateField } from './trading-state.js';
import { context, escapeText, fields, section, type SlackMessage } from './message.js';

/** The mode unknown, said plainly: whose lease is stale, that it may resume LIVE trading, and what cancels. */
export function unknownModeLine(engine: EngineHolderView): string {
  return `:warning: *MODE UNKNOWN* — ${escapeText(unknownModePhrase(engine, '`/kill`'))}`;
}

/** The mode's field: LIVE, paper, or unknown with why (never "paper" for a stale armed holder). */
export function tradingModeField(mode: EngineMode): string {
  if (mode === 'unknown') return '*UNKNOWN* — the stale engine may resume LIVE trading if it wakes';
  return mode === 'live' ? 'LIVE' : 'paper';
}

/** The engine's arming: a stale holder's is its own (it trades again if it wakes). */
export function armedField(s: Pick<ModeStatus, 'engine' | 'armed'>): string {
  if (s.engine.state === 'stale') return `${s.engine.armed ? 'yes' : 'no'}, in the stale engine's process`;
  return s.engine.state === 'running' ? (s.armed ? 'yes' : 'no') : 'no engine running';
}

/** Paper because an engine took the lease unarmed and withdrew the live approval: which, when, and what going live takes now. */
export function paperWithdrawnLine(w: LiveWithdrawn): string {
  return `:page_facing_up: *PAPER* — ${escapeText(liveWithdrawnPhrase(w))}`;
}

/** While paper: the open live positions Kraken holds and the ways out. */
export function liveLeftOpenLine(l: LiveLeftOpen): string {
  return `:warning: *Live positions unmanaged* — ${escapeText(liveLeftOpenPhrase(l))}`;
}

function modeLine(s: ModeStatus): string {
  if (s.mode === 'unknown') return unknownModeLine(s.engine);
  if (s.mode === 'live') return ':red_circle: *LIVE* — trading real money';
  if (s.requestedMode === 'live' && s.halted) return ':page_facing_up: *PAPER* — live was requested, but the engine is halted';
  if (s.requestedMode === 'live' && s.engine.state !== 'running') return ':page_facing_up: *PAPER* — live was approved, but no engine is running';
  if (s.requestedMode === 'live') return ':page_facing_up: *PAPER* — live was approved, but the running engine is not armed (IS_LIVE is false)';
  if (s.liveWithdrawn) return paperWithdrawnLine(s.liveWithdrawn);
  if (s.engine.state !== 'running') return ':page_facing_up: *PAPER* — no engine is running';
  return ':page_facing_up: *PAPER* — simulated fills on real prices';
}

/**
 * The engine's holder: who runs it, armed or not, keys or not, how fresh its heartbeat is, and — as the
 * banner and `ctb mode status` say it — whether its engine waits (and why) or trades now.
 */
export function engineLine(s: ModeStatus): string {
  const e = s.engine;
  if (e.state === 'none') return 'no engine running';
  const who = `\`${escapeText(`${e.host}:${e.pid}`)}\` (${escapeText(e.role ?? '?')}, feed ${escapeText(e.feed ?? '?')}) — ${e.armed ? '*armed*' : 'not armed'}, ${e.hasKrakenKeys ? 'Kraken keys' : 'no Kraken keys'}`;
  const beat = e.heartbeatAt ? `${slackDate(new Date(e.heartbeatAt))} (${Math.round((e.heartbeatAgeMs ?? 0) / 1000)}s ago)` : '—';
  if (e.state === 'stale') return `:warning: *stale* since ${slackDate(new Date(e.staleSince!))} — ${who}, last heartbeat ${beat}`;
  if (e.renewalOverdue && e.processGone) {
    return `:warning: ${who}, last renewed its lease ${beat}: *its process is gone* from that host; a standby there takes the lease over at once`;
  }
  if (e.renewalOverdue) {
    return `:warning: ${who}, last renewed its lease ${beat}${escapeText(renewedEveryPhrase(e))}: `
      + `*it may have stopped* (killed or hung); a standby may take the lease over from ${slackDate(new Date(e.staleAt!))}, when it goes stale`;
  }
  const progress = holderProgressPhrase(s);
  return `${who}, heartbeat ${beat}${progress === undefined ? '' : `; ${escapeText(progress)}`}`;
}

function reconciliationLine(s: ModeStatus): string | null {
  const r = s.reconciliation;
  if (r.blocked && r.pending) return `:no_entry: *blocked* — taken over from \`${escapeText(r.takenOverFrom ?? 'a dead engine')}\`; halted until a reconciliation passes`;
  if (r.blocked) return `:no_entry: *blocked* — ${r.differences.length} order(s) or fill(s) on Kraken the bot cannot explain; see \`ctb reconcile\``;
  return r.reconciledThrough ? `passed, through ${slackDate(new Date(r.reconciledThrough))}` : null;
}

export function shellLine(s: ShellView): string {
  return `IS_LIVE ${s.armed ? 'true' : 'false'}, ${s.hasKrakenKeys ? 'Kraken keys' : 'no Kraken keys'}`;
}

function haltLine(s: ModeStatus): string {
  if (!s.halted) return 'no';
  const parts = [':octagonal_sign: *yes*'];
  if (s.haltedReason) parts.push(`— ${escapeText(s.haltedReason)}`);
  if (s.haltedBy) parts.push(`by ${actorLabel(s.haltedBy)}`);
  if (s.haltedAt) parts.push(`at ${slackDate(s.haltedAt)}`);
  return parts.join(' ');
}

function statusFields(s: ModeStatus): Array<[string, string]> {
  const out: Array<[string, string]> = [
    ['Trading mode', tradingModeField(s.mode)],
    ['Requested mode', s.requestedMode],
    ['Armed (IS_LIVE)', armedField(s)],
    ['Halted', haltLine(s)],
    ['Engine', engineLine(s)],
    ['This process', shellLine(s.shell)],
  ];
  const rec = reconciliationLine(s);
  if (rec) out.push(['Reconciliation with Kraken', rec]);
  out.push(['Trading state', tradingStateField(s.tradingState)]);
  return out;
}

function armedText(s: ModeStatus): string {
  if (s.engine.state === 'none') return 'no engine running';
  if (s.engine.state === 'stale') return `engine stale${s.mode === 'unknown' ? ', armed: it may resume LIVE trading if it wakes' : ''}`;
  return s.armed ? 'armed' : 'not armed';
}

function openRequestLine(r: OpenModeRequest): string {
  const where = r.message ? ` (approvers react on the request message in <#${r.message.channel}>)` : '';
  return `*Open request #${r.id}* to go ${r.toMode} by ${actorLabel(r.requester)} ${slackDate(r.createdAt)}: `
    + `${r.approvals} of ${r.approvalsNeeded} approvals${where}, expires ${slackDate(r.expiresAt)}`;
}

/** The notification's tail: why paper when the live approval was withdrawn, and live positions nobody manages. */
function notificationNotes(s: Pick<ModeStatus, 'liveWithdrawn' | 'liveLeftOpen'>): string {
  const withdrawn = s.liveWithdrawn ? `; live approval withdrawn (#${s.liveWithdrawn.requestId}): an engine took the lease without IS_LIVE` : '';
  const left = s.liveLeftOpen ? `; ${s.liveLeftOpen.count} open live position${s.liveLeftOpen.count === 1 ? '' : 's'} left on Kraken, unmanaged` : '';
  return withdrawn + left;
}

export function renderModeStatus(result: ModeStatusResult): SlackMessage {
  const open = result.openRequest;
  const request = open ? `, open request #${open.id} (${open.approvals}/${open.approvalsNeeded} approvals)` : '';
  return {
    text: `Mode: ${result.mode}${result.halted ? ' (halted)' : ''}, requested ${result.requestedMode}, ${armedText(result)}${request}${notificationNotes(result)}`,
    blocks: [section(modeLine(result)), ...(result.liveLeftOpen ? [section(liveLeftOpenLine(result.liveLeftOpen))] : []), fields(statusFields(result)), ...(open ? [section(openRequestLine(open))] : [])],
  };
}

export function auditLine(audit: AuditVerdict | null): string {
  if (!audit) return 'No go-live audit has run yet. Run `/golive audit`.';
  // What the gate would say of it: a pass by looser thresholds than the policy is not a pass for it.
  const verdict = !audit.passed ? ':x: *failed*' : audit.thresholdRefusal ? `:warning: *${escapeText(gateVerdictText(audit))}*` : ':white_check_mark: *passed*';
  const kind = audit.dryRun ? ' (dry run)' : '';
  return `${verdict}${kind} ${slackDate(audit.at)} by ${actorLabel(audit.actor)} — ${escapeText(audit.summary)}`;
}

/** While paper: what of the engine `/mode live` (and the switch) would refuse now, and what to do; null when it is ready. */
function goingLiveBlocker(s: ModeStatus): string | null {
  if (s.requestedMode !== 'paper') return null;
  const engine = engineLiveVerdict(s.engine);
  return engine.ok ? null : `:no_entry: *\`/mode live\` is refused now* — ${escapeText(engine.reason)}. ${escapeText(engine.hint)}`;
}

export function renderGoLiveStatus(result: GoLiveStatusResult): SlackMessage {
  const audit = result.latestAudit;
  const refused = audit?.passed && audit.thresholdRefusal;
  const blocker = goingLiveBlocker(result);
  const auditText = !audit ? 'never run' : refused ? `${gateVerdictText(audit)} (run at ${audit.at.toISOString()})` : `${gateVerdictText(audit)} at ${audit.at.toISOString()}`;
  return {
    text: `Go-live status: mode ${result.mode}${result.halted ? ' (halted)' : ''}, ${armedText(result)}, latest audit ${auditText}`,
    blocks: [
      section(modeLine(result)),
      ...(result.liveLeftOpen ? [section(liveLeftOpenLine(result.liveLeftOpen))] : []),
      fields(statusFields(result)),
      section(`*Latest go-live audit*\n${auditLine(audit)}`),
      ...(blocker ? [section(blocker)] : []),
      context('Going live needs a passing audit, a running engine armed (IS_LIVE=true) on the Kraken feed, and two approvers: `/mode live` starts the request.'),
    ],
  };
}
