// The go-live audit's checks, in report order. Each area adds its check(s) here from its own file
// (one line each); on a merge conflict keep both sides. Placeholders say "not configured yet" until
// the owning area replaces them with the real check.
import type { AuditCheck } from '../types.js';
import { alertingCheck } from './alerting.js';
import { backupsCheck, releaseCheck } from './backups-release.js';
import { unhandledErrorsCheck } from './logs.js';
import { modeCheck } from './mode.js';
import { onCallCheck } from './oncall.js';

export const auditChecks: AuditCheck[] = [
  // 2. Mode toggles
  modeCheck,
  // 3. Logging & monitoring
  alertingCheck,
  unhandledErrorsCheck,
  // 7. Backup & versioning
  backupsCheck,
  releaseCheck,
  // 9. Escalation
  onCallCheck,
];
