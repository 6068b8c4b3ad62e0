// What a kill's headline, alert title and Slack reply say once every venue it asked confirmed none
// open: "every open order cancelled" only when a venue cancelled some; "no open orders" only when each
// venue's count is known to be 0. A cancel whose count never came back (its answer timed out, and the
// open-orders query then confirmed none) may have cancelled orders, and the phrase says that it is not known.
import { describe, expect, it } from 'vitest';
import { cancelledPhrase, clearCancelPhrase, confirmedClearPhrase } from '../../../src/domain/kraken-handoff.js';

describe('clearCancelPhrase', () => {
  it('says every open order cancelled when a venue cancelled some', () => {
    expect(clearCancelPhrase([{ venue: 'kraken', canceled: 2 }, { venue: 'paper', canceled: 0 }], 'direct')).toBe('every open order cancelled');
  });

  it('says no open orders only when every count is a known 0', () => {
    expect(clearCancelPhrase([{ venue: 'kraken', canceled: 0 }, { venue: 'paper', canceled: 0 }], 'direct')).toBe('no open orders (kraken and paper confirmed)');
    expect(clearCancelPhrase([{ venue: 'paper', canceled: 0 }], 'never_live')).toBe('no open orders (paper confirmed; nothing of this bot on Kraken)');
  });

  it('does not say there were none when a count never came back', () => {
    expect(clearCancelPhrase([{ venue: 'kraken', canceled: null }, { venue: 'paper', canceled: 0 }], 'direct'))
      .toBe('none open now (kraken and paper confirmed; how many kraken cancelled is not known)');
    expect(clearCancelPhrase([{ venue: 'paper', canceled: null }], 'never_live'))
      .toBe('none open now (paper confirmed; how many paper cancelled is not known; nothing of this bot on Kraken)');
  });

  it('does not say there were none when a CancelAll was carried out but its answer was lost (counted 0 by the ones after it)', () => {
    expect(clearCancelPhrase([{ venue: 'kraken', canceled: 0, lostAnswers: [1] }, { venue: 'paper', canceled: 0 }], 'direct'))
      .toBe('none open now (kraken and paper confirmed; how many kraken cancelled is not known)');
  });
});

describe('a venue line: what its cancels are known to have cancelled', () => {
  it('says the count Kraken answered when every answer came back', () => {
    expect(confirmedClearPhrase({ canceled: 2 })).toBe('2 cancelled, none open (confirmed)');
    expect(cancelledPhrase({ canceled: null })).toBe('cancel failed');
  });

  it('says which cancel\'s count is unknown when its answer was lost, and only a lower bound for the rest', () => {
    expect(confirmedClearPhrase({ canceled: 0, lostAnswers: [1] })).toBe('none open (confirmed); how many the first cancel cancelled is unknown (its answer was lost)');
    expect(confirmedClearPhrase({ canceled: 2, lostAnswers: [3] }, 'none left open')).toBe('at least 2 cancelled, none left open; how many cancel #3 cancelled is unknown (its answer was lost)');
    expect(confirmedClearPhrase({ canceled: null, lostAnswers: [1, 2] })).toBe('none open (confirmed); how many cancels #1, #2 cancelled is unknown (their answers were lost)');
    expect(cancelledPhrase({ canceled: null, lostAnswers: [1] })).toBe('no cancel answered');
    expect(cancelledPhrase({ canceled: 1, lostAnswers: [1] })).toBe('at least 1 cancelled');
  });
});
