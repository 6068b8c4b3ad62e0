// A paper fill the bot has announced is on disk: a real `ctb start` on the embedded PGlite (a fresh
// DATA_DIR, the replay feed) is killed with SIGKILL the moment its first fill line is read, and the
// data directory, opened again, holds that fill and its intent. PGlite has no WAL writer: a paper
// statement that committed asynchronously stayed in the dead process's memory (db/async-commit.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inArray } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/db/client.js';
import { fills, orderIntents } from '../../../src/db/schema/index.js';
import { startBotProcess } from '../../support/bot-process.js';
import { freePort } from '../../support/free-port.js';

const dir = mkdtempSync(join(tmpdir(), 'ctb-fill-durable-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a paper fill on the embedded database survives kill -9 once it is logged', () => {
  it('keeps every fill the bot logged before it was killed', async () => {
    const dataDir = join(dir, 'data');
    const bot = startBotProcess(['start', '--feed', 'replay'], {
      PATH: process.env.PATH ?? '', HOME: dir, MARKET_FEED: 'replay', PORT: String(await freePort()), HOST: '127.0.0.1',
      DATA_DIR: dataDir, LOG_DIR: join(dir, 'logs'), LOG_LEVEL: 'info', LOG_FORMAT: 'json', REPLAY_INTERVAL: '20ms',
    }, dir);
    // Killed from the listener that reads the line, not after a poll: nothing of the bot's runs meanwhile
    // that could flush the fill by chance (its next durable commit would).
    const announced: string[] = [];
    let seen = '';
    bot.proc.stdout!.on('data', (d: Buffer) => {
      seen += String(d);
      for (const line of seen.split('\n')) {
        const m = /"event":"fill".*"clientOrderId":"([^"]+)"/.exec(line);
        if (m && !announced.includes(m[1]!)) announced.push(m[1]!);
      }
      if (announced.length > 0) bot.kill('SIGKILL');
    });
    await bot.waitFor(/"event":"fill"/, 180_000);
    await bot.exited.catch(() => undefined);
    expect(bot.proc.signalCode).toBe('SIGKILL');

    const database = await openDatabase({ dataDir });
    try {
      const booked = await database.db.select({ clientOrderId: fills.clientOrderId }).from(fills).where(inArray(fills.clientOrderId, announced));
      const intents = await database.db.select({ clientOrderId: orderIntents.clientOrderId, status: orderIntents.status })
        .from(orderIntents).where(inArray(orderIntents.clientOrderId, announced));
      expect(booked.map((f) => f.clientOrderId).sort()).toEqual([...announced].sort());
      expect(intents.map((i) => i.status)).toEqual(announced.map(() => 'filled'));
    } finally {
      await database.close();
    }
  }, 300_000);
});
