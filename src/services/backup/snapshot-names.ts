// Owns how snapshot directories are named: the UTC time they were taken, `20260105T120000Z`, with
// `-2`, `-3`… when two are taken in one second. Names sort in time order and parse back to a time.
const NAME = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z(?:-(\d+))?$/;

export function snapshotStamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

export function parseSnapshotName(name: string): { at: Date; seq: number } | null {
  const m = NAME.exec(name);
  if (!m) return null;
  const at = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  return Number.isNaN(at.getTime()) ? null : { at, seq: m[7] ? Number(m[7]) : 1 };
}

export function compareSnapshotNames(a: string, b: string): number {
  const pa = parseSnapshotName(a);
  const pb = parseSnapshotName(b);
  if (!pa || !pb) return a.localeCompare(b);
  return pa.at.getTime() - pb.at.getTime() || pa.seq - pb.seq;
}
