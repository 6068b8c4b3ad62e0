// Under a burst, every request is acked at once while the work behind the acks runs a few at a time
// (src/slack/acked-work.ts), each applied once; a Slack retry of a queued command is not applied again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCommand } from '../../commands/define.js';
import { startSlackHarness, type SlackHarness } from '../support/slack-harness.js';
import { ACKED_WORK_SLOTS } from '../../src/slack/deliveries.js';
import type { ListenerTable } from '../../src/slack/listeners/types.js';
import { textMessage } from '../../src/slack/views/message.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A listener table of one reader subcommand, `/t <name> <n>`, handled by `handle`. */
function oneCommand(name: string, handle: ListenerTable['commands'][number]['subcommands'][number]['handle']): ListenerTable {
  return {
    commands: [{ command: '/t', summary: 'test', subcommands: [{ name, usage: `/t ${name} <n>`, summary: name, role: 'reader', handle }] }],
    events: [],
    actions: [],
    views: [],
  };
}

describe('acks under a burst', () => {
  const applied: string[] = [];
  let running = 0;
  let peak = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let h: SlackHarness;
  const table = oneCommand('work', async (req) => {
    running += 1;
    peak = Math.max(peak, running);
    await gate;
    await sleep(20);
    running -= 1;
    applied.push(req.rest);
    await req.reply.ephemeral(textMessage(`done ${req.rest}`));
  });
  beforeAll(async () => {
    h = await startSlackHarness({ table });
  });
  afterAll(async () => {
    await h?.close();
  });

  const burst = ACKED_WORK_SLOTS + 8;
  it('acks a burst of concurrent commands before any of their work is done, runs at most ACKED_WORK_SLOTS at once, applies each once', async () => {
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: burst }, (_, i) => h.slash('/t', `work ${i}`, { triggerId: `trg-burst-${i}` })));
    expect(results.every((r) => r.status === 200)).toBe(true);
    // Every ack came back while all the work was still held at the gate.
    expect(applied).toEqual([]);
    // A slot is lent for a second at most (leaseMs): within it, no more than ACKED_WORK_SLOTS items run.
    if (Date.now() - started < 900) expect(peak).toBeLessThanOrEqual(ACKED_WORK_SLOTS);
    // A retry of a command still waiting in the queue is not applied again.
    const last = burst - 1;
    await h.slash('/t', `work ${last}`, { triggerId: `trg-burst-${last}`, retryNum: 1, retryReason: 'http_timeout' });
    release();
    await h.idle();
    expect([...applied].sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: burst }, (_, i) => String(i)));
    expect(peak).toBeGreaterThan(1);
    expect(h.responses()).toHaveLength(burst);
  });
});

// A turn of the event loop, counted by an immediate that queues itself again: each turn's check
// phase runs it once, after that turn's I/O phase (where requests are read and acked).
function turnCounter() {
  const c = { turn: 0, ticking: true, start: () => setImmediate(tick) };
  const tick = () => {
    c.turn += 1;
    if (c.ticking) setImmediate(tick);
  };
  return c;
}

describe('listeners of a batch of claims', () => {
  const counter = turnCounter();
  const turns: number[] = [];
  let h: SlackHarness;
  const table = oneCommand('render', async (req) => {
    turns.push(counter.turn);
    await req.reply.ephemeral(textMessage(`done ${req.rest}`));
  });
  beforeAll(async () => {
    h = await startSlackHarness({ table });
  });
  afterAll(async () => {
    counter.ticking = false;
    await h?.close();
  });

  it('run one per turn of the event loop, so a request arriving meanwhile waits for one listener, not the batch', async () => {
    counter.start();
    // Claimed together (their claims share statements): without turns, all resumed in one run of callbacks.
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => h.slash('/t', `render ${i}`, { triggerId: `trg-turn-${i}` })));
    expect(results.every((r) => r.status === 200)).toBe(true);
    await h.idle();
    expect(turns).toHaveLength(8);
    expect(new Set(turns).size).toBe(8);
  });
});

describe('replies after a batch of trail rows', () => {
  // A command's reply goes out after its trail row is written (runCommand), and trail rows share
  // statements as claims do: every command of a statement resumed at once and rendered and sent its
  // reply in one run of callbacks, while a request arriving meanwhile waited to be read.
  const counter = turnCounter();
  const turns: number[] = [];
  let h: SlackHarness;
  const noted = defineCommand({ name: 't noted', summary: 'writes its trail row', role: 'reader', args: z.object({}).strict(), run: async () => ({ ok: true }) });
  const table = oneCommand('noted', async (req) => {
    await req.run(noted, {});
    turns.push(counter.turn);
    await req.reply.ephemeral(textMessage(`noted ${req.rest}`));
  });
  beforeAll(async () => {
    h = await startSlackHarness({ table });
  });
  afterAll(async () => {
    counter.ticking = false;
    await h?.close();
  });

  it('are rendered and sent one per turn of the event loop, not the batch in one run', async () => {
    counter.start();
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => h.slash('/t', `noted ${i}`, { triggerId: `trg-noted-${i}` })));
    expect(results.every((r) => r.status === 200)).toBe(true);
    await h.idle();
    expect(turns).toHaveLength(8);
    expect(new Set(turns).size).toBe(8);
    expect(h.responses()).toHaveLength(8);
  });
});
