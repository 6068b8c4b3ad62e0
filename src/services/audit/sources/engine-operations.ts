// Owns which LOG_DIR, SLACK_APPROVERS and alert channels the audit's log, approvers and alerting
// checks judge: the engine's, as its process recorded them with the gate policy when it took the
// engine lease — a shell may point LOG_DIR at an empty directory, or list approvers and alert
// channels the engine does not have — else, before any engine recorded them, this process's own.
import { access, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import { resolve } from 'node:path';
import { slackAlertsChannel } from '../../../alerts/sink.js';
import { emailConfigured, emailRecipients } from '../../../email/smtp.js';
import type { AuditContext } from '../types.js';

type Ctx = Pick<AuditContext, 'config'> & { engineLimits?: AuditContext['engineLimits'] };

export interface Judged<T> {
  value: T;
  source: 'engine' | 'process';
  /** Whose value it is, as an operator reads it: "the engine's process h:1 (worker), recorded at …". */
  from: string;
}

function judged<T>(ctx: Ctx, recorded: T | undefined, mine: () => T): Judged<T> {
  const r = ctx.engineLimits ?? null;
  if (r && recorded !== undefined) {
    return { value: recorded, source: 'engine', from: `the engine's process ${r.recordedBy}, recorded at ${r.recordedAt.toISOString()}` };
  }
  return { value: mine(), source: 'process', from: "this process's (no engine has recorded it in this database yet)" };
}

export function judgedLogDir(ctx: Ctx): Judged<string> {
  return judged(ctx, ctx.engineLimits?.limits.logDir, () => resolve(ctx.config.LOG_DIR));
}

export function judgedApprovers(ctx: Ctx): Judged<string[]> {
  return judged(ctx, ctx.engineLimits?.limits.slackApprovers, () => [...ctx.config.SLACK_APPROVERS]);
}

export function judgedAlertChannels(ctx: Ctx): Judged<{ slack: string | null; email: string[] | null }> {
  return judged(ctx, ctx.engineLimits?.limits.alertChannels, () => ({
    slack: slackAlertsChannel(ctx.config), email: emailConfigured(ctx.config) ? emailRecipients(ctx.config) : null,
  }));
}

/** Why `dir` cannot be read as a directory from this host; null when it can. */
export async function unreadableDir(dir: string): Promise<string | null> {
  try {
    if (!(await stat(dir)).isDirectory()) return 'it is not a directory here';
    await access(dir, constants.R_OK | constants.X_OK);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'it does not exist on this host';
    if (code === 'EACCES' || code === 'EPERM') return 'this user may not read it';
    return `reading it failed (${code ?? 'unknown error'})`;
  }
}

/**
 * The LOG_DIR a log check reads: the engine's when recorded, with a failing outcome when that
 * directory cannot be read here (an empty or absent directory must not pass for a clean log).
 */
export async function logDirToRead(ctx: Ctx): Promise<{ dir: string; from: string; source: 'engine' | 'process'; unreadable: string | null }> {
  const j = judgedLogDir(ctx);
  return { dir: j.value, from: j.from, source: j.source, unreadable: j.source === 'engine' ? await unreadableDir(j.value) : null };
}

export function unreadableLogDirOutcome(l: { dir: string; from: string; unreadable: string | null }) {
  return {
    status: 'fail' as const,
    value: `LOG_DIR ${l.dir} (${l.from}) cannot be read from this host: ${l.unreadable}`,
    fix: "Run the audit on the engine's host (or where its LOG_DIR is mounted at the same path): the engine's logs are the ones judged.",
    details: { logDir: l.dir, logDirFrom: l.from },
  };
}
