// The bot's Bolt receiver over HTTP (src/slack/gated-receiver.ts): what it keeps of a request once
// the ack has answered it. Bolt's arguments (the event, its ack among them) stay held while the
// request's acked work waits in its queue; the HTTP response must not stay held with them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { App, Logger as BoltLogger, ReceiverEvent } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { GatedReceiver } from '../../../src/slack/gated-receiver.js';

setFlagsFromString('--expose-gc');
/** A full collection, from a context made after the flag above (the test's own has no `gc`). */
const collect = runInNewContext('gc') as () => void;

const quiet: BoltLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => 'error' as never,
  setName: () => undefined,
};

/** Just what the receiver calls on a response; the statuses it wrote go to `written`. */
function fakeResponse(written: number[]): ServerResponse {
  let sent = false;
  return {
    get headersSent() {
      return sent;
    },
    writeHead(status: number) {
      sent = true;
      written.push(status);
      return this;
    },
    end() {
      return this;
    },
  } as unknown as ServerResponse;
}

const fakeRequest = { headers: {} } as IncomingMessage;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('GatedReceiver', () => {
  it('lets go of the HTTP response once the ack has answered it, while the acked work still holds the event', async () => {
    const held: ReceiverEvent[] = [];
    // As Bolt and the delivery guard do: ack at once, then hold the event while the work is queued.
    const app = {
      processEvent: async (event: ReceiverEvent) => {
        held.push(event);
        await event.ack();
        await new Promise(() => undefined);
      },
    } as unknown as App;
    const receiver = new GatedReceiver(quiet);
    receiver.init(app);
    const written: number[] = [];
    const response = (() => {
      const res = fakeResponse(written);
      receiver.handle(fakeRequest, res, { command: '/golive', user_id: 'U1', text: 'status' });
      return new WeakRef(res);
    })();
    await nextTurn();
    collect();

    expect(written).toEqual([200]);
    expect(held).toHaveLength(1);
    expect(response.deref()).toBeUndefined();
  });

  it('still answers 500 when Bolt fails before the ack, and only once', async () => {
    const app = { processEvent: async () => Promise.reject(new Error('no listener chain')) } as unknown as App;
    const receiver = new GatedReceiver(quiet);
    receiver.init(app);
    const written: number[] = [];
    receiver.handle(fakeRequest, fakeResponse(written), { command: '/golive', user_id: 'U1', text: 'status' });
    await nextTurn();

    expect(written).toEqual([500]);
  });
});
