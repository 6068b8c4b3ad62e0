// nock answers for a whole Kraken account, in Kraken's recorded formats: markets, key info,
// balances and a trade history served 50 a page by `ofs` (honouring `start`), with queued errors.
import nock from 'nock';
import * as R from './kraken-recordings.js';

export interface NockAccount {
  permissions?: string[] | 'unsupported';
  balances?: Record<string, { balance: string; hold_trade: string }>;
  trades?: R.RecordedTrade[];
  /** Kraken error strings answered by TradesHistory before its normal answers, in order. */
  tradeErrors?: string[];
}

export function nockKrakenAccount(account: NockAccount): { scope: nock.Scope; tradePages: string[] } {
  const tradePages: string[] = [];
  const errors = [...(account.tradeErrors ?? [])];
  const scope = nock(R.BASE)
    .persist()
    .get('/0/public/Assets').reply(200, R.assets)
    .get('/0/public/AssetPairs').reply(200, R.assetPairs)
    .get('/0/public/Ticker').query(true).reply(200, R.ticker)
    .post('/0/private/GetApiKeyInfo').reply(200, () =>
      account.permissions === 'unsupported' ? R.krakenError('EGeneral:Unknown method') : R.apiKeyInfo(account.permissions ?? ['query-funds', 'query-open-trades', 'query-closed-trades', 'modify-trades', 'close-trades']))
    .post('/0/private/WithdrawMethods').reply(200, R.krakenError('EGeneral:Permission denied'))
    .post('/0/private/BalanceEx').reply(200, { error: [], result: account.balances ?? { ZUSD: { balance: '10000.0000', hold_trade: '0.0000' }, XXBT: { balance: '0.0000000000', hold_trade: '0.0000000000' } } })
    .post('/0/private/TradesHistory').reply(200, (_uri, body) => {
      const params = new URLSearchParams(body as string);
      const error = errors.shift();
      if (error) return R.krakenError(error);
      const ofs = Number(params.get('ofs') ?? 0);
      tradePages.push(String(ofs));
      const start = params.get('start') === null ? -Infinity : Number(params.get('start'));
      const all = (account.trades ?? []).filter((t) => t.time > start).sort((a, b) => b.time - a.time);
      return R.tradesPage(all.slice(ofs, ofs + 50), all.length);
    });
  return { scope, tradePages };
}
