// The Slack framework other areas plug into, driven through a test listener table: acks before
// slow work, idempotency for events/actions/commands (in process and across replicas), the one
// error handler with its reference id, the badge, and running without Slack.
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineCommand } from '../../commands/define.js';
import { startBot } from '../../src/app/runtime.js';
import { testConfig } from '../../src/config/env.js';
import { AppError } from '../../src/errors.js';
import { healthFeature } from '../../src/http/health.js';
import { createLogger } from '../../src/logger.js';
import { createSlackFeature } from '../../src/slack/feature.js';
import { commandRoute, usageError } from '../../src/slack/listeners/routes.js';
import type { ListenerTable } from '../../src/slack/listeners/types.js';
import { textMessage } from '../../src/slack/views/message.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';
import { startSlackHarness, USERS, type SlackHarness } from '../support/slack-harness.js';
import { Writable } from 'node:stream';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function testTable(applied: string[]): ListenerTable {
  const echo = defineCommand({
    name: 'echo',
    summary: 'Echo a word',
    role: 'reader',
    args: z.object({ word: z.string().min(1) }),
    async run(_ctx, args) {
      applied.push(`echo:${args.word}`);
      return { ok: true, word: args.word };
    },
  });
  return {
    commands: [
      {
        command: '/t',
        summary: 'test',
        subcommands: [
          commandRoute({ name: 'echo', usage: '/t echo <word>', command: echo, args: (req) => ({ word: req.rest }), render: (r) => textMessage(`echo ${r.word}`) }),
          {
            name: 'slow',
            usage: '/t slow',
            summary: 'takes longer than Slack waits',
            role: 'reader',
            async handle(req) {
              await sleep(3_500);
              applied.push('slow');
              await req.reply.inChannel(textMessage('slow done'));
            },
          },
          {
            name: 'boom',
            usage: '/t boom',
            summary: 'fails',
            role: 'reader',
            async handle() {
              throw new Error('database password=hunter2 leaked into an exception');
            },
          },
          {
            name: 'conflict',
            usage: '/t conflict',
            summary: 'refused by state',
            role: 'reader',
            async handle() {
              throw new AppError('conflict', 'halted', 'The engine is halted.', { hint: 'Resume it first.' });
            },
          },
          {
            name: 'parse',
            usage: '/t parse <n>',
            summary: 'parses a number',
            role: 'reader',
            async handle(req) {
              if (!/^\d+$/.test(req.rest)) throw usageError(`expected a whole number, got "${req.rest}"`);
              applied.push(`parse:${req.rest}`);
            },
          },
        ],
      },
    ],
    events: [
      {
        event: 'reaction_added',
        async handle(req) {
          applied.push(`reaction:${String(req.event.reaction)}:${req.actor.id}`);
        },
      },
    ],
    actions: [
      {
        actionId: /^t_(ack|resolve)$/,
        async handle(req) {
          applied.push(`action:${req.action.action_id}:${'value' in req.action ? req.action.value : ''}:${req.actor.id}`);
          await req.reply.ephemeral(textMessage('clicked'));
        },
      },
    ],
    views: [
      {
        callbackId: 't_modal',
        async handle(req) {
          const v = req.view.state.values.block?.field?.value;
          if (!v) return req.ack({ response_action: 'errors', errors: { block: 'required' } });
          await req.ack();
          applied.push(`view:${v}`);
        },
      },
    ],
  };
}

describe('Slack framework', () => {
  const applied: string[] = [];
  let db: TestDatabase;
  let h: SlackHarness;
  beforeAll(async () => {
    db = await createPostgresTestDb();
    h = await startSlackHarness({ database: db, table: testTable(applied) });
  });
  afterAll(async () => {
    await h?.close();
    await db?.close();
  });

  it('looks up its own identity with one auth.test against SLACK_API_URL', () => {
    expect(h.fake.callsTo('auth.test')).toHaveLength(1);
  });

  it('acks a slash command at once even when its work takes longer than Slack waits', async () => {
    const started = Date.now();
    const res = await h.slash('/t', 'slow');
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(applied).not.toContain('slow');
    await h.idle();
    expect(applied).toContain('slow');
    expect(h.responses().at(-1)).toMatchObject({ response_type: 'in_channel', text: '[PAPER] slow done' });
  });

  it('answers a thrown error ephemerally with a reference id that is also in the log, without internals', async () => {
    await h.slash('/t', 'boom', { user: USERS.operator });
    await h.idle();
    const reply = h.responses().at(-1)!;
    expect(reply.response_type).toBe('ephemeral');
    const ref = /E-[2-9A-Z]{6}/.exec(String(reply.text))?.[0];
    expect(ref).toBeDefined();
    expect(JSON.stringify(reply)).not.toContain('hunter2');
    const line = h.logs().find((l) => l.reference === ref);
    expect(line).toMatchObject({ level: 50, slash: '/t', sub: 'boom' });
    const log = await h.commandLog();
    expect(log.at(-1)).toMatchObject({ command: 't boom', result: 'internal error' });
  });

  it('shows an AppError\'s own message and hint, with a reference', async () => {
    await h.slash('/t', 'conflict');
    await h.idle();
    const reply = JSON.stringify(h.responses().at(-1));
    expect(reply).toContain('The engine is halted.');
    expect(reply).toContain('Resume it first.');
    expect(reply).toMatch(/Reference `E-[2-9A-Z]{6}`/);
  });

  it('answers a usage error from a row\'s parser with that row\'s usage', async () => {
    await h.slash('/t', 'parse twelve');
    await h.idle();
    const reply = JSON.stringify(h.responses().at(-1));
    expect(reply).toContain('expected a whole number, got \\"twelve\\"');
    expect(reply).toContain('/t parse <n>');
    expect(applied).not.toContain('parse:twelve');
  });

  it('answers a zod rejection from runCommand with the usage, recorded once', async () => {
    const before = (await h.commandLog()).length;
    await h.slash('/t', 'echo');
    await h.idle();
    expect(JSON.stringify(h.responses().at(-1))).toContain('/t echo <word>');
    const rows = (await h.commandLog()).slice(before);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.result).toMatch(/^usage:/);
  });

  it('applies an event once when Slack delivers the same event_id again (retry or duplicate)', async () => {
    const event = { type: 'reaction_added', user: USERS.approver1, reaction: 'white_check_mark', item: { type: 'message', channel: 'C0TESTOPS', ts: '1.2' } };
    await h.event(event, { eventId: 'Ev-dup-1' });
    await h.event(event, { eventId: 'Ev-dup-1', retryNum: 1, retryReason: 'http_timeout' });
    await h.event(event, { eventId: 'Ev-dup-1' });
    await h.idle();
    expect(applied.filter((a) => a === `reaction:white_check_mark:${USERS.approver1}`)).toHaveLength(1);
  });

  it('routes block actions by action_id pattern, once per click', async () => {
    await h.action({ actionId: 't_ack', value: '42', user: USERS.operator, triggerId: 'trg-click-1' });
    await h.action({ actionId: 't_ack', value: '42', user: USERS.operator, triggerId: 'trg-click-1', retryNum: 1 });
    await h.action({ actionId: 't_resolve', value: '42', user: USERS.operator });
    await h.idle();
    // Two clicks are two deliveries, each acked before its work runs: Slack promises no order
    // between them, and neither does the bot. Each is applied once.
    expect(applied.filter((a) => a.startsWith('action:')).sort()).toEqual([`action:t_ack:42:${USERS.operator}`, `action:t_resolve:42:${USERS.operator}`]);
    expect(h.responses().at(-1)).toMatchObject({ text: '[PAPER] clicked' });
  });

  it('lets a view submission answer in its own ack (field errors), and applies a valid one', async () => {
    const bad = await h.viewSubmission({ callbackId: 't_modal', values: { block: { field: { type: 'plain_text_input', value: '' } } } });
    expect(bad.status).toBe(200);
    expect(JSON.parse(bad.text)).toEqual({ response_action: 'errors', errors: { block: 'required' } });
    const good = await h.viewSubmission({ callbackId: 't_modal', values: { block: { field: { type: 'plain_text_input', value: 'ok' } } } });
    expect(good.status).toBe(200);
    await h.idle();
    expect(applied).toContain('view:ok');
  });

  it('does not apply a retry that reaches another replica (the claim is in the database)', async () => {
    const other = await startSlackHarness({ database: db, table: testTable(applied) });
    try {
      await h.slash('/t', 'echo once', { triggerId: 'trg-replica-1' });
      await h.idle();
      await other.slash('/t', 'echo once', { triggerId: 'trg-replica-1', retryNum: 1 });
      await other.idle();
      expect(applied.filter((a) => a === 'echo:once')).toHaveLength(1);
      expect(other.responses()).toHaveLength(0);
    } finally {
      await other.close();
    }
  });
});

describe('without Slack variables', () => {
  it('runs without Slack, says so once at start, and has no /slack/events route', async () => {
    const db = await createPostgresTestDb();
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk, _e, cb) {
        for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    const config = testConfig({ HOST: '127.0.0.1' });
    const logger = createLogger({ config, stdout: false, files: false, destination: sink, destinationLevel: 'info' });
    const bot = await startBot({ config, logger, database: db, role: 'all', feed: 'replay', port: 0, features: [healthFeature, createSlackFeature()] });
    try {
      const res = await fetch(`http://127.0.0.1:${bot.port}/slack/events`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(404);
      expect(lines.filter((l) => String(l.msg).includes('Slack is not configured'))).toHaveLength(1);
    } finally {
      await bot.stop();
      await db.close();
    }
  });
});
