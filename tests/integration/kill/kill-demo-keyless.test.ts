// The README's demo, then `ctb kill` in a second shell: the bot (`ctb start --feed replay`, paper,
// embedded database) and the kill are real processes, and no process anywhere has a Kraken key. The
// database records no use of Kraken ever, so the kill says what is known — nothing was sent to
// Kraken, nothing of this bot is there to cancel — queues no request nobody could take, and its log
// lines say the same facts as its terminal (the same notice, no hand-over or request it did not make).
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ctbIn } from '../../support/ctb-shell.js';
import { baseEnv, bot, killBotsAfterEach } from '../engine-lease/one-engine-bots.js';

killBotsAfterEach();

/** Every JSON line the kill's process wrote to its LOG_DIR. */
function logLines(dir: string): Array<Record<string, unknown>> {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.log')).flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n'))
    .filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('ctb kill beside the key-less demo', () => {
  it('says nothing was sent to Kraken and nothing of this bot is there, queues nothing, exits 0; its log lines agree with its terminal', async () => {
    const a = mkdtempSync(join(tmpdir(), 'ctb-kill-demo-'));
    // The demo trades paper orders on the replay: its ledger has orders, none of them live.
    const env = baseEnv(a);
    const running = bot(['start'], env, a);
    await running.waitFor(/engine lease taken/, 150_000);
    await running.waitFor(/order|fill/i, 150_000);

    const killLogs = join(a, 'kill-logs');
    // What the kill says when the database answers is the point here; the 3 s default deadline (whose
    // miss is tested in kill.test.ts) was missed once on a machine at load 24, through the bot's socket.
    const run = await ctbIn(a, ['kill', '--reason', 'trying the kill'], { ...env, LOG_LEVEL: 'info', LOG_DIR: killLogs, KILL_DB_TIMEOUT: '30s' });
    const said = `${run.stdout}\n${run.stderr}`;
    expect(run.code, said).toBe(0);
    const lines = run.stdout.split('\n');
    const notice = /^No Kraken key here, and the running bot (\S+) has no Kraken key: nothing was sent to Kraken\. This database records no use of Kraken ever \(no live order or live mode, no cancel there, no engine that took the lease armed or with the key\), so there is nothing on Kraken to cancel from this bot\.$/;
    const noticeLine = lines.find((l) => notice.test(l));
    expect(noticeLine, run.stdout).toBeDefined();
    expect(notice.exec(noticeLine!)![1]).toMatch(new RegExp(`:${running.proc.pid}$`));
    // Nothing was sent to Kraken: the headline says what paper confirmed and that nothing of this bot
    // is on Kraken — "every open order cancelled" only when paper cancelled some.
    const paperCancelled = Number(/^ {2}paper: (\d+) cancelled, none open \(confirmed\)$/m.exec(run.stdout)?.[1]);
    expect(Number.isInteger(paperCancelled), run.stdout).toBe(true);
    expect(run.stdout).toContain(paperCancelled === 0 ? 'KILLED — no open orders (paper confirmed; nothing of this bot on Kraken).' : 'KILLED — every open order cancelled.');
    expect(run.stdout).not.toMatch(/kraken confirmed|Kraken confirmed/);
    // Nothing it did not do: no request queued, no hand-over, no Kraken orders that may remain.
    expect(run.stdout).not.toMatch(/request #|queued|may (remain|stay) open on Kraken|Kraken's UI|NOT CONFIRMED|NO BOT WITH THE KRAKEN KEY/);

    // The log says the same: the notice as the terminal printed it, no hand-over status, no request.
    const logs = logLines(killLogs);
    expect(logs.length, 'the kill wrote log lines').toBeGreaterThan(0);
    expect(logs.some((l) => l['notice'] === noticeLine && l['krakenAccess'] === 'never_live'), JSON.stringify(logs)).toBe(true);
    const text = JSON.stringify(logs);
    expect(text).not.toMatch(/"handedOff"|"requestId"|no_bot|queued in the database|may remain open on Kraken/);
    expect(logs.filter((l) => Number(l['level']) >= 50), text).toEqual([]);

    // No request was left for a bot with the key: the incident's cancel item is done, not pending.
    const shown = await ctbIn(a, ['incident', '--json'], { ...env, LOG_LEVEL: 'warn', LOG_DIR: killLogs });
    const cancelItem = JSON.parse(shown.stdout).current.items.find((i: { item: string }) => i.item === 'cancel_orders');
    expect(cancelItem.state).not.toBe('pending');

    // A second kill confirms zero open orders and resolves the first kill's alert group: it says so,
    // and says what "confirmed" was — paper, with nothing of this bot on Kraken (Kraken was not asked).
    const second = await ctbIn(a, ['kill', '--reason', 'trying it again'], { ...env, LOG_LEVEL: 'warn', LOG_DIR: killLogs, KILL_DB_TIMEOUT: '30s' });
    expect(second.code, `${second.stdout}\n${second.stderr}`).toBe(0);
    expect(second.stdout).toMatch(/^Already killed \(incident #\d+\) — cancelled again: (no open orders \(paper confirmed; nothing of this bot on Kraken\)|every open order cancelled)\.$/m);
    expect(second.stdout).toMatch(/^Kill alert \(group \d+\) resolved: zero open orders confirmed \(paper; nothing of this bot on Kraken\)\.$/m);
    expect(second.stdout).not.toMatch(/request #|queued|NOT CONFIRMED|may (remain|stay) open on Kraken/);

    // "Cancel again" reaches the kill's judgement on the same facts: paper confirmed clear, nothing
    // sent to Kraken nor queued for a bot that has no key — done, exit 0, in the kill's words.
    const again = await ctbIn(a, ['incident', 'done', 'cancel_orders'], { ...env, LOG_LEVEL: 'warn', LOG_DIR: killLogs, KILL_DB_TIMEOUT: '30s' });
    const againSaid = `${again.stdout}\n${again.stderr}`;
    expect(again.code, againSaid).toBe(0);
    expect(again.stdout).toMatch(/^cancel_orders: done by \S+ at \S+ — Cancelled again — paper: none open\. No Kraken key here, and the running bot \S+ has no Kraken key: nothing was sent to Kraken\. This database records no use of Kraken ever \(no live order or live mode, no cancel there, no engine that took the lease armed or with the key\), so there is nothing on Kraken to cancel from this bot\./m);
    expect(againSaid).not.toMatch(/request #|queued|NOT CONFIRMED|may (remain|stay) open on Kraken|Kraken's UI|PENDING/);
    const after = await ctbIn(a, ['incident', '--json'], { ...env, LOG_LEVEL: 'warn', LOG_DIR: killLogs });
    const itemAfter = JSON.parse(after.stdout).current.items.find((i: { item: string }) => i.item === 'cancel_orders');
    expect(itemAfter.state).toBe('done');
    expect(itemAfter.requestId).toBeNull();
    expect(running.proc.exitCode).toBeNull();
  }, 400_000);
});
