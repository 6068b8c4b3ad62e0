// Slack's SSL check is the one request that comes unsigned: the request gate lets it through and
// hands Bolt `ssl_check=1` alone, so nothing sent along with it (a slash command's fields, an
// interaction payload) reaches a listener, the command trail or a reply. The gate is the only
// signature check (Bolt's own is off), so this is what stands between an unsigned body and /kill.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBotState } from '../../src/services/bot-state.js';
import { killFeature } from '../../src/app/features/kill.js';
import { startSlackHarness, USERS, type SlackHarness } from '../support/slack-harness.js';

const FORM = 'application/x-www-form-urlencoded';
const form = (fields: Array<[string, string]>) => fields.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');

describe('an unsigned SSL check', () => {
  let h: SlackHarness;
  beforeAll(async () => {
    h = await startSlackHarness({ features: [killFeature] });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('is answered 200 and nothing sent with it runs: no kill, no trail row, no reply', async () => {
    const smuggled = [
      form([['ssl_check', '1'], ['command', '/kill'], ['text', 'smuggled'], ['user_id', USERS.operator], ['channel_id', 'C0TESTOPS'], ['trigger_id', 'trg-ssl-1'], ['response_url', 'http://127.0.0.1:9/respond/x']]),
      form([['ssl_check', '1'], ['payload', JSON.stringify({ type: 'block_actions', user: { id: USERS.operator }, actions: [{ action_id: 'alert_ack', value: '1' }] })]]),
    ];
    for (const body of smuggled) {
      const res = await h.send(body, FORM, { signature: null });
      expect(res.status).toBe(200);
    }
    await h.idle();
    expect((await getBotState(h.ctx.db)).halted).toBe(false);
    expect(await h.commandLog()).toEqual([]);
    expect(h.responses()).toEqual([]);
  });

  it('is the only unsigned request let through: the same command without ssl_check is refused 401', async () => {
    const res = await h.send(form([['command', '/kill'], ['text', 'unsigned'], ['user_id', USERS.operator], ['trigger_id', 'trg-ssl-2']]), FORM, { signature: null });
    expect(res.status).toBe(401);
    await h.idle();
    expect((await getBotState(h.ctx.db)).halted).toBe(false);
    expect(await h.commandLog()).toEqual([]);
  });
});
