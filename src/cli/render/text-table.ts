// A plain terminal table: columns padded to their widest cell, numbers right-aligned.
export function textTable(header: string[], rows: string[][], opts: { right?: number[] } = {}): string {
  const right = new Set(opts.right ?? []);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
