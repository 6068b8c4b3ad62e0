// Owns which order-intent statuses are still unsettled: the ledger does not know the order's outcome
// yet — pending (maybe sent), sent, or resting open on the venue. The gate judges against them, the
// paper order checks they are unchanged, a booking updates only them, and reconciliation reads them
// as still open: one list, so none of those drifts from the others.
export const UNSETTLED_STATUSES = ['pending', 'sent', 'open'] as const;

export type UnsettledStatus = (typeof UNSETTLED_STATUSES)[number];

export function isUnsettled(status: string): status is UnsettledStatus {
  return (UNSETTLED_STATUSES as readonly string[]).includes(status);
}
