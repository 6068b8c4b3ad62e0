// Owns naming the paper venue's balance read for the rooms that show balances (services/trades):
// the venue's statements live in db/queries/exchange-paper.ts.
export { readPaperBalances, type BalanceRow } from '../../db/queries/exchange-paper.js';
