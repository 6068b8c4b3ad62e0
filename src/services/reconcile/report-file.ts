// Owns where reports are written: LOG_DIR/reports/<name>-<UTC stamp>.json (the checklist asks for
// reconciliation and ROI reports beside the logs; backups snapshot that folder).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function writeReportFile(logDir: string, name: string, at: Date, report: unknown): Promise<string> {
  const dir = join(logDir, 'reports');
  await mkdir(dir, { recursive: true });
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const path = join(dir, `${name}-${stamp}.json`);
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`, { mode: 0o640 });
  return path;
}
