// POST /slack/events through the bot's real HTTP server and Bolt's receiver: requests dated more
// than 5 minutes from now are refused both ways (401, as Bolt answers a stale one), and no body —
// signed null, payload=null, arrays, wrong types, huge — crashes the process: each is refused with
// 400/413 and the bot goes on serving. Any unhandled rejection in this process fails the test.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getBotState } from '../../src/services/bot-state.js';
import { killFeature } from '../../src/app/features/kill.js';
import { startSlackHarness, USERS, type SlackHarness } from '../support/slack-harness.js';

let h: SlackHarness;
const rejections: unknown[] = [];
const onRejection = (reason: unknown) => void rejections.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onRejection);
  h = await startSlackHarness({ features: [killFeature] });
});
afterAll(async () => {
  process.off('unhandledRejection', onRejection);
  await h?.close();
});
afterEach(async () => {
  await h.idle();
  // Give anything Bolt started without awaiting the chance to reject.
  await new Promise((r) => setTimeout(r, 50));
  expect(rejections).toEqual([]);
});

const now = () => Math.floor(Date.now() / 1000);
const FORM = 'application/x-www-form-urlencoded';
const form = (fields: Array<[string, string]>) => fields.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');

async function stillServing(): Promise<void> {
  expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
  const before = h.responses().length;
  expect((await h.slash('/mode', 'status', { user: USERS.reader })).status).toBe(200);
  await h.idle();
  expect(h.responses().length).toBeGreaterThan(before);
}

describe('request timestamps', () => {
  it('refuses a validly signed /kill dated 10 minutes in the future (401), and nothing is killed or logged', async () => {
    const res = await h.slash('/kill', 'from the future', { user: USERS.operator, timestamp: now() + 600 });
    expect(res.status).toBe(401);
    await h.idle();
    expect((await getBotState(h.ctx.db)).halted).toBe(false);
    expect((await h.commandLog()).filter((e) => e.command === 'kill')).toEqual([]);
  });

  it('refuses one dated 10 minutes in the past (401), and accepts one 4 minutes off either way', async () => {
    expect((await h.slash('/mode', 'status', { timestamp: now() - 600 })).status).toBe(401);
    expect((await h.slash('/mode', 'status', { timestamp: now() + 240 })).status).toBe(200);
    expect((await h.slash('/mode', 'status', { timestamp: now() - 240 })).status).toBe(200);
  });

  it('refuses a timestamp that is not a number, and an unsigned request (401)', async () => {
    expect((await h.send('{"type":"event_callback"}', 'application/json', { signature: null })).status).toBe(401);
    const res = await fetch(`${h.url}/slack/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-slack-request-timestamp': 'soon', 'x-slack-signature': 'v0=00' }, body: '{}' });
    expect(res.status).toBe(401);
  });
});

describe('odd bodies, validly signed', () => {
  const cases: Array<[string, string, string]> = [
    ['JSON null', 'null', 'application/json'],
    ['a JSON array', '[]', 'application/json'],
    ['a JSON number', '5', 'application/json'],
    ['a JSON string', '"kill"', 'application/json'],
    ['an object without a type', '{}', 'application/json'],
    ['an event_callback whose event is null', '{"type":"event_callback","event":null}', 'application/json'],
    ['a url_verification without a challenge', '{"type":"url_verification"}', 'application/json'],
    ['not JSON at all', '{nope', 'application/json'],
    ['payload=null', form([['payload', 'null']]), FORM],
    ['payload=[]', form([['payload', '[]']]), FORM],
    ['payload={}', form([['payload', '{}']]), FORM],
    ['payload that is not JSON', form([['payload', '{']]), FORM],
    ['payload given twice', form([['payload', '{"type":"block_actions"}'], ['payload', '{"type":"block_actions"}']]), FORM],
    ['block_actions whose actions is a string', form([['payload', JSON.stringify({ type: 'block_actions', user: { id: USERS.operator }, actions: 'incident_item_close_positions' })]]), FORM],
    ['block_actions whose user is a string', form([['payload', JSON.stringify({ type: 'block_actions', user: USERS.operator, actions: [] })]]), FORM],
    ['a view_submission whose view is null', form([['payload', JSON.stringify({ type: 'view_submission', user: { id: USERS.operator }, view: null })]]), FORM],
    ['a slash command with its text given twice', form([['command', '/kill'], ['user_id', USERS.operator], ['text', 'a'], ['text', 'b']]), FORM],
    ['a form that is neither a command nor a payload', form([['hello', 'world']]), FORM],
  ];

  it.each(cases)('refuses %s with 400 and keeps serving', async (_name, body, contentType) => {
    const res = await h.send(body, contentType);
    expect(res.status).toBe(400);
  });

  it('a slash command without response_url or channel is answered without crashing (no kill from a malformed form)', async () => {
    const res = await h.send(form([['command', '/mode'], ['user_id', USERS.reader], ['text', 'status']]), FORM);
    expect([200, 400]).toContain(res.status);
    await h.idle();
  });

  it('refuses a body over 4 MB with 413', async () => {
    const res = await h.send(JSON.stringify({ type: 'event_callback', event: { type: 'message', text: 'x'.repeat(5 * 1024 * 1024) } }), 'application/json');
    expect(res.status).toBe(413);
  });

  it('after all of them the bot still answers /healthz and slash commands', async () => {
    await stillServing();
  });
});
