// Renders an AuditReport as a terminal table: status, check, measured value, and the fix under
// each line that does not pass; the summary line last.
import type { AuditReport, CheckStatus } from '../../services/audit/types.js';

const LABEL: Record<CheckStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' };

function clip(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

export function renderAuditTable(report: AuditReport, opts: { width?: number } = {}): string {
  const width = Math.max(80, opts.width ?? 120);
  const idWidth = Math.min(28, Math.max(5, ...report.results.map((r) => r.id.length)));
  const valueWidth = width - idWidth - 10;
  const lines: string[] = [];
  let section: number | undefined;
  for (const r of report.results) {
    if (r.section !== section) {
      section = r.section;
      lines.push(`${r.section}. ${r.sectionTitle}`);
    }
    lines.push(`  ${LABEL[r.status]}  ${r.id.padEnd(idWidth)}  ${clip(r.value, valueWidth)}`);
    if (r.fix) lines.push(`        ${' '.repeat(idWidth)}  fix: ${clip(r.fix, valueWidth - 5)}`);
  }
  if (report.results.length === 0) lines.push('  (no checks selected)');
  lines.push('');
  lines.push(report.runId ? `${report.summaryLine} — run #${report.runId}` : report.summaryLine);
  return lines.join('\n');
}
