// Owns which release the audit's release check judges: the engine's — the build that trades — as its
// process recorded it with the gate policy when it took the engine lease, never the auditing shell's
// checkout, which may be another build (a laptop, a web replica); else, before any engine recorded a
// policy in this database, this process's own.
import type { ReleaseInfo } from '../../../domain/release.js';
import type { AuditContext } from '../types.js';

type Ctx = Pick<AuditContext, 'engineLimits'>;

export type JudgedRelease =
  | { info: ReleaseInfo; source: 'engine' | 'process'; from: string }
  /** The engine's process recorded its policy before engines recorded their release: unknown until it restarts. */
  | { info: null; source: 'engine'; from: string };

export async function judgedRelease(ctx: Ctx, own: () => Promise<ReleaseInfo>): Promise<JudgedRelease> {
  const r = ctx.engineLimits ?? null;
  if (r === null) return { info: await own(), source: 'process', from: "this process's build: no engine has recorded its release in this database yet" };
  const from = `the engine's process ${r.recordedBy}, recorded at ${r.recordedAt.toISOString()}`;
  return r.limits.release ? { info: r.limits.release, source: 'engine', from } : { info: null, source: 'engine', from };
}
