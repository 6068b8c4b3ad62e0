// Owns the shapes of Kraken's WebSocket v2 messages the bot reads on the authenticated endpoint
// (docs.kraken.com, Spot WebSocket v2: executions, heartbeat, ping/pong, subscribe): parsed with zod
// at the edge, amounts kept as exact decimal text. A message that does not fit is reported, with
// the reason, and never used.
import { z } from 'zod';
import { Decimal } from '../../money.js';

/** Kraken v2 sends numbers ("last_price": 26599.9), sometimes text; kept as plain decimal text. */
const amount = z
  .union([z.number().finite(), z.string().regex(/^-?\d+(\.\d+)?(e-?\d+)?$/i, 'expected a decimal')])
  .transform((v) => new Decimal(v).toFixed());

const timestamp = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'expected an RFC 3339 time').transform((v) => new Date(v));

export const wsFee = z.object({ asset: z.string().min(1), qty: amount }).loose();

/**
 * One entry of an executions snapshot or update. `exec_type` says what happened (pending_new, new,
 * trade, filled, canceled, expired, amended, restated, …), `order_status` the order's state after it.
 * Trade fields (exec_id, trade_id, last_qty, last_price, fees, liquidity_ind) come with exec_type trade.
 */
export const executionEntry = z
  .object({
    order_id: z.string().min(1),
    exec_type: z.string().min(1),
    exec_id: z.string().min(1).optional(),
    trade_id: z.union([z.number().int(), z.string()]).optional(),
    cl_ord_id: z.string().optional(),
    order_userref: z.number().optional(),
    symbol: z.string().regex(/^[A-Z0-9.]+\/[A-Z0-9.]+$/, 'expected a pair such as BTC/USD').optional(),
    side: z.enum(['buy', 'sell']).optional(),
    order_type: z.string().optional(),
    order_qty: amount.optional(),
    limit_price: amount.optional(),
    order_status: z.enum(['pending_new', 'new', 'partially_filled', 'filled', 'canceled', 'expired']).optional(),
    cum_qty: amount.optional(),
    cum_cost: amount.optional(),
    avg_price: amount.optional(),
    last_qty: amount.optional(),
    last_price: amount.optional(),
    cost: amount.optional(),
    liquidity_ind: z.enum(['t', 'm']).optional(),
    fees: z.array(wsFee).optional(),
    fee_usd_equiv: amount.optional(),
    fee_ccy_pref: z.string().optional(),
    reason: z.string().optional(),
    timestamp,
  })
  .loose();
export type ExecutionEntry = z.infer<typeof executionEntry>;

const executionsEnvelope = z.object({
  channel: z.literal('executions'),
  type: z.enum(['snapshot', 'update']),
  data: z.array(z.unknown()),
  sequence: z.number().int().optional(),
});

const heartbeat = z.object({ channel: z.literal('heartbeat') }).loose();
const status = z.object({ channel: z.literal('status') }).loose();
const methodAnswer = z
  .object({
    method: z.enum(['subscribe', 'unsubscribe', 'pong']),
    req_id: z.number().int().optional(),
    success: z.boolean().optional(),
    error: z.string().optional(),
    result: z.object({ channel: z.string().optional() }).loose().optional(),
  })
  .loose();

export type WsMessage =
  | { kind: 'executions'; type: 'snapshot' | 'update'; sequence: number | undefined; entries: ExecutionEntry[]; unreadable: string[] }
  | { kind: 'heartbeat' }
  | { kind: 'status' }
  | { kind: 'subscribed'; channel: string | undefined; reqId: number | undefined }
  | { kind: 'refused'; method: string; error: string; reqId: number | undefined }
  | { kind: 'pong'; reqId: number | undefined }
  | { kind: 'unreadable'; reason: string };

const issues = (error: z.ZodError) => error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`).join('; ');

/**
 * One text frame of the authenticated socket, read. An executions message whose envelope is sound
 * keeps its readable entries; each entry that does not fit is listed in `unreadable` (with why).
 */
export function parseWsMessage(text: string): WsMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { kind: 'unreadable', reason: `not JSON (${text.length} characters)` };
  }
  const env = executionsEnvelope.safeParse(raw);
  if (env.success) {
    const entries: ExecutionEntry[] = [];
    const unreadable: string[] = [];
    env.data.data.forEach((item, i) => {
      const entry = executionEntry.safeParse(item);
      if (entry.success) entries.push(entry.data);
      else unreadable.push(`data[${i}]: ${issues(entry.error)}`);
    });
    return { kind: 'executions', type: env.data.type, sequence: env.data.sequence, entries, unreadable };
  }
  if (heartbeat.safeParse(raw).success) return { kind: 'heartbeat' };
  if (status.safeParse(raw).success) return { kind: 'status' };
  const answer = methodAnswer.safeParse(raw);
  if (answer.success) {
    const a = answer.data;
    if (a.method === 'pong') return { kind: 'pong', reqId: a.req_id };
    if (a.success === false || a.error) return { kind: 'refused', method: a.method, error: a.error ?? 'refused without a reason', reqId: a.req_id };
    return { kind: 'subscribed', channel: a.result?.channel, reqId: a.req_id };
  }
  if (typeof raw === 'object' && raw !== null && 'channel' in raw && (raw as { channel: unknown }).channel === 'executions') {
    return { kind: 'unreadable', reason: `executions message: ${issues(env.error)}` };
  }
  return { kind: 'unreadable', reason: 'not a message of the executions, heartbeat, status or subscribe kind' };
}

/** GetWebSocketsToken's answer. */
export const webSocketsTokenResult = z.object({ token: z.string().min(1), expires: z.number().int().positive() }).loose();
