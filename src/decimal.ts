// Exact decimal arithmetic for money. decimal.js rounds to 20 significant digits by default, which
// silently loses cents on large notional values; this clone keeps 50.
import { Decimal } from 'decimal.js';

export const Dec = Decimal.clone({ precision: 50, rounding: Decimal.ROUND_HALF_EVEN });
export type Dec = InstanceType<typeof Dec>;
