// Checklist 6, for information (it never fails): the open paper positions the switch to live sets
// aside, not sold, in the switch's own words (mode/paper-set-aside.ts); while live, those it did.
import { getBotState } from '../../bot-state.js';
import { paperPositionsSetAside, setAsideNote } from '../../mode/paper-set-aside.js';
import { defineCheck } from '../types.js';

export const paperPositionsCheck = defineCheck({
  id: 'golive.paper_positions',
  title: 'Open paper positions at the switch to live (for information)',
  checklistSection: 6,
  async run(ctx) {
    const [state, positions] = await Promise.all([getBotState(ctx.db), paperPositionsSetAside(ctx.db)]);
    const value = setAsideNote(state.mode, positions) ?? 'No open paper positions: the switch to live has none to set aside.';
    return { status: 'pass', value, fix: null, details: { storedMode: state.mode, paperSetAside: positions } };
  },
});
