// Owns naming the ledger's trade reads for the rooms that resume positions (start reconciliation's
// adoption, recovery, flatten): the statements live in db/queries/ledger-trades.ts.
export { closedTrades, openTrades } from '../../db/queries/ledger-trades.js';
