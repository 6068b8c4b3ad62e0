// An engine request taken by a process that then died (`kill -9` of a worker mid-cancel): on the same
// host and boot its pid proves it gone, so a runner there puts the request back at once and runs it
// (not after the two-minute stale time), and `ctb incident` says the taker is gone rather than "its
// answer shows here". A claim whose taker runs, or made in another pid scope (another machine or
// container), is left as it is. The dead process is a real child that has exited.
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { silentLogger } from '../../src/logger.js';
import { readBootId } from '../../src/services/engine-lease/holder-gone.js';
import { claimScopeFor } from '../../src/services/engine-requests/claim-gone.js';
import { startRequestRunner } from '../../src/services/engine-requests/runner.js';
import { claimEngineRequest, enqueueEngineRequest, getEngineRequest } from '../../src/services/engine-requests/store.js';
import { waitingOn } from '../../src/services/kill/waiting-request.js';
import { usePostgresTestDb } from '../support/db.js';

const database = usePostgresTestDb({ truncate: ['engine_requests'] });
const clock = new ManualClock(new Date('2026-12-03T10:00:00Z'));

/** The pid of a process that ran on this host and has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

/** A cancel request claimed by `holder`, its claim recorded in pid scope `bootId` (as that process's runner records it). */
async function claimedBy(holder: string, bootId: string | null) {
  const { db } = database();
  const request = await enqueueEngineRequest(db, clock, { kind: 'cancel_all', requestedBy: 'system:kill' });
  const claimed = await claimEngineRequest(db, holder, ['cancel_all'], claimScopeFor(holder, bootId));
  expect(claimed).toMatchObject({ id: request.id, status: 'running', claimedBy: holder });
  return request.id;
}

function runner(ran: number[]) {
  return startRequestRunner({ db: database().db, clock, logger: silentLogger() }, {
    holder: `${hostname()}:${process.pid}`, timer: false, staleClaimMs: 120_000,
    handlers: { cancel_all: async (r) => { ran.push(r.id); return { ok: true, summary: 'cancelled' }; } },
  });
}

describe('a request taken by a process that is gone', () => {
  const here = readBootId();

  it('is put back at once and run by a runner on the same host and boot, well before the stale time', async () => {
    expect(here).not.toBeNull();
    const id = await claimedBy(`${hostname()}:${await deadPid()}`, here);
    const ran: number[] = [];
    await runner(ran).drain();
    expect(ran).toEqual([id]);
    expect(await getEngineRequest(database().db, id)).toMatchObject({ status: 'done', claimedBy: `${hostname()}:${process.pid}` });
  });

  it('is said gone by ctb incident, not "its answer shows here"', async () => {
    const holder = `${hostname()}:${await deadPid()}`;
    const id = await claimedBy(holder, here);
    const waiting = await waitingOn({ db: database().db }, id);
    expect(waiting?.text).toBe(`taken by ${holder} (request #${id}), but that process is gone (it ended without finishing it): the request is taken again by a bot with the Kraken key that runs next`);
  });

  it('is left to the stale time when its taker still runs, or ran in another pid scope', async () => {
    const live = await claimedBy(`${hostname()}:${process.pid === 1 ? 2 : 1}`, here);
    const elsewhere = await claimedBy(`${hostname()}:${await deadPid()}`, 'another-boot/pid:[4026531836]');
    const unknown = await claimedBy(`${hostname()}:${await deadPid()}`, null);
    const ran: number[] = [];
    await runner(ran).drain();
    expect(ran).toEqual([]);
    for (const id of [live, elsewhere, unknown]) {
      expect((await getEngineRequest(database().db, id))?.status).toBe('running');
      expect((await waitingOn({ db: database().db }, id))?.text).toContain('which cancels on Kraken and confirms');
    }
  });
});
