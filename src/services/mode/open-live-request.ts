// Owns opening a paper → live change request: the preconditions (this process armed, not halted,
// the engine holding the lease running armed on Kraken's feed, enough approvers, Slack reachable, no other open request), the go-live audit at request time, the row,
// and the message in SLACK_OPS_CHANNEL whose reactions are the approvals. The request's times are
// the database's (it expires MODE_CHANGE_TTL after the database's now() when it was written), the
// clock every replica judges its expiry by.
import type { Actor } from '../../domain/actor.js';
import type { ModeChangeRequest } from '../../db/schema/index.js';
import { AppError } from '../../errors.js';
import { getBotState } from '../bot-state.js';
import { readEngineVerdict } from './engine-verdict.js';
import { expireOverdueRequests, type ExpireRequestsDeps } from './expire-requests.js';
import type { GoLiveAuditResult, LiveSwitchPortDeps, LiveSwitchPorts } from './ports.js';
import { liveApprovers } from './live-approvers.js';
import { APPROVALS_NEEDED } from './records.js';
import { databaseNow } from '../../db/queries/database-clock.js';
import { appendEvent, findOpenRequest, insertRequest, setRequestMessage, transition } from '../../db/queries/mode-change.js';

export type OpenLiveResult =
  | { ok: true; opened: true; request: ModeChangeRequest; audit: GoLiveAuditResult; approvers: string[] }
  | { ok: false; opened: false; refusal: 'audit_failed'; audit: GoLiveAuditResult };

/** What opening a request needs: what the gate is handed, and what closing overdue requests needs. */
export type OpenLiveRequestDeps = LiveSwitchPortDeps & ExpireRequestsDeps;

/**
 * Going live from the terminal: refused by design, whatever the state (forbidden, exit 2), with how
 * it is done and `more` (what /mode live would be refused for now, or why that could not be read).
 */
export function terminalLiveRefusal(config: Pick<OpenLiveRequestDeps['config'], 'APPROVAL_EMOJI'>, more = ''): AppError {
  return new AppError('forbidden', 'live_needs_slack', 'Live trading is requested in Slack, not from the terminal.', {
    hint: `Run /mode live in Slack; two approvers other than you then react with :${config.APPROVAL_EMOJI}: on the request. ctb mode paper rolls back at once.${more}`,
  });
}

/** Refuses with what is wrong and how to fix it; throws AppError (conflict/config/forbidden). */
export async function checkLivePreconditions(ctx: Pick<OpenLiveRequestDeps, 'config' | 'db'>, ports: LiveSwitchPorts, actor: Actor): Promise<string[]> {
  const { config } = ctx;
  if (actor.source !== 'slack') {
    // The requester must be a Slack identity: "the requester never counts" can only be enforced
    // when the requester and the approvers are the same kind of id. Refused by design, whatever the
    // state: not a conflict that passes, so forbidden (exit 2 in the terminal). What the engine would
    // make /mode live refuse is said here too, so nobody goes to Slack to be refused there — when it
    // can be read: with the database down this refusal still stands, without that hint.
    const engine = await readEngineVerdict(ctx, ctx.db).catch(() => null);
    throw terminalLiveRefusal(config, !engine || engine.ok ? '' : ` /mode live would be refused now: ${engine.reason}. ${engine.hint}`);
  }
  if (!config.IS_LIVE) {
    throw new AppError('conflict', 'not_armed', 'This process is not armed for live trading: IS_LIVE is not true.', {
      hint: 'Set IS_LIVE=true with a Trade-only Kraken key (KRAKEN_API_KEY, KRAKEN_API_SECRET) in the environment or .env, restart the bot, then run /mode live again.',
    });
  }
  const state = await getBotState(ctx.db);
  if (state.halted) {
    throw new AppError('conflict', 'halted', `The bot is halted${state.haltedReason ? ` (${state.haltedReason})` : ''}; a halted bot cannot go live.`, {
      hint: 'Resolve the incident, run /mode resume (it needs a passing audit), then request live again.',
    });
  }
  if (state.mode === 'live') {
    throw new AppError('conflict', 'already_live', 'The bot is already in live mode.', { hint: 'See /mode status; /mode paper rolls back.' });
  }
  // As the switch will judge it, so approvers are never asked to sign a switch it would refuse.
  const engine = await readEngineVerdict(ctx, ctx.db);
  if (!engine.ok) throw new AppError('conflict', engine.code, `Live trading is refused: ${engine.reason}.`, { hint: engine.hint });
  // The approvers the audit judged: the engine's recorded SLACK_APPROVERS, not this process's.
  const eligible = await liveApprovers(ctx.db, config);
  const approvers = eligible.approvers.filter((a) => a !== actor.id);
  if (approvers.length < APPROVALS_NEEDED) {
    const engine = eligible.source !== 'SLACK_APPROVERS';
    throw new AppError('config', 'not_enough_approvers', `A live switch needs ${APPROVALS_NEEDED} approvers other than the requester; ${eligible.source} lists ${approvers.length}.`, {
      hint: `Add Slack user ids of at least two other people to SLACK_APPROVERS (comma-separated, e.g. U012ABCDEF,U034GHIJKL)${engine ? " in the engine's environment and restart the engine (ctb start): its list is the one approvals are judged by" : ' and restart'}.`,
    });
  }
  if (!ports.announcer.available) {
    throw new AppError('conflict', 'slack_not_configured', 'There is no Slack channel to collect approvals in.', {
      hint: 'Set SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN) and SLACK_OPS_CHANNEL, and restart.',
    });
  }
  return approvers;
}

async function refuseIfOpen(ctx: OpenLiveRequestDeps, ports: LiveSwitchPorts): Promise<void> {
  await expireOverdueRequests(ctx, ports);
  const open = await findOpenRequest(ctx.db);
  if (open) {
    throw new AppError('conflict', 'request_open', `Change request #${open.id} (by ${open.requester}) is still ${open.status}.`, {
      hint: `Approvers react on that message until ${open.expiresAt.toISOString()}, or run /mode paper to withdraw it.`,
    });
  }
}

export async function openLiveRequest(
  ctx: OpenLiveRequestDeps,
  ports: LiveSwitchPorts,
  input: { actor: Actor; reason?: string | undefined },
): Promise<OpenLiveResult> {
  const { actor } = input;
  const approvers = await checkLivePreconditions(ctx, ports, actor);
  await refuseIfOpen(ctx, ports);

  const audit = await ports.gate(ctx, { actor, purpose: 'request' });
  if (!audit.passed) return { ok: false, opened: false, refusal: 'audit_failed', audit };

  let request: ModeChangeRequest;
  try {
    request = await ctx.db.transaction(async (tx) => {
      const now = await databaseNow(tx);
      const expiresAt = new Date(now.getTime() + ctx.config.MODE_CHANGE_TTL);
      const row = await insertRequest(tx, {
        requester: actor.id, requesterSource: actor.source, fromMode: 'paper', toMode: 'live', status: 'requested',
        reason: input.reason ?? null, createdAt: now, expiresAt, auditRunId: audit.auditRunId, auditSummary: audit.summary,
        criteria: audit.checks,
      });
      await appendEvent(tx, { requestId: row.id, at: now, kind: 'requested', actor: actor.id, details: { reason: input.reason ?? null, auditRunId: audit.auditRunId } });
      return row;
    });
  } catch (err) {
    if ((err as { cause?: { code?: string } }).cause?.code === '23505') {
      // Another operator opened one between our check and our insert: the unique index decided.
      await refuseIfOpen(ctx, ports);
    }
    throw err;
  }

  let posted: { channel: string; ts: string };
  try {
    posted = await ports.announcer.postRequest({
      requestId: request.id, requester: actor.id, reason: request.reason, fromMode: 'paper', toMode: 'live',
      audit: { passed: audit.passed, summary: audit.summary, auditRunId: audit.auditRunId }, checks: audit.checks,
      approvers, approvalsNeeded: APPROVALS_NEEDED, approvalEmoji: ctx.config.APPROVAL_EMOJI,
      rejectionEmoji: ctx.config.REJECTION_EMOJI, expiresAt: request.expiresAt,
    });
  } catch (err) {
    const message = err instanceof AppError ? err.message : 'the Slack API call failed';
    await ctx.db.transaction(async (tx) => {
      const now = await databaseNow(tx);
      const failed = await transition(tx, request.id, ['requested'], 'failed', {
        outcome: `could not post the request to Slack: ${message}`, decidedAt: now, decidedBy: 'system',
      });
      if (failed) await appendEvent(tx, { requestId: request.id, at: now, kind: 'failed', actor: 'system', details: { reason: 'post_failed', message } });
    });
    ctx.logger.error({ err, requestId: request.id }, 'could not post the live change request');
    throw new AppError('retryable', 'request_not_posted', `Change request #${request.id} could not be posted to Slack (${message}), so it was closed.`, {
      hint: 'Check the bot is in SLACK_OPS_CHANNEL and Slack is reachable, then run /mode live again.',
      cause: err,
    });
  }
  const updated = await ctx.db.transaction(async (tx) => {
    const row = await setRequestMessage(tx, { id: request.id, channel: posted.channel, ts: posted.ts });
    await appendEvent(tx, { requestId: request.id, at: await databaseNow(tx), kind: 'posted', actor: 'system', details: posted });
    return row;
  });
  ctx.logger.info({ requestId: request.id, requester: actor.id, channel: posted.channel, ts: posted.ts }, 'live change request opened');
  return { ok: true, opened: true, request: updated ?? request, audit, approvers };
}

