import { describe, expect, it } from 'vitest';
import { gcLine, schedstat, slowestLine, waitLine, type Arrival, type ClientTimes, type GcPause } from '../../bench/slack-ack-timeline.js';

const arrival = (trigger: string, at: number, ack: number, cpu: number, runQueue: number): Arrival => ({ trigger, at, ack, cpu, runQueue });
const sent = (trigger: string, due: number, sentAt: number, answered: number): ClientTimes => ({ trigger, due, sent: sentAt, answered });

describe('bench:slack-ack timeline', () => {
  it('splits the slowest request into sent late, waiting to be read, read → ack and ack → answer, with the server runnable but not running while it waited', () => {
    // 99 quick requests and one that waited 40 ms to be read while the server sat in the run queue for 30 ms.
    const client: ClientTimes[] = [];
    const arrivals: Arrival[] = [];
    for (let i = 0; i < 99; i++) {
      client.push(sent(`t${i}`, i * 10, i * 10, i * 10 + 1));
      arrivals.push(arrival(`t${i}`, i * 10 + 0.2, i * 10 + 0.5, i, 0));
    }
    client.push(sent('slow', 1000, 1002, 1050));
    arrivals.push(arrival('slow', 1042, 1045, 105, 30));
    const pauses: GcPause[] = [{ at: 1010, ms: 8, kind: 1 }];
    const line = slowestLine(client, { pauses, arrivals });
    expect(line).toContain('slowest 1 (≥ 50.0 ms)');
    expect(line).toContain('sent late 2.0');
    expect(line).toContain('waiting to be read 40.0 (server on CPU 7.0, runnable not running 30.0)');
    expect(line).toContain('read → ack 3.0');
    expect(line).toContain('ack → answer received 5.0');
    expect(line).toContain('1/1 overlap a GC pause (median 8.0 ms of GC inside)');
  });

  it("reads this thread's CPU and run-queue time from Linux and prints a wait, or a dash where none was read", () => {
    const [cpu, wait, turns] = schedstat();
    if (process.platform === 'linux') {
      expect([cpu, wait, turns].every(Number.isFinite)).toBe(true);
      let spin = 0;
      for (let i = 0; i < 2e6; i++) spin += i;
      expect(spin).toBeGreaterThan(0);
      const [cpuAfter, waitAfter, turnsAfter] = schedstat();
      expect(cpuAfter).toBeGreaterThan(cpu);
      expect(waitAfter).toBeGreaterThanOrEqual(wait);
      expect(turnsAfter).toBeGreaterThanOrEqual(turns);
    }
    expect(waitLine(612.4)).toBe('612 ms');
    expect(waitLine(612.4, 3001)).toBe('612 ms over 3001 turns');
    expect(waitLine(Number.NaN)).toBe('—');
  });

  it('counts scavenges apart from major GCs', () => {
    const line = gcLine([{ at: 0, ms: 2, kind: 1 }, { at: 5, ms: 4, kind: 1 }, { at: 9, ms: 10, kind: 2 }, { at: 20, ms: 1, kind: 8 }]);
    expect(line).toBe('2 scavenges (6.0 ms, median 4.0, longest 4.0), 1 major (10.0 ms, longest 10.0)');
  });
});
