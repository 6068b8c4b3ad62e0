// Who a halt saved nowhere halts when `ctb kill` raised it (src/domain/local-halt.ts): the command exits
// and halts nothing, and a running bot is not halted by it until the database holds it. The bot may be
// halted already, not running, or unable to trade with the database down: never said to keep trading.
import { describe, expect, it } from 'vitest';
import { unsavedHaltPhrase, unsavedHaltText } from '../../../src/domain/local-halt.js';

describe('a halt saved nowhere, from ctb kill', () => {
  it.each([false, true])('says a running bot is not halted by it, not that one keeps trading (write may still land: %s)', (timedOut) => {
    const phrase = unsavedHaltPhrase(false, timedOut, 'cli');
    const text = unsavedHaltText('timeout', 'ENOTDIR', false, timedOut, 'cli');
    for (const words of [phrase, text]) {
      expect(words).not.toMatch(/keeps trading/);
      expect(words).toMatch(/a running bot is not halted by (this|it)/);
      expect(words).toContain('`ctb kill` halts nothing once it exits');
    }
    expect(phrase).toBe(timedOut
      ? 'the halt is NOT saved in DATA_DIR (it could not be written) and not confirmed in the database (it did not answer in time; the write may still land): a running bot is not halted by this until the write lands (its halt watcher then latches it within a poll); `ctb kill` halts nothing once it exits'
      : 'the halt is NOT saved (the database did not answer and DATA_DIR could not be written): a running bot is not halted by this; `ctb kill` halts nothing once it exits');
  });
});
