// `ctb mode [status|paper|live|history]`: read the mode and its sign-off record, roll back to paper.
// `ctb mode live` explains that going live is requested in Slack, where two approvers sign.
import type { Command } from 'commander';
import {
  modeHistoryCommand, modeLiveCommand, modeLiveRefusedWithoutDatabase, modePaperCommand, modeStatusCommand,
  type ModeHistoryResult, type ModeLiveResult, type ModePaperResult, type ModeStatusResult,
} from '../../../commands/mode.js';
import { describeHolder } from '../../domain/engine-holder.js';
import { holderProgressPhrase } from '../../domain/engine-waiting.js';
import { engineLiveVerdict } from '../../domain/engine-live-readiness.js';
import { unknownModePhrase } from '../../domain/engine-mode.js';
import { liveWithdrawnPhrase } from '../../domain/live-withdrawal.js';
import { liveLeftOpenPhrase } from '../../domain/live-left-open.js';
import { describeStanding } from '../../domain/reconciliation-standing.js';
import type { AnnouncementState, SignOffRecord } from '../../services/mode/sign-off.js';
import { tradingStateText } from '../../domain/trading-state.js';
import { gateVerdictText } from '../../domain/golive-thresholds.js';
import type { AuditVerdict } from '../../services/mode-status.js';
import { changesAccount } from '../changes-account.js';
import type { CliIo } from '../io.js';
import type { CliRegistration } from '../program.js';
import { runCliCommand } from '../with-context.js';

function pausedBecause(r: ModeStatusResult): string {
  if (r.halted) return 'the bot is halted';
  if (r.engine.state === 'none') return 'no engine is running';
  if (r.engine.state === 'stale') return "the engine's lease is stale (it died or hung)";
  return 'the running engine is not armed: IS_LIVE is not true in its process';
}

/**
 * The differences are as reconciliation found them; a halt cancels every open order on Kraken (in a
 * process with the key) since. Whether it did is not in the database: say what may have happened, and
 * where to look now — never that it was cancelled.
 */
function haltNote(r: ModeStatusResult): string[] {
  const orders = r.reconciliation.differences.filter((d) => d.kind === 'unknown_order' || d.kind === 'order_closed_in_ledger');
  if (!r.halted || orders.length === 0) return [];
  return [`  (as found at ${r.reconciliation.at}; the halt cancels every open order on Kraken, so ${orders.length === 1 ? 'this order' : 'these orders'} may be gone already — ctb reconcile looks at Kraken now and lifts the block once nothing is unexplained)`];
}

/** The latest go-live audit as the gate (resume, /mode live) would judge it now. */
function auditLine(a: AuditVerdict | null): string {
  if (!a) return 'latest audit: none (run ctb audit)';
  return `latest audit: run #${a.id} ${gateVerdictText(a)} — ${a.dryRun ? 'dry run ' : ''}at ${a.at.toISOString()} by ${a.actor}: ${a.summary}`;
}

/** The mode, and why it is not the one the database asks for; unknown said plainly, never as paper. */
function modeLine(r: ModeStatusResult): string {
  if (r.mode === 'unknown') return `mode: UNKNOWN — ${unknownModePhrase(r.engine)}`;
  if (r.mode === 'paper' && r.liveWithdrawn) return `mode: PAPER — ${liveWithdrawnPhrase(r.liveWithdrawn)}`;
  return `mode: ${r.mode.toUpperCase()}${r.storedMode !== r.mode ? ` (database says ${r.storedMode}; trading ${r.mode} because ${pausedBecause(r)})` : ''}`;
}

/** The engine's arming: a stale holder's is its own (it trades again if it wakes). */
function armedLine(r: ModeStatusResult): string {
  if (r.engine.state === 'stale') return `armed (IS_LIVE): ${r.engine.armed ? 'yes' : 'no'}, in the stale engine's process`;
  return `armed (IS_LIVE): ${r.engine.state === 'running' ? (r.armed ? 'yes' : 'no') : 'no engine running'}`;
}

/** While paper: what of the engine /mode live (and the switch) would refuse now, and what to do; none when it is ready. */
function goingLiveLines(r: ModeStatusResult): string[] {
  if (r.storedMode !== 'paper') return [];
  const engine = engineLiveVerdict(r.engine);
  return engine.ok ? [] : [`going live: refused now — ${engine.reason}. ${engine.hint}`];
}

export function renderStatus(r: ModeStatusResult): string {
  const lines = [
    modeLine(r),
    ...(r.liveLeftOpen ? [`live positions: ${liveLeftOpenPhrase(r.liveLeftOpen)}`] : []),
    // What the engine does, as every other view says it (domain/engine-waiting.ts): a step, a halt, a gate's reason still true, or trading now.
    `engine: ${describeHolder(r.engine, holderProgressPhrase(r))}`,
    armedLine(r),
    `this shell: IS_LIVE=${r.shell.armed ? 'true' : 'false'}, ${r.shell.hasKrakenKeys ? 'Kraken keys' : 'no Kraken keys'}`,
    `halted: ${r.halted ? `yes${r.haltedReason ? ` (${r.haltedReason})` : ''}` : 'no'}`,
    ...describeStanding(r.reconciliation),
    ...haltNote(r),
    `trading state: ${tradingStateText(r.tradingState)}`,
    ...goingLiveLines(r),
    auditLine(r.latestAudit),
    `approvers: ${r.approvers.length > 0 ? r.approvers.join(', ') : '(none: set SLACK_APPROVERS)'} — approve with :${r.approvalEmoji}:`,
  ];
  if (r.openRequest) {
    const o = r.openRequest;
    lines.push(`open request #${o.id} by ${o.requester}: ${o.status}, ${o.standingApprovals} of ${o.approvalsNeeded} approvals, expires ${o.expiresAt}`);
  } else {
    lines.push('open request: none');
  }
  if (r.lastChange) lines.push(`last change: #${r.lastChange.id} ${r.lastChange.fromMode} → ${r.lastChange.toMode} at ${r.lastChange.decidedAt} — ${r.lastChange.outcome}`);
  return lines.join('\n');
}

export function renderSignOff(s: SignOffRecord): string {
  const lines = [
    `#${s.id} ${s.fromMode} → ${s.toMode}: ${s.status.toUpperCase()}`,
    `  requested by ${s.requester} (${s.requesterSource}) at ${s.createdAt}${s.reason ? ` — "${s.reason}"` : ''}`,
  ];
  if (s.toMode === 'live') {
    lines.push(`  expires ${s.expiresAt}; message ${s.message ? `${s.message.channel}/${s.message.ts}` : '(not posted)'}`);
    lines.push(`  audit at request: run ${s.audit.atRequest.runId ?? '—'} ${s.audit.atRequest.summary ?? ''}`.trimEnd());
    for (const a of s.approvals) lines.push(`  approval ${a.user} at ${a.addedAt}${a.withdrawnAt ? `, withdrawn at ${a.withdrawnAt}` : ''}`);
    for (const r of s.rejections) lines.push(`  rejection ${r.user} at ${r.addedAt}`);
    if (s.approvedAt) lines.push(`  quorum at ${s.approvedAt}`);
    if (s.audit.atSwitch.runId !== null) lines.push(`  audit at switch: run ${s.audit.atSwitch.runId} ${s.audit.atSwitch.summary ?? ''}`.trimEnd());
    if (s.snapshot) lines.push(`  snapshot ${s.snapshot.path}${s.snapshot.id ? ` (record ${s.snapshot.id})` : ''}`);
  }
  lines.push(`  outcome: ${s.outcome ?? '(pending)'}${s.decidedAt ? ` at ${s.decidedAt}` : ''}`);
  if (s.announcement) lines.push(`  announcement: ${announcementText(s.announcement)}`);
  return lines.join('\n');
}

/** Where a closing's announcement in its thread stands, as an operator reads it. */
export function announcementText(a: AnnouncementState): string {
  const alerted = a.overdueAlert ? `; raised as an alert at ${a.overdueAlert.at} for being late${a.overdueAlert.resolvedAt ? `, resolved at ${a.overdueAlert.resolvedAt}` : ''}` : '';
  return stateText(a) + alerted;
}

function stateText(a: AnnouncementState): string {
  const tries = `${a.attempts} attempt${a.attempts === 1 ? '' : 's'}`;
  switch (a.state) {
    case 'delivered':
      return `delivered at ${a.at} (${tries}${a.found ? '; found in the thread, posted by an earlier attempt' : ''})`;
    case 'failed':
      return `FAILED for good at ${a.at} after ${tries}: ${a.error ?? 'no reason recorded'} — not retried; fix it in Slack and tell the thread by hand`;
    case 'pending':
      if (a.retryAt) return `pending — ${tries}, the last failed: ${a.error ?? 'no reason recorded'}; next try at ${a.retryAt}`;
      return a.attempts === 0 ? 'pending — not tried yet' : `pending — attempt ${a.attempts} under way since ${a.at}`;
  }
}

export function renderHistory(r: ModeHistoryResult): string {
  if (r.records.length === 0) return 'no mode changes recorded yet';
  return r.records.map(renderSignOff).join('\n\n');
}

function renderPaper(r: ModePaperResult): string {
  const head = r.changed ? `switched to PAPER (was ${r.previousMode}); recorded as #${r.requestId}` : 'already in paper mode; nothing to switch';
  return r.withdrawnRequests.length > 0 ? `${head}\nwithdrew open live request(s): ${r.withdrawnRequests.map((id) => `#${id}`).join(', ')}` : head;
}

function renderLive(r: ModeLiveResult): string {
  return r.opened ? `request #${r.requestId} posted; expires ${r.expiresAt}` : `not requested: the go-live audit failed (${r.audit.summary})`;
}

const jsonFlag = (c: Command) => c.option('--json', 'print machine-readable JSON');

export const modeCli: CliRegistration = {
  register(program, io: CliIo, setExit) {
    const mode = program.command('mode').description('paper/live mode: status, roll back to paper, the sign-off history');
    const status = async (opts: { json?: boolean }) =>
      setExit(await runCliCommand(io, modeStatusCommand, {}, { json: Boolean(opts.json), render: renderStatus }));
    // No --json on `mode` itself: commander would take the flag from every subcommand for the parent.
    mode.action(() => status({}));
    jsonFlag(mode.command('status').description('the current mode, armed or not, halted or not, the open request')).action(status);
    jsonFlag(
      mode
        .command('paper')
        .description('switch to paper trading now (no approval needed) and withdraw any open live request')
        .option('--reason <text>', 'why, for the record'),
    ).action(async (opts: { json?: boolean; reason?: string }) =>
      setExit(await runCliCommand(io, modePaperCommand, opts.reason === undefined ? {} : { reason: opts.reason }, { json: Boolean(opts.json), render: renderPaper })),
    );
    // The step towards live trading (asked in Slack, signed by two approvers; refused here): never a guess at a word.
    jsonFlag(
      changesAccount(mode
        .command('live'))
        .description('going live is requested in Slack with /mode live and signed by two approvers; this explains how')
        .option('--reason <text>', 'why, for the record'),
    ).action(async (opts: { json?: boolean; reason?: string }) =>
      setExit(await runCliCommand(io, modeLiveCommand, opts.reason === undefined ? {} : { reason: opts.reason }, {
        json: Boolean(opts.json), render: renderLive,
        // Refused here whatever the database says: with it down, the refusal still, and why its hint is missing.
        withoutDatabase: modeLiveRefusedWithoutDatabase,
      })),
    );
    jsonFlag(
      mode
        .command('history')
        .description('the sign-off record of every mode change, newest first')
        .option('--limit <n>', 'how many records (1-500)', '20')
        .option('--id <n>', 'only this request'),
    ).action(async (opts: { json?: boolean; limit: string; id?: string }) =>
      setExit(
        await runCliCommand(io, modeHistoryCommand, { limit: opts.limit, ...(opts.id === undefined ? {} : { id: opts.id }) }, { json: Boolean(opts.json), render: renderHistory }),
      ),
    );
  },
};
