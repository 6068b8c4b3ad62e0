// Renders an AuditReport for the terminal: a table per checklist section (status, check, what was
// measured and, under a check that does not pass, its fix), wrapped at word boundaries to the
// terminal's width — never cut off mid-word. The summary line last.
import type { AuditReport, CheckResult, CheckStatus } from '../../services/audit/types.js';
import { auditThresholdLines } from '../../domain/golive-thresholds.js';
import { plain, type Style } from './style.js';
import { table } from './table.js';

const LABEL: Record<CheckStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' };

function label(status: CheckStatus, s: Style): string {
  return status === 'pass' ? s.green(LABEL[status]) : status === 'warn' ? s.yellow(LABEL[status]) : s.bold(s.red(LABEL[status]));
}

/** A line broken at spaces to fit `width`, its continuation lines indented by two spaces. */
function wrapWords(line: string, width: number): string[] {
  const out: string[] = [];
  let current = '';
  for (const word of line.split(' ')) {
    if (current !== '' && current.length + 1 + word.length > width) {
      out.push(current);
      current = `  ${word}`;
    } else {
      current = current === '' ? word : `${current} ${word}`;
    }
  }
  out.push(current);
  return out;
}

/** `width`: the terminal's columns (at least 80; 120 when unknown, e.g. piped). */
export function renderAuditTable(report: AuditReport, opts: { width?: number; style?: Style } = {}): string {
  const style = opts.style ?? plain;
  const width = Math.max(80, opts.width ?? 120);
  const idWidth = Math.min(30, Math.max(7, ...report.results.map((r) => r.id.length + 2)));
  // Borders and padding: 4 vertical rules; each column's width includes its 2 spaces of padding.
  const resultWidth = width - 8 - idWidth - 4;
  const sections = new Map<number, { title: string; results: CheckResult[] }>();
  for (const r of report.results) {
    const section = sections.get(r.section) ?? { title: r.sectionTitle, results: [] };
    section.results.push(r);
    sections.set(r.section, section);
  }
  const out: string[] = [];
  for (const [number, section] of sections) {
    out.push(style.bold(`${number}. ${section.title}`));
    out.push(table(
      ['STATUS', 'CHECK', 'RESULT'],
      section.results.map((r) => [label(r.status, style), r.id, r.fix ? `${r.value}\n${style.cyan('fix:')} ${r.fix}` : r.value]),
      { widths: [8, idWidth, resultWidth], style },
    ));
  }
  if (report.results.length === 0) out.push('  (no checks selected)');
  out.push('');
  // The thresholds that judged a stored run, and any of this environment the gate policy overrode.
  if (report.only === null && report.thresholds) out.push(...auditThresholdLines(report.thresholds).flatMap((l) => wrapWords(l, width)), '');
  out.push(report.runId ? `${report.summaryLine} — run #${report.runId}` : report.summaryLine);
  return out.join('\n');
}
