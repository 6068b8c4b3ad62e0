// Checklist 1: the key works (an authenticated read succeeds), can trade, and has NO withdrawal
// rights — from GetApiKeyInfo, or a withdraw-info probe answering `EGeneral:Permission denied`.
// Withdraw itself is never called. `ctb verify-credentials` runs this with credentials.storage.
import { AppError } from '../../../errors.js';
import { unreachableReason } from '../../../exchange/errors.js';
import { exchangeBalances, keyRights, NO_KEYS_FIX } from '../sources/kraken.js';
import { defineCheck, type CheckOutcome } from '../types.js';

const NEW_KEY_FIX = 'Create a Kraken key with Query Funds, Query Open/Closed Orders & Trades, Create & Modify Orders and Cancel/Close Orders only — no Withdraw — and put it in KRAKEN_API_KEY/KRAKEN_API_SECRET.';

export const keyRightsCheck = defineCheck({
  id: 'exchange.key_rights',
  title: 'Key works, can trade, cannot withdraw',
  checklistSection: 1,
  async run(ctx): Promise<CheckOutcome> {
    if (!ctx.kraken()) return { status: 'fail', value: 'no Kraken key configured', fix: NO_KEYS_FIX };
    let rights;
    try {
      rights = await keyRights(ctx)!;
      await exchangeBalances(ctx)!; // the authenticated read
    } catch (err) {
      // No answer is not a refusal: the audit says Kraken could not be reached (run-audit.ts).
      if (unreachableReason(err) !== null) throw err;
      if (err instanceof AppError) {
        return { status: 'fail', value: `Kraken refused: ${err.message}`, fix: err.hint ?? 'Check the key on Kraken and try again.', details: { code: err.code } };
      }
      throw err;
    }
    const how = rights.source === 'key_info' ? (rights.withdrawSource ? 'GetApiKeyInfo, withdraw probe' : 'GetApiKeyInfo') : 'withdraw probe';
    const details = { ...rights };
    if (rights.canWithdraw) {
      return { status: 'fail', value: `key can WITHDRAW funds (${how})`, fix: `Revoke this key now. ${NEW_KEY_FIX}`, details };
    }
    // A permission the bot cannot read may be a right it cannot see (a transfer, a new withdraw
    // kind): the probe said no withdrawal, but the key is not the one the checklist asks for.
    if (rights.unrecognisedPermissions?.length) {
      return {
        status: 'fail',
        value: `key has permissions this bot does not know: ${rights.unrecognisedPermissions.join(', ')} (withdraw probe: denied)`,
        fix: `Check what they grant on kraken.com and remove them. ${NEW_KEY_FIX}`,
        details,
      };
    }
    const missing = [
      !rights.canQuery && rights.source === 'key_info' ? 'query' : null,
      !rights.canTrade && !rights.unknown?.includes('canTrade') ? 'trade' : null,
    ].filter((m): m is string => m !== null);
    if (missing.length > 0) {
      return { status: 'fail', value: `authenticated read ok; key lacks ${missing.join(' and ')} rights; no withdrawal (${how})`, fix: NEW_KEY_FIX, details };
    }
    if (rights.unknown?.includes('canTrade')) {
      return {
        status: 'warn',
        value: `authenticated read ok; no withdrawal (${how}); trade rights not verifiable`,
        fix: 'Check on kraken.com that the key has Create & Modify Orders and Cancel/Close Orders.',
        details,
      };
    }
    return { status: 'pass', value: `authenticated read ok; can trade; no withdrawal (${how})`, fix: null, details };
  },
});
