// Checklist 4: capital_buffer on every closed trade; the drawdown guard's thresholds inside the
// risk appetite; every enabled strategy limited (position size, confidence, volume); the kill
// switch ready (the key can cancel orders).
import { capitalBufferFacts } from '../../../db/queries/audit-facts.js';
import { keyRights, NO_KEYS_FIX } from '../sources/kraken.js';
import { judgedLimits, judgedStrategies } from '../sources/engine-limits.js';
import { defineCheck, type CheckOutcome } from '../types.js';

export const capitalBufferCheck = defineCheck({
  id: 'risk.capital_buffer',
  title: 'capital_buffer set on every closed trade',
  checklistSection: 4,
  async run(ctx): Promise<CheckOutcome> {
    const { closed, missing, ids } = await capitalBufferFacts(ctx.db, 10);
    if (missing > 0) {
      return {
        status: 'fail', value: `${missing} of ${closed} closed trades lack capital_buffer`,
        fix: 'Run ctb validate-trades and repair those trades; find the code path that closes a trade without it.',
        details: { closed, missing, tradeIds: ids },
      };
    }
    return { status: 'pass', value: `${closed} closed trades, all with capital_buffer`, fix: null, details: { closed, missing } };
  },
});

export const drawdownGuardCheck = defineCheck({
  id: 'risk.drawdown_guard',
  title: 'Drawdown guard thresholds inside the risk appetite',
  checklistSection: 4,
  async run(ctx): Promise<CheckOutcome> {
    const c = ctx.config;
    const details = {
      maxDrawdownPct: c.RISK_MAX_DRAWDOWN_PCT, hardDrawdownPct: c.RISK_HARD_DRAWDOWN_PCT,
      dailyLossPct: c.RISK_DAILY_LOSS_PCT, appetiteMaxDrawdownPct: c.RISK_APPETITE_MAX_DRAWDOWN_PCT,
    };
    const value = `pause at ${c.RISK_MAX_DRAWDOWN_PCT}% drawdown, hard stop at ${c.RISK_HARD_DRAWDOWN_PCT}%, daily loss ${c.RISK_DAILY_LOSS_PCT}%; appetite ${c.RISK_APPETITE_MAX_DRAWDOWN_PCT}%`;
    const over = [
      c.RISK_MAX_DRAWDOWN_PCT > c.RISK_APPETITE_MAX_DRAWDOWN_PCT ? 'RISK_MAX_DRAWDOWN_PCT' : null,
      c.RISK_HARD_DRAWDOWN_PCT > c.RISK_APPETITE_MAX_DRAWDOWN_PCT ? 'RISK_HARD_DRAWDOWN_PCT' : null,
      c.RISK_DAILY_LOSS_PCT > c.RISK_APPETITE_MAX_DRAWDOWN_PCT ? 'RISK_DAILY_LOSS_PCT' : null,
    ].filter((x): x is string => x !== null);
    if (over.length > 0) {
      return { status: 'fail', value: `${value}: ${over.join(', ')} beyond the appetite`, fix: `Lower ${over.join(' and ')} to at most RISK_APPETITE_MAX_DRAWDOWN_PCT (${c.RISK_APPETITE_MAX_DRAWDOWN_PCT}).`, details };
    }
    return { status: 'pass', value, fix: null, details };
  },
});

export const strategyLimitsCheck = defineCheck({
  id: 'risk.strategy_limits',
  title: 'Every enabled strategy has position-size limits, a confidence threshold and a volume filter',
  checklistSection: 4,
  async run(ctx): Promise<CheckOutcome> {
    // The very file and reader the engine trades from: the file the engine's process recorded loading
    // (else this process's STRATEGIES_FILE, else the repository's config/strategies.json), whatever
    // directory ctb runs in; and only the bytes it loaded.
    const j = judgedLimits(ctx);
    const file = j.strategiesFile;
    const inspection = judgedStrategies(j);
    const from = j.source === 'engine' ? ` (${j.from})` : '';
    if (inspection.changed && inspection.sha256 === null) {
      return {
        status: 'fail',
        value: `the strategies file the engine loaded cannot be read here: ${inspection.problems[0] ?? file}${from}`,
        fix: "Run the audit where the engine's strategies file is (the engine's host), or give this process the same file at that path.",
        details: { file, problems: inspection.problems, recordedSha256: j.recordedSha256, limitsFrom: j.from },
      };
    }
    if (inspection.changed) {
      return {
        status: 'fail',
        value: `${file} is not what the engine loaded: sha256 ${inspection.sha256!.slice(0, 12)} now, ${j.recordedSha256!.slice(0, 12)} when loaded${from}`,
        fix: 'The engine trades the strategies it loaded at start: restart the engine (ctb start) so it loads and records this file, then audit again; or put back the file it loaded.',
        details: { file, sha256: inspection.sha256, recordedSha256: j.recordedSha256, limitsFrom: j.from },
      };
    }
    if (!inspection.config) {
      const more = inspection.problems.length > 3 ? ` (+${inspection.problems.length - 3} more)` : '';
      return {
        status: 'fail',
        value: `${inspection.problems.slice(0, 3).join('; ')}${more}`,
        fix: 'Fix the strategies file (see config/strategies.json in the repository); the engine refuses to start with it as it is.',
        details: { file, problems: inspection.problems, limitsFrom: j.from },
      };
    }
    const enabled = inspection.config.strategies.filter((s) => s.enabled);
    // Every limit an enabled strategy needs is refused by the loader when missing or off
    // (strategies/config.ts: the schema and REQUIRED_ENABLED_LIMITS), so a file that loads has them all.
    const details = { file, sha256: inspection.sha256, enabled: enabled.map((s) => s.name), limitsFrom: j.from };
    if (enabled.length === 0) return { status: 'warn', value: `no enabled strategy in ${file}`, fix: 'Enable at least one strategy to trade.', details };
    return { status: 'pass', value: `${enabled.length} enabled strateg${enabled.length === 1 ? 'y' : 'ies'}, all limited${j.source === 'engine' ? ` in ${file}${from}` : ''}`, fix: null, details };
  },
});

export const killSwitchReadyCheck = defineCheck({
  id: 'risk.kill_switch_ready',
  title: 'Kill switch ready: the key can cancel orders',
  checklistSection: 4,
  async run(ctx): Promise<CheckOutcome> {
    const rightsP = keyRights(ctx);
    if (!rightsP) return { status: 'fail', value: 'no Kraken key configured: /kill could not cancel orders', fix: NO_KEYS_FIX };
    const rights = await rightsP;
    if (rights.canCancel) return { status: 'pass', value: 'key can cancel orders (CancelAll)', fix: null, details: { source: rights.source } };
    if (rights.unknown?.includes('canCancel')) {
      return { status: 'warn', value: 'cancel rights not verifiable (withdraw probe)', fix: 'Check on kraken.com that the key has Cancel/Close Orders.', details: { source: rights.source } };
    }
    return { status: 'fail', value: 'key cannot cancel orders: /kill would not work', fix: 'Give the key the Cancel/Close Orders permission on Kraken.', details: { source: rights.source } };
  },
});
