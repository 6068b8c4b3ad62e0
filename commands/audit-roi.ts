// `audit-roi`: ROI from the ledger against ROI from equity snapshots per book and period, and the
// live book against Kraken balances (when a key is configured). Writes REPORTS_DIR/roi-audit-*.json.
import { z } from 'zod';
import { readOnlyExchange } from '../src/exchange/read-only.js';
import { auditRoi, type RoiAuditReport } from '../src/services/roi/roi-audit.js';
import { defineCommand } from './define.js';

export const auditRoiCommand = defineCommand<z.ZodObject<{}>, RoiAuditReport>({
  name: 'audit-roi',
  summary: 'compare ROI from the ledger with equity snapshots and exchange balances',
  role: 'reader',
  args: z.object({}).strict(),
  run: (ctx) =>
    auditRoi(ctx, { writeReport: true, ...(ctx.exchanges.hasKrakenKeys() ? { exchange: readOnlyExchange(ctx.exchanges.kraken()) } : {}) }),
});
