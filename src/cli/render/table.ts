// Owns terminal tables: cli-table3 draws them (rounded corners, columns sized to the widest cell,
// ANSI-aware widths, wrapping at word boundaries when a width is given); numbers are right-aligned.
// cli-table3 (a dozen CommonJS files) is required on the first table drawn, not when a command's
// renderer is imported: `ctb stats --json` imports the renderer and never draws.
import { createRequire } from 'node:module';
import type TableType from 'cli-table3';
import { withPlainTextShortcut, type WidthOf } from './cell-width.js';
import { plain, type Style } from './style.js';

let TableClass: typeof TableType | undefined;

/**
 * cli-table3, given the string-width it requires with the shortcut of cell-width.ts: its module
 * (in Node's require cache, where cli-table3's require finds it) exports the same measure, quicker
 * on plain text. Only the first require of cli-table3 reads it; what any table looks like is unchanged.
 */
function loadTable(): typeof TableType {
  if (TableClass) return TableClass;
  const require = createRequire(import.meta.url);
  const fromTable = createRequire(require.resolve('cli-table3'));
  const measure = fromTable('string-width') as WidthOf;
  const cached = fromTable.cache[fromTable.resolve('string-width')];
  if (cached?.exports === measure) cached.exports = withPlainTextShortcut(measure);
  TableClass = require('cli-table3') as typeof TableType;
  return TableClass;
}

export interface TableOptions {
  /** Columns (0-based) whose cells are right-aligned: amounts, counts, percentages. */
  right?: number[];
  /** Fixed column widths (content + 2 padding); cells wrap at word boundaries to fit. */
  widths?: Array<number | null>;
  style?: Style;
}

const ROUNDED = {
  top: '─', 'top-mid': '┬', 'top-left': '╭', 'top-right': '╮',
  bottom: '─', 'bottom-mid': '┴', 'bottom-left': '╰', 'bottom-right': '╯',
  left: '│', 'left-mid': '├', mid: '─', 'mid-mid': '┼', right: '│', 'right-mid': '┤', middle: '│',
};

export function table(header: string[], rows: string[][], opts: TableOptions = {}): string {
  const style = opts.style ?? plain;
  const right = new Set(opts.right ?? []);
  const Table = loadTable();
  const t = new Table({
    head: header.map((h) => style.bold(h)),
    chars: { ...ROUNDED, 'left-mid': '', mid: '', 'mid-mid': '', 'right-mid': '' },
    style: { head: [], border: [], 'padding-left': 1, 'padding-right': 1 },
    colAligns: header.map((_, i) => (right.has(i) ? 'right' : 'left')),
    ...(opts.widths ? { colWidths: opts.widths, wordWrap: true, wrapOnWordBoundary: true } : {}),
  });
  for (const row of rows) t.push(row);
  return t.toString();
}
