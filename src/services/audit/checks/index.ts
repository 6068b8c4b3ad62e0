// The go-live audit's checks, in report order. Each area adds its check(s) here from its own file
// (one line each); on a merge conflict keep both sides. Placeholders say "not configured yet" until
// the owning area replaces them with the real check.
import type { AuditCheck } from '../types.js';
import { alertingCheck } from './alerting.js';
import { approversCheck } from './approvers.js';
import { backupsCheck, releaseCheck } from './backups-release.js';
import { credentialsStorageCheck, secretScanCheck } from './credentials.js';
import { goLiveCriteriaCheck } from './criteria.js';
import { keyRightsCheck } from './key-rights.js';
import { logRotationCheck } from './logging.js';
import { unhandledErrorsCheck } from './logs.js';
import { modeCheck } from './mode.js';
import { onCallCheck } from './oncall.js';
import { paperPositionsCheck } from './paper-positions.js';
import { preTradeGateCheck } from './pre-trade-gate.js';
import { reconciliationCheck } from './reconciliation.js';
import { capitalBufferCheck, drawdownGuardCheck, killSwitchReadyCheck, strategyLimitsCheck } from './risk.js';
import { reviewScheduleCheck } from './review-schedule.js';
import { roiCheck } from './roi.js';
import { slackScopesCheck } from './slack-scopes.js';
import { tradingPairsCheck } from './trading-pairs.js';

export const auditChecks: AuditCheck[] = [
  // 1. Credentials & secrets
  credentialsStorageCheck,
  secretScanCheck,
  keyRightsCheck,
  // 2. Mode toggles
  modeCheck,
  // 3. Logging & monitoring
  logRotationCheck,
  alertingCheck,
  slackScopesCheck,
  unhandledErrorsCheck,
  // 4. Risk controls
  capitalBufferCheck,
  drawdownGuardCheck,
  strategyLimitsCheck,
  tradingPairsCheck,
  preTradeGateCheck,
  killSwitchReadyCheck,
  // 5. Health audits
  reconciliationCheck,
  roiCheck,
  // 6. Paper → live
  goLiveCriteriaCheck,
  paperPositionsCheck,
  approversCheck,
  // 7. Backup & versioning
  backupsCheck,
  releaseCheck,
  // 8. Monitoring & dashboards
  reviewScheduleCheck,
  // 9. Escalation
  onCallCheck,
];
