// Renders `ctb audit-log` for the terminal: one line per command, oldest first, aligned columns,
// then a footer saying what was filtered and whether older entries were left out.
import type { AuditLogResult } from '../../../commands/audit-log.js';

/** One line of at most `max` characters; a longer text ends at a word boundary (`--json` has it whole). */
const oneLine = (text: string, max: number) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.lastIndexOf(' ', max - 1);
  return `${flat.slice(0, cut > max / 2 ? cut : max - 1)}…`;
};

function filterText(f: AuditLogResult['filters']): string {
  const parts = [f.since ? `since ${f.since}` : null, f.user ? `user ${f.user}` : null, f.command ? `command ${f.command}` : null].filter(Boolean);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

export function renderAuditLogText(r: AuditLogResult): string {
  if (r.entries.length === 0) return `no commands recorded${filterText(r.filters)}`;
  const actorWidth = Math.min(24, Math.max(5, ...r.entries.map((e) => e.actor.length)));
  const lines = r.entries.map((e) => {
    const what = oneLine(e.args && e.args !== '{}' ? `${e.command} ${e.args}` : e.command, 80);
    const outcome = e.allowed ? 'allowed' : 'REFUSED';
    return `${e.at.replace(/\.\d{3}Z$/, 'Z')}  ${e.source.padEnd(6)}  ${oneLine(e.actor, 24).padEnd(actorWidth)}  ${outcome}  ${what}  → ${oneLine(e.result, 120)}`;
  });
  const shown = `${r.entries.length} ${r.entries.length === 1 ? 'entry' : 'entries'}${filterText(r.filters)}`;
  const footer = r.more ? `${shown}; older ones left out — raise --limit (now ${r.filters.limit}) or narrow --period` : shown;
  return [`time                  source  ${'actor'.padEnd(actorWidth)}  outcome  command → result`, ...lines, footer].join('\n');
}
