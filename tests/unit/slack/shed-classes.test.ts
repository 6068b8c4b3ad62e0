// Every slash command and button the Slack app registers has a class written in
// src/slack/shed-policy.ts (SLASH_CLASSES, ACTION_CLASSES), and those that take risk off are `risk`:
// never turned away, never dropped as too old. A new row without a class fails here, so a button
// that cancels or closes cannot default to one that may be dropped.
import { describe, expect, it } from 'vitest';
import { listenerTable } from '../../../src/slack/listeners/table.js';
import { ACTION_CLASSES, RISK_BUTTON_NAMES, SLASH_CLASSES, riskRequestsPhrase, shedClassOf, staleAfterMs } from '../../../src/slack/shed-policy.js';

const VOTES = { APPROVAL_EMOJI: 'white_check_mark', REJECTION_EMOJI: 'x' };

/** `/command` for a row taking any text, `/command sub` for a named subcommand (as SLASH_CLASSES keys them). */
const slashKeys = listenerTable.commands.flatMap((row) => row.subcommands.map((sub) => (sub.name === null ? row.command : `${row.command} ${sub.name}`)));

/** A family's action ids: its pattern must be ^prefix(a|b|…)suffix$ to be listed here. */
function idsOf(actionId: string | RegExp): string[] {
  if (typeof actionId === 'string') return [actionId];
  const family = /^\^(\w*)\(([\w|]+)\)(\w*)\$$/.exec(actionId.source);
  if (!family) throw new Error(`cannot list the action ids of ${String(actionId)}: give each its own row or write it as ^prefix(a|b)$`);
  return family[2]!.split('|').map((member) => `${family[1]}${member}${family[3]}`);
}
const actionIds = listenerTable.actions.flatMap((row) => idsOf(row.actionId));

const slashBody = (key: string) => {
  const [command, ...text] = key.split(' ');
  return { command, text: [...text, 'some words'].join(' '), response_url: 'http://127.0.0.1:1/r' };
};
const pressBody = (actionId: string) => ({ type: 'block_actions', response_url: 'http://127.0.0.1:1/r', actions: [{ action_id: actionId }] });

describe('every registered slash command and button has its shed class', () => {
  it('names each registered command and action id, and nothing the app does not register', () => {
    expect(slashKeys.length).toBeGreaterThan(10);
    expect(slashKeys.filter((key) => !Object.hasOwn(SLASH_CLASSES, key))).toEqual([]);
    expect(Object.keys(SLASH_CLASSES).filter((key) => !slashKeys.includes(key))).toEqual([]);
    expect(actionIds.length).toBeGreaterThan(5);
    expect(actionIds.filter((id) => !Object.hasOwn(ACTION_CLASSES, id))).toEqual([]);
    expect(Object.keys(ACTION_CLASSES).filter((id) => !actionIds.includes(id))).toEqual([]);
  });

  it('classes as risk, never dropped however old, everything that takes risk off', () => {
    const risk = [
      ...slashKeys.filter((key) => shedClassOf(slashBody(key), VOTES) === 'risk'),
      ...actionIds.filter((id) => shedClassOf(pressBody(id), VOTES) === 'risk'),
    ];
    expect(risk.sort()).toEqual(['/exit', '/kill', '/mode paper', '/pause', 'exit_trade_confirm', 'incident_item_cancel_orders', 'incident_item_close_positions']);
    for (const id of ['incident_item_cancel_orders', 'incident_item_close_positions']) {
      expect(staleAfterMs(shedClassOf(pressBody(id), VOTES), pressBody(id))).toBe(Number.POSITIVE_INFINITY);
    }
  });

  it('names in the busy and too-late messages every risk request, each button by a name of its own', () => {
    const riskButtons = actionIds.filter((id) => shedClassOf(pressBody(id), VOTES) === 'risk');
    expect(riskButtons.filter((id) => !Object.hasOwn(RISK_BUTTON_NAMES, id))).toEqual([]);
    const phrase = riskRequestsPhrase();
    for (const key of slashKeys.filter((k) => shedClassOf(slashBody(k), VOTES) === 'risk')) expect(phrase).toContain(key);
    for (const id of riskButtons) expect(phrase).toContain(RISK_BUTTON_NAMES[id]);
    expect(phrase).toBe("/kill, /exit, /pause, /mode paper, the exit's confirm button, the incident's cancel orders button and the incident's close positions button");
  });

  it('reads the class of what the body names, not of what an object has by default', () => {
    expect(shedClassOf({ command: 'constructor', text: '' }, VOTES)).toBe('command');
    expect(shedClassOf(pressBody('constructor'), VOTES)).toBe('decision');
    expect(shedClassOf({ type: 'block_actions', actions: [{ action_id: 'alert_ack' }, { action_id: 'incident_item_cancel_orders' }] }, VOTES)).toBe('risk');
  });
});
