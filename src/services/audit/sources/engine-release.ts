// Owns which release the audit's release check judges: the engine's — the build that trades — as its
// process recorded it with the gate policy when it took the engine lease, never the auditing shell's
// checkout, which may be another build (a laptop, a web replica). The live switch (purpose golive)
// judges only the release of the process holding the engine lease now: one recorded by a process that
// has since stopped, or none at all, is not judged (it fails, saying to start the engine on the
// release). An operator's audit falls back to this process's own build before any engine recorded one.
import type { ReleaseInfo } from '../../../domain/release.js';
import { notTheHoldersRecord } from './lease-holder-record.js';
import type { AuditContext } from '../types.js';

type Ctx = Pick<AuditContext, 'engineLimits' | 'db' | 'config'>;

export type JudgedRelease =
  | { info: ReleaseInfo; source: 'engine' | 'process'; from: string }
  /** Nothing the live switch may judge: `why` says what is missing, `fix` what to do. */
  | { info: null; source: 'engine' | 'process'; from: string; why: string; fix: string };

const RESTART = 'Restart the engine (ctb start) on the release to go live with: it records the release it runs.';

export async function judgedRelease(ctx: Ctx, own: () => Promise<ReleaseInfo>, purpose: 'golive' | 'operator' = 'operator'): Promise<JudgedRelease> {
  const r = ctx.engineLimits ?? null;
  if (r === null) {
    const from = "this process's build: no engine has recorded its release in this database yet";
    if (purpose !== 'golive') return { info: await own(), source: 'process', from };
    return {
      info: null, source: 'process', from,
      why: 'no engine has recorded the release it runs in this database (the build of the process asking is not the one that trades)',
      fix: 'Start the engine (ctb start) on the release to go live with: it records the release it runs when it takes the engine lease.',
    };
  }
  const from = `the engine's process ${r.recordedBy}, recorded at ${r.recordedAt.toISOString()}`;
  if (!r.limits.release) return { info: null, source: 'engine', from, why: `${from} recorded no release (an engine older than this version recorded its go-live policy)`, fix: RESTART };
  if (purpose === 'golive') {
    const not = await notTheHoldersRecord(ctx, r.recordedBy, 'release');
    if (not !== null) return { info: null, source: 'engine', from, why: `${from}, but ${not}`, fix: RESTART };
  }
  return { info: r.limits.release, source: 'engine', from };
}
