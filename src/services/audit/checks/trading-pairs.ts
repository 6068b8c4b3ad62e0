// Checklist 4: every pair the bot trades (TRADING_PAIRS) is a market Kraken lists — its AssetPairs,
// by the rule an armed engine refuses to start on (engine/listed-pairs.ts) — so the gate that
// allows /mode live says it before the switch, not the engine's start after it. AssetPairs is public:
// it is read without a key, so a shell without one judges the pairs as well; only a failed read
// leaves them unjudged, and says why.
import { AppError } from '../../../errors.js';
import { unreachableReason } from '../../../exchange/errors.js';
import { UNLISTED_PAIRS_FIX, unlistedPairs } from '../../../engine/listed-pairs.js';
import { judgedTradingPairs } from '../sources/engine-operations.js';
import { listedPairs } from '../sources/kraken.js';
import { defineCheck, type CheckOutcome } from '../types.js';

export const tradingPairsCheck = defineCheck({
  id: 'exchange.trading_pairs',
  title: 'Kraken lists every traded pair (TRADING_PAIRS)',
  checklistSection: 4,
  async run(ctx): Promise<CheckOutcome> {
    const judged = judgedTradingPairs(ctx);
    const pairs = judged.value;
    const whose = judged.source === 'engine' ? `the engine's TRADING_PAIRS, from ${judged.from}` : 'TRADING_PAIRS of this process — no engine has recorded its own in this database yet';
    const details = { pairs, pairsFrom: judged.from };
    let listed: string[];
    try {
      listed = await listedPairs(ctx);
    } catch (err) {
      // No answer is not a refusal: the audit says Kraken could not be reached, and why (run-audit.ts).
      if (unreachableReason(err) !== null) throw err;
      if (err instanceof AppError) {
        return {
          status: 'fail', value: `not checked: Kraken's AssetPairs could not be read: ${err.message} (${whose}: ${pairs.join(', ')})`,
          fix: err.hint ?? 'Run the audit again.', details: { code: err.code, ...details },
        };
      }
      throw err;
    }
    const unlisted = unlistedPairs(pairs, listed);
    if (unlisted) {
      return {
        status: 'fail', value: `Kraken does not list ${unlisted.what} in ${whose}: an engine armed with it refuses to start`,
        fix: `${UNLISTED_PAIRS_FIX}, restart the engine, then run the audit again.`, details: { unlisted: unlisted.pairs, ...details },
      };
    }
    const listedAll = `Kraken lists ${pairs.length === 1 ? 'the traded pair' : `all ${pairs.length} traded pairs`}: ${pairs.join(', ')} (${whose})`;
    // This process's own pairs stand in only until an engine records its own: they may not be the ones it trades.
    if (judged.source === 'process') return { status: 'warn', value: `${listedAll}; the engine's own were not judged`, fix: 'Start the engine (it records its TRADING_PAIRS when it takes the lease), then run the audit again.', details };
    return { status: 'pass', value: listedAll, fix: null, details };
  },
});
