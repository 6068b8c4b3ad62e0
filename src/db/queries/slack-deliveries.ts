// Queries over slack_deliveries: claim a Slack delivery once (a retry or duplicate loses the claim),
// claims issued together written in one statement, and prune claims older than Slack's retry window.
// A claim for a status command reads the status rows in the same statement (mode-status.ts): that
// command's only read, made as its claim commits, instead of a second round trip right after it.
import { lt, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { BUSY_WINDOW_MS, perDatabase } from '../coalesce.js';
import { executePrepared } from '../prepared.js';
import { slackDeliveries } from '../schema/index.js';
import { STATUS_COLUMNS_FROM, statusRowsOf, type StatusColumns, type StatusRows } from './mode-status.js';

interface Claim {
  key: string;
  surface: string;
  receivedAt: Date;
  retryNum?: number | undefined;
}

/**
 * The statement behind claimSlackDelivery: claims in order, a key given twice taken by its first
 * claim only. Several claims go as text arrays cast in SQL: postgres.js types an array by its first
 * element, and drizzle passes timestamp arrays to it unserialized.
 */
export async function writeClaims(db: Db, claims: Claim[]): Promise<boolean[]> {
  if (claims.length === 1) {
    const c = claims[0]!;
    const rows = await executePrepared<{ key: string }>(
      db,
      sql`insert into slack_deliveries (key, surface, received_at, retry_num)
          values (${c.key}, ${c.surface}, ${c.receivedAt.toISOString()}::timestamptz, ${c.retryNum ?? null}::integer)
          on conflict do nothing returning key`,
    );
    return [rows.length === 1];
  }
  const rows = await executePrepared<{ key: string }>(
    db,
    sql`insert into slack_deliveries (key, surface, received_at, retry_num)
        select * from unnest(${sql.param(claims.map((c) => c.key))}::text[], ${sql.param(claims.map((c) => c.surface))}::text[],
                             ${sql.param(claims.map((c) => c.receivedAt.toISOString()))}::text[]::timestamptz[], ${sql.param(claims.map((c) => (c.retryNum === undefined ? null : String(c.retryNum))))}::text[]::integer[])
        on conflict do nothing returning key`,
  );
  const taken = new Set(rows.map((r) => r.key));
  return claims.map((c) => taken.delete(c.key));
}

/**
 * The claims (as writeClaims takes them) and the status rows, in one statement: the insert runs
 * in a CTE, the status is read beside it from the statement's snapshot, and both commit together.
 */
export async function writeClaimsReadingStatus(db: Db, claims: Claim[]): Promise<{ taken: boolean[]; status: StatusRows }> {
  const [row] = await executePrepared<StatusColumns & { taken: string[] }>(
    db,
    sql`with claimed as (insert into slack_deliveries (key, surface, received_at, retry_num)
          select * from unnest(${sql.param(claims.map((c) => c.key))}::text[], ${sql.param(claims.map((c) => c.surface))}::text[],
                               ${sql.param(claims.map((c) => c.receivedAt.toISOString()))}::text[]::timestamptz[], ${sql.param(claims.map((c) => (c.retryNum === undefined ? null : String(c.retryNum))))}::text[]::integer[])
          on conflict do nothing returning key)
        select array(select key from claimed) as taken, ${STATUS_COLUMNS_FROM}`,
  );
  const taken = new Set(row?.taken ?? []);
  return { taken: claims.map((c) => taken.delete(c.key)), status: statusRowsOf(row) };
}

interface ClaimRequest extends Claim {
  /** Read the status rows in the claim's statement (a status command's delivery). */
  readStatus?: boolean | undefined;
}

export interface ClaimOutcome {
  /** This call took the delivery in (false: an earlier delivery with the same key did). */
  taken: boolean;
  /** The status rows read with the claim, when asked for. */
  status?: StatusRows;
}

/** Claims issued together, in one statement: with the status read when any of them asked for it. */
async function writeClaimRequests(db: Db, claims: ClaimRequest[]): Promise<ClaimOutcome[]> {
  const rows = claims.map(({ readStatus: _, ...c }) => c);
  if (!claims.some((c) => c.readStatus)) return (await writeClaims(db, rows)).map((taken) => ({ taken }));
  const { taken, status } = await writeClaimsReadingStatus(db, rows);
  return claims.map((c, i) => (c.readStatus ? { taken: taken[i]!, status } : { taken: taken[i]! }));
}

const claim = perDatabase(writeClaimRequests, { busyWindowMs: BUSY_WINDOW_MS });

/**
 * True when this call took the delivery in; false when an earlier delivery with the same key did.
 * Runs for every Slack request: one prepared statement, shared by the claims issued together
 * (src/db/coalesce.ts), so a burst costs one round trip and one commit, not one each.
 */
export async function claimSlackDelivery(opts: { db: Db } & Claim): Promise<boolean> {
  const { db, ...c } = opts;
  return (await claim(db, c)).taken;
}

/**
 * claimSlackDelivery for a status command: the status rows are read in the claim's statement (with
 * the claims issued together), after the request arrived and as its claim commits — the read the
 * command would make next, not a copy kept from earlier.
 */
export function claimSlackDeliveryReadingStatus(opts: { db: Db } & Claim): Promise<ClaimOutcome> {
  const { db, ...c } = opts;
  return claim(db, { ...c, readStatus: true });
}

export async function pruneSlackDeliveries(opts: { db: Db; olderThan: Date }): Promise<number> {
  const rows = await opts.db.delete(slackDeliveries).where(lt(slackDeliveries.receivedAt, opts.olderThan)).returning({ key: slackDeliveries.key });
  return rows.length;
}
