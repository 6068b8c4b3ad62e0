// The paper/LIVE badge's read of bot_state (src/services/badge-state.ts) is shared by the replies
// that ask for it together, and a read never answers a reply that asked after it left: a request's
// own write (a /pause, then its reply) always shows in its badge.
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { readBadgeState } from '../../src/services/badge-state.js';
import { updateBotState } from '../../src/services/bot-state.js';
import { silentLogger } from '../../src/logger.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';
import { hookedDatabase } from '../support/statement-hooks.js';

// Each read of bot_state (getBotState's statement, as the badge's database sends it) is counted;
// `hold` keeps a read's answer back after it was read (a slow round trip).
const reads = { count: 0, answered: 0, hold: undefined as Promise<void> | undefined };
const BOT_STATE_READ = /^select .* from "bot_state" where "bot_state"\."id" = \$1$/;

describe('the badge read', () => {
  let database: TestDatabase;
  // The badge's own connection to it: its reads of bot_state counted and held (the writes below go through `database`).
  let badgeDb: Database;
  const clock = { now: () => new Date('2026-03-01T10:00:00Z') };
  const deps = () => ({ db: badgeDb.db, config: { KILL_DB_TIMEOUT: 3_000, ENGINE_LEASE_TTL: 15_000 }, logger: silentLogger() });

  beforeAll(async () => {
    database = await createPostgresTestDb();
    badgeDb = hookedDatabase(database.url, [{
      match: BOT_STATE_READ,
      before: () => void (reads.count += 1),
      after: async () => {
        reads.answered += 1;
        if (reads.hold) await reads.hold;
      },
    }]);
  });
  afterAll(async () => {
    await badgeDb?.close();
    await database?.close();
  });
  beforeEach(async () => {
    await updateBotState(database.db, clock as never, { halted: false, entriesPaused: false });
    Object.assign(reads, { count: 0, answered: 0, hold: undefined });
  });

  it('is one read for the replies that ask together', async () => {
    const badges = await Promise.all(Array.from({ length: 20 }, () => readBadgeState(deps())));
    expect(badges.every((b) => b.mode === 'paper' && !b.halted)).toBe(true);
    // The first caller's read, and one more shared by the nineteen who asked while it was on its way.
    expect(reads.count).toBe(2);
  });

  it('shows a write made after a read already on its way left', async () => {
    let release = () => {};
    reads.hold = new Promise<void>((resolve) => (release = resolve));
    const before = readBadgeState(deps());
    await vi.waitFor(() => expect(reads.answered).toBe(1));
    // The first read has its row (not halted) and is still on its way back; the halt is written now.
    await updateBotState(database.db, clock as never, { halted: true, haltedReason: 'test' });
    const after = readBadgeState(deps());
    release();
    expect(await before).toMatchObject({ halted: false });
    expect(await after).toMatchObject({ halted: true, tradingState: 'halted' });
  });
});
