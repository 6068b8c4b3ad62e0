// Renders a go-live audit report (`/golive audit`) as Block Kit: the verdict, every failing check with
// what was measured and its one-line fix, the warnings, and how many passed. A pure function of the
// AuditReport JSON (docs/audit-json.md); the reply helpers add the paper/LIVE badge.
import { auditThresholdLines } from '../../domain/golive-thresholds.js';
import type { AuditReport, CheckResult } from '../../services/audit/types.js';
import { actorLabel, slackDate } from './format.js';
import { context, escapeText, header, section, type KnownBlock, type SlackMessage } from './message.js';

const SECTION_LIMIT = 2900;
/** Slack's limit is 50; leave room for the badge the reply helpers add. */
const MAX_BLOCKS = 48;

/** Passing checks whose measured value people should still read when it lists something. */
const FOR_INFORMATION: Record<string, (c: CheckResult) => boolean> = {
  'golive.paper_positions': (c) => ((c.details?.['paperSetAside'] as unknown[] | undefined)?.length ?? 0) > 0,
};

function checkLine(c: CheckResult): string {
  const icon = c.status === 'fail' ? ':x:' : c.status === 'warn' ? ':warning:' : ':information_source:';
  const fix = c.fix ? `\n      ↳ _Fix:_ ${escapeText(c.fix)}` : '';
  return `${icon} *${escapeText(c.title)}* — ${escapeText(c.value)} \`${c.id}\`${fix}`;
}

/** Lines packed into as few sections as Slack's 3000-character limit allows. */
function packed(title: string, lines: string[]): KnownBlock[] {
  const out: string[] = [];
  let current = title;
  for (const line of lines) {
    const piece = line.length > SECTION_LIMIT - 20 ? `${line.slice(0, SECTION_LIMIT - 21)}…` : line;
    if (current.length + 1 + piece.length > SECTION_LIMIT) {
      out.push(current);
      current = piece;
    } else current = `${current}\n${piece}`;
  }
  out.push(current);
  return out.map(section);
}

export function renderAuditVerdict(r: AuditReport): SlackMessage {
  const failing = r.results.filter((c) => c.status === 'fail');
  const warnings = r.results.filter((c) => c.status === 'warn');
  const passed = r.results.filter((c) => c.status === 'pass');
  const kind = r.dryRun ? 'dry run' : 'full run';
  const blocks: KnownBlock[] = [
    header(r.ok ? 'Go-live audit passed' : 'Go-live audit FAILED'),
    section(
      `${r.ok ? ':white_check_mark:' : ':x:'} *${escapeText(r.summaryLine)}*\nRun #${r.runId} by ${actorLabel(r.actor)} at ${slackDate(new Date(r.at))}`,
    ),
  ];
  if (failing.length > 0) blocks.push(...packed(`*Failing checks (${failing.length})* — each blocks going live until fixed:`, failing.map(checkLine)));
  if (warnings.length > 0) blocks.push(...packed(`*Warnings (${warnings.length})* — allowed, but read them:`, warnings.map(checkLine)));
  const notes = passed.filter((c) => FOR_INFORMATION[c.id]?.(c));
  if (notes.length > 0) blocks.push(...packed('*For information* — passing:', notes.map(checkLine)));
  // Which thresholds judged the run, and any of this process's environment the gate policy overrode.
  if (r.only === null && r.thresholds) blocks.push(context(escapeText(auditThresholdLines(r.thresholds).join('\n'))));
  const passedText = passed.length > 0 ? `${passed.length} of ${r.summary.total} checks passed` : 'no check passed';
  const footer = context(
    `${passedText} · ${kind}, ${r.mode === 'unknown' ? 'mode unknown (a stale armed engine may resume LIVE trading: see mode.state)' : `${r.mode} mode`}${r.armed ? ', this process armed' : ''} · the whole report on the host: \`ctb audit --json\`${r.ok ? ' · next: `/mode live` asks two approvers' : ''}`,
  );
  let body = blocks;
  if (body.length + 1 > MAX_BLOCKS) {
    body = [...body.slice(0, MAX_BLOCKS - 2), context(`(${body.length - (MAX_BLOCKS - 2)} more sections left out: \`ctb audit\` prints every line)`)];
  }
  const failingIds = failing.map((c) => c.id).join(', ');
  return {
    text: `${r.summaryLine}${failingIds ? ` — failing: ${failingIds}` : ''}`,
    blocks: [...body, footer],
  };
}

/** The ephemeral "working on it" note shown at once, before the audit runs. */
export function renderAuditRunning(opts: { dryRun: boolean }): SlackMessage {
  const text = `Running the go-live audit${opts.dryRun ? ' (dry run: read-only exchange calls)' : ''}… the verdict will be posted in this channel when it is done.`;
  return { text, blocks: [section(`:hourglass_flowing_sand: ${text}`)] };
}
