// The older name of money.ts's decimal class, kept for the modules not yet moved over (the Kraken
// adapter and reconciliation): the same class and configuration, not a second set-up.
export { Decimal as Dec } from './money.js';
