// Owns the read of whether this database has ever seen this bot use Kraken: a keyless process (a
// shell, a web replica) cannot ask Kraken, so what it may say of Kraken rests on this record alone.
// Any one of these means orders of this account may be on Kraken, placed by the bot or beside it
// with the same key: a live order intent or fill; an engine lease (running or stale) that is armed
// or has the Kraken key; the database in live mode now or a switch to live ever; a Kraken rate-limit
// refusal recorded by a process with the key; an earlier kill, cancel again or follow-up that
// cancelled on Kraken (its report has Kraken calls); bot_state's kraken_key_seen_at, written before a
// process with the key or armed tries to take the lease (so before any such take: engine-lease.ts
// recordKeySeen) and never cleared, so a keyed paper bot that stopped cleanly (its lease row deleted
// on release) still counts. A database whose keyed bot last ran before
// that column existed has no such record: the others above are all it has.
import { sql } from 'drizzle-orm';
import { execute, type Db } from '../client.js';
import { botState, engineLease, engineRequests, fills, incidents, krakenRateCounter, modeChangeRequests, orderIntents } from '../schema/index.js';

/** A Kraken venue report with at least one call to Kraken (a cancel report's shape: cancel-everywhere.ts). */
const KRAKEN_ASKED = '$.venues[*] ? (@.venue == "kraken" && @.attempts > 0)';

/**
 * What this database records of Kraken use, as a phrase for the log and the reply ("a live order
 * intent", …), the first found in the order below; null when it records none.
 */
export async function krakenUseEver(db: Db): Promise<string | null> {
  const rows = await execute<Record<string, boolean | string | null>>(db, sql`
    select
      (select kraken_key_seen_host from ${botState} where id = 1 and kraken_key_seen_at is not null) as key_seen_host,
      (select to_char(kraken_key_seen_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') from ${botState} where id = 1) as key_seen_at,
      (exists(select 1 from ${orderIntents} where mode = 'live') or exists(select 1 from ${fills} where mode = 'live')) as live_order,
      exists(select 1 from ${engineLease} where armed or has_kraken_keys) as keyed_lease,
      (exists(select 1 from ${botState} where mode = 'live')
        or exists(select 1 from ${modeChangeRequests} where to_mode = 'live' and status = 'switched')) as live_mode,
      exists(select 1 from ${krakenRateCounter}) as rate_counter,
      (exists(select 1 from ${incidents} where jsonb_path_exists(cancel_report, ${KRAKEN_ASKED}::jsonpath))
        or exists(select 1 from ${engineRequests} where kind = 'cancel_all' and jsonb_path_exists(result, ${'$.report ? (@.venue == "kraken" && @.attempts > 0)'}::jsonpath))) as kraken_cancel`);
  const r = rows[0];
  // An answer without a row is not "never": say it as Kraken use, so nothing is claimed clear.
  if (!r) return 'an unreadable record';
  if (r['live_order'] !== false) return 'a live order placed';
  if (r['keyed_lease'] !== false) return 'an engine lease held with the Kraken key or armed';
  if (r['key_seen_at'] !== null) {
    return `a bot with the Kraken key or armed ran here (host ${String(r['key_seen_host'] ?? 'unknown')}, seen seeking the engine lease at ${String(r['key_seen_at'])})`;
  }
  if (r['live_mode'] !== false) return 'live mode';
  if (r['rate_counter'] !== false) return "a process with the Kraken key refused for Kraken's rate limit";
  if (r['kraken_cancel'] !== false) return 'an earlier cancel on Kraken';
  return null;
}
