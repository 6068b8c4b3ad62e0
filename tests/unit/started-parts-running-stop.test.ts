// The running bot's stop is bounded (src/app/started-parts.ts): a part whose stop does not end (it waits
// on a database connection that went dead) is left behind after RUNNING_STOP_WAIT_MS, the parts after it
// get STALLED_STOP_WAIT_MS each, and the stop says which were left, for the "stopped" line to name them.
// Unbounded, the first such part held the stop, and the process, for ever after "stopping".
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RUNNING_STOP_WAIT_MS, STALLED_STOP_WAIT_MS, StartedParts } from '../../src/app/started-parts.js';
import { leftBehindPhrase } from '../../src/cli/commands/start.js';

afterEach(() => {
  vi.useRealTimers();
});

describe("a running bot's parts' stop", () => {
  it('leaves behind, within its bound, the parts whose stop does not end, and names them', async () => {
    vi.useFakeTimers();
    const lines: Array<{ msg: string; feature?: string }> = [];
    const parts = new StartedParts(pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) }));
    const stopped: string[] = [];
    const never = () => new Promise<void>(() => undefined);
    parts.started('kill', { stop: async () => void stopped.push('kill') });
    parts.started('alerts', { stop: never });
    parts.started('engine', { stop: never });

    let left: string[] | undefined;
    const stopping = parts.stop('running').then((names) => (left = names));
    await vi.advanceTimersByTimeAsync(RUNNING_STOP_WAIT_MS + STALLED_STOP_WAIT_MS);
    await stopping;

    expect(left).toEqual(['engine', 'alerts']);
    expect(stopped).toEqual(['kill']);
    expect(lines.map((l) => l.msg)).toEqual([
      `the part "engine" had not stopped after ${RUNNING_STOP_WAIT_MS} ms (it waits on something that does not answer, most likely the database): left behind`,
      `the part "alerts" had not stopped after ${STALLED_STOP_WAIT_MS} ms (it waits on something that does not answer, most likely the database): left behind`,
    ]);
    expect(leftBehindPhrase(left ?? [], 'ours')).toBe(' (left behind: engine, alerts; the engine lease was not released: a standby takes over once it goes stale)');
    expect(leftBehindPhrase(['kill', 'alerts'], 'none')).toBe(' (left behind: kill, alerts)');
    expect(leftBehindPhrase([], 'released')).toBe('');
  });

  it("says of the engine's lease what its row is as the line is written", () => {
    // The engine's stop, left behind, released the lease after all (before the database closed).
    expect(leftBehindPhrase(['engine'], 'released')).toBe(' (left behind: engine; the engine lease was released once its stop ended)');
    // A standby's engine part, or one whose lease another holder took: there is no lease of its own to speak of.
    expect(leftBehindPhrase(['engine', 'alerts'], 'none')).toBe(' (left behind: engine, alerts)');
    // Every part stopped (or the engine did, and another part was left behind), but the release's delete
    // did not happen (the database refused it): the row is still this process's, and the line says so.
    expect(leftBehindPhrase([], 'ours')).toBe(' (the engine lease was not released: a standby takes over once it goes stale)');
    expect(leftBehindPhrase(['kill'], 'ours')).toBe(' (left behind: kill; the engine lease was not released: a standby takes over once it goes stale)');
    expect(leftBehindPhrase(['kill'], 'released')).toBe(' (left behind: kill)');
  });
});
