// Owns where reports are written: REPORTS_DIR/<name>-<UTC stamp>.json (the checklist asks for
// reconciliation and ROI reports to be kept; every backup snapshot copies REPORTS_DIR).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function writeReportFile(reportsDir: string, name: string, at: Date, report: unknown): Promise<string> {
  await mkdir(reportsDir, { recursive: true });
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const path = join(reportsDir, `${name}-${stamp}.json`);
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`, { mode: 0o640 });
  return path;
}
