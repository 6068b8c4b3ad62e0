// Owns the statement that the two writes every Slack command makes share: its delivery claim in
// slack_deliveries (before its work) and its trail row in command_log (after it). Each was
// coalesced on its own (src/db/coalesce.ts), so a steady stream of commands paid two statements a
// window; and at 100 commands a second — rows of one kind 10 ms apart, at the busy threshold —
// mostly two statements a command: a round trip, a commit and the driver's socket write and read
// each, which were a third of the bot's CPU per command in bench:slack-ack. Claims and trail rows
// issued together now go in one statement, each table's insert in a data-modifying CTE (PostgreSQL
// runs every one to completion whether the select reads it or not), and a status command's claim
// still reads the status rows in it. Rows of one kind alone use that kind's own statement. Every
// caller still awaits its own row: a claim is taken before its command runs, a trail row is written
// before the command's promise settles. A failed statement is retried row by row (coalesce.ts), so
// a row the database refuses fails only its own caller.
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../client.js';
import { BUSY_WINDOW_MS, perDatabase } from '../coalesce.js';
import { executePrepared } from '../prepared.js';
import { STATUS_COLUMNS_FROM, statusRowsOf, type StatusColumns, type StatusRows } from './mode-status.js';

export interface Claim {
  key: string;
  surface: string;
  receivedAt: Date;
  retryNum?: number | undefined;
}

export interface ClaimRequest extends Claim {
  /** Read the status rows in the claim's statement (a status command's delivery). */
  readStatus?: boolean | undefined;
}

export interface ClaimOutcome {
  /** This call took the delivery in (false: an earlier delivery with the same key did). */
  taken: boolean;
  /** The status rows read with the claim, when asked for. */
  status?: StatusRows;
}

/** A trail row as the statement takes it: text cleaned, the time as ISO text, details as JSON text. */
export interface StoredRow {
  at: string;
  source: string;
  actor: string;
  command: string;
  args: string;
  allowed: boolean;
  result: string;
  details: string;
}

/** Several claims as one insert's rows (text arrays cast in SQL: postgres.js types an array by its first element, and drizzle passes timestamp arrays to it unserialized). */
const claimsInsert = (claims: Claim[]): SQL => sql`insert into slack_deliveries (key, surface, received_at, retry_num)
  select * from unnest(${sql.param(claims.map((c) => c.key))}::text[], ${sql.param(claims.map((c) => c.surface))}::text[],
                       ${sql.param(claims.map((c) => c.receivedAt.toISOString()))}::text[]::timestamptz[], ${sql.param(claims.map((c) => (c.retryNum === undefined ? null : String(c.retryNum))))}::text[]::integer[])
  on conflict do nothing returning key`;

/** Several trail rows as one insert's rows, every column as text[] cast in SQL (a boolean array once became one boolean). */
function rowsInsert(rows: StoredRow[]): SQL {
  const col = <K extends keyof StoredRow>(k: K) => sql.param(rows.map((r) => String(r[k])));
  return sql`insert into command_log (at, source, actor, command, args, allowed, result, details)
    select * from unnest(${col('at')}::text[]::timestamptz[], ${col('source')}::text[], ${col('actor')}::text[], ${col('command')}::text[],
                         ${col('args')}::text[], ${col('allowed')}::text[]::boolean[], ${col('result')}::text[], ${col('details')}::text[]::jsonb[])`;
}

/** Each claim's answer: the first claim of a key takes it, a repeat (or a key already stored) does not. */
function takenOf(claims: Claim[], keys: string[]): boolean[] {
  const taken = new Set(keys);
  return claims.map((c) => taken.delete(c.key));
}

/** Claims in order, a key given twice taken by its first claim only. */
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
  const rows = await executePrepared<{ key: string }>(db, claimsInsert(claims));
  return takenOf(claims, rows.map((r) => r.key));
}

/** The claims and the status rows, in one statement: the insert in a CTE, the status read beside it from the statement's snapshot, both committed together. */
export async function writeClaimsReadingStatus(db: Db, claims: Claim[]): Promise<{ taken: boolean[]; status: StatusRows }> {
  const [row] = await executePrepared<StatusColumns & { taken: string[] }>(
    db,
    sql`with claimed as (${claimsInsert(claims)}) select array(select key from claimed) as taken, ${STATUS_COLUMNS_FROM}`,
  );
  return { taken: takenOf(claims, row?.taken ?? []), status: statusRowsOf(row) };
}

/** Trail rows, one statement. */
export async function writeCommandLogRows(db: Db, rows: StoredRow[]): Promise<void[]> {
  if (rows.length === 1) {
    const r = rows[0]!;
    await executePrepared(
      db,
      sql`insert into command_log (at, source, actor, command, args, allowed, result, details)
          values (${r.at}::timestamptz, ${r.source}, ${r.actor}, ${r.command}, ${r.args}, ${r.allowed}, ${r.result}, ${r.details}::jsonb)`,
    );
  } else {
    await executePrepared(db, rowsInsert(rows));
  }
  return rows.map(() => undefined);
}

/**
 * Claims (with the status read when any asks for it) and trail rows in one statement. Needs at
 * least one of each; the status columns come with a claim that asked for them.
 */
export async function writeClaimsAndRows(db: Db, claims: ClaimRequest[], rows: StoredRow[]): Promise<{ outcomes: ClaimOutcome[] }> {
  const withStatus = claims.some((c) => c.readStatus);
  const [row] = await executePrepared<StatusColumns & { taken: string[] }>(
    db,
    sql`with claimed as (${claimsInsert(claims)}), logged as (${rowsInsert(rows)})
        select array(select key from claimed) as taken${withStatus ? sql`, ${STATUS_COLUMNS_FROM}` : sql``}`,
  );
  const taken = takenOf(claims, row?.taken ?? []);
  const status = withStatus ? statusRowsOf(row) : undefined;
  return { outcomes: claims.map((c, i) => (c.readStatus && status ? { taken: taken[i]!, status } : { taken: taken[i]! })) };
}

/** A claim's rows alone: with the status read when any of them asked for it. */
async function writeClaimRequests(db: Db, claims: ClaimRequest[]): Promise<ClaimOutcome[]> {
  const plain = claims.map(({ readStatus: _, ...c }) => c);
  if (!claims.some((c) => c.readStatus)) return (await writeClaims(db, plain)).map((taken) => ({ taken }));
  const { taken, status } = await writeClaimsReadingStatus(db, plain);
  return claims.map((c, i) => (c.readStatus ? { taken: taken[i]!, status } : { taken: taken[i]! }));
}

type Write = { claim: ClaimRequest } | { row: StoredRow };

/** The rows issued together, each kind in its statement, or both kinds in the shared one; answers in order. */
async function writeTogether(db: Db, writes: Write[]): Promise<Array<ClaimOutcome | undefined>> {
  const claims: ClaimRequest[] = [];
  const rows: StoredRow[] = [];
  for (const w of writes) {
    if ('claim' in w) claims.push(w.claim);
    else rows.push(w.row);
  }
  let outcomes: ClaimOutcome[] = [];
  if (rows.length === 0) outcomes = await writeClaimRequests(db, claims);
  else if (claims.length === 0) await writeCommandLogRows(db, rows);
  else outcomes = (await writeClaimsAndRows(db, claims, rows)).outcomes;
  let next = 0;
  return writes.map((w) => ('claim' in w ? outcomes[next++] : undefined));
}

// One coalescer for both kinds, so a command's claim and another's trail row share a statement; its
// busy measure counts rows of both kinds (a steady 100 commands a second is 200 rows a second). Its
// callers resume one per turn (coalesce.ts): after its claim a Slack command runs its listener, after
// its trail row it renders and sends its reply, and a statement holds several of each.
const shared = perDatabase(writeTogether, { busyWindowMs: BUSY_WINDOW_MS, handBackOnePerTurn: true });

/** A delivery claim, written with the claims and trail rows issued with it. */
export async function claimDelivery(db: Db, claim: ClaimRequest): Promise<ClaimOutcome> {
  return (await shared(db, { claim }))!;
}

/** A trail row, written with the claims and trail rows issued with it. */
export async function appendTrailRow(db: Db, row: StoredRow): Promise<void> {
  await shared(db, { row });
}
