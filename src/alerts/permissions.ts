// Owns who may act on an alert group. The decision (documented in the README's on-call section):
//  - Acknowledge and Resolve: operators (SLACK_OPERATORS), approvers (SLACK_APPROVERS), and the
//    people the pipeline pages — members of the rotation, whoever holds the pager now (an override),
//    and anyone paged for this group. Whoever is woken up must be able to stop the paging and close
//    what they fixed; neither hides anything (an acked alert stays open, a resolved one reopens as a
//    new thread on the next occurrence).
//  - Silence: operators and approvers only. It stops paging and thread posts for up to a day, so
//    it needs the authority of the people who run the bot.
// The terminal and the bot's own jobs act with the server's authority (as for every command).
import type { Actor } from '../domain/actor.js';
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import { wasPaged } from '../db/queries/alert-escalations.js';
import { getRotation } from '../services/oncall/store.js';
import { whoIsOnCall } from '../services/oncall/who-is-on-call.js';

export type AlertAction = 'ack' | 'resolve' | 'silence';

export type AlertPermission = { allowed: true; as: string } | { allowed: false; reason: string };

const ACTION_WORD: Record<AlertAction, string> = { ack: 'acknowledge', resolve: 'resolve', silence: 'silence' };

export const ALERT_ACTION_RULE: Record<AlertAction, string> = {
  ack: 'operators, approvers, rotation members, whoever is on call now, and anyone paged for the alert',
  resolve: 'operators, approvers, rotation members, whoever is on call now, and anyone paged for the alert',
  silence: 'operators and approvers (silencing stops the paging)',
};

export async function alertActionPermission(input: {
  db: Db;
  config: Pick<Config, 'SLACK_OPERATORS' | 'SLACK_APPROVERS'>;
  actor: Actor;
  action: AlertAction;
  groupId: number;
}): Promise<AlertPermission> {
  const { actor, config } = input;
  if (actor.source !== 'slack') return { allowed: true, as: actor.source };
  if (config.SLACK_OPERATORS.includes(actor.id)) return { allowed: true, as: 'operator' };
  if (config.SLACK_APPROVERS.includes(actor.id)) return { allowed: true, as: 'approver' };
  const refused: AlertPermission = { allowed: false, reason: `Only ${ALERT_ACTION_RULE[input.action]} may ${ACTION_WORD[input.action]} alerts.` };
  if (input.action === 'silence') return refused;
  const oncall = await whoIsOnCall(input.db); // on the database's clock: every replica agrees who holds the pager
  if (oncall.primary === actor.id) return { allowed: true, as: 'on-call' };
  const rotation = await getRotation(input.db);
  if (rotation?.members.includes(actor.id)) return { allowed: true, as: 'rotation member' };
  if (await wasPaged(input.db, { groupId: input.groupId, userId: actor.id })) return { allowed: true, as: 'paged for this alert' };
  return refused;
}
