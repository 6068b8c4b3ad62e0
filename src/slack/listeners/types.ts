// The shapes of the listener table's rows (see ./table.ts for how to add one) and of the request
// object every row's handler receives: one per Slack request, built in one place (./request.ts).
import type { BlockAction, SlashCommand, ViewSubmitAction, webApi } from '@slack/bolt';
import type { z } from 'zod';
import type { Command, CommandResult, Role } from '../../../commands/define.js';
import type { Actor, AppContext } from '../../app/context.js';
import type { Logger } from '../../logger.js';
import type { Replier } from '../reply.js';

export interface SlackRequest {
  ctx: AppContext;
  /** The Slack user behind the request; requestId is the delivery key (idempotency). */
  actor: Actor;
  client: webApi.WebClient;
  /** Badged replies: ephemeral, in channel, post (returns ts), update. */
  reply: Replier;
  logger: Logger;
  /**
   * runCommand(command, ctx, actor, rawArgs): parses, checks the role, writes command_log.
   * `onKillProgress`: told each line a cancel of this command says while Kraken is slow (a call that
   * missed its deadline, no further try sent) — for this request alone.
   */
  run<S extends z.ZodType, R extends CommandResult>(command: Command<S, R>, rawArgs: unknown, opts?: { onKillProgress?: (line: string) => void }): Promise<R>;
  /** How long handlers wait on for work they handed over (the app's options, else the shipped waits). */
  waits: SlackWaits;
}

/** What a handler waits for after its first reply; the shipped values are request.ts SLACK_WAITS. */
export interface SlackWaits {
  /** How long the exit button waits on, after its pending message, for the engine's answer (whole seconds). */
  exitAnswerSeconds: number;
}

export interface SlashRequest extends SlackRequest {
  /** '/mode' */
  command: string;
  /** The subcommand word that matched ('status'), or '' for a catch-all row. */
  sub: string;
  /** The words after the subcommand. */
  words: string[];
  /** The text after the subcommand, trimmed (a /kill reason, an /oncall override spec). */
  rest: string;
  body: SlashCommand;
  /** The whole listener table (help lists every command from it). */
  table: ListenerTable;
}

export interface SlashSubcommand {
  /** First word of the text that selects this row (case-insensitive); null = takes any text (/kill [reason]). */
  name: string | null;
  /** One line, shown in help and in usage replies: '/stats [24h|7d|30d|all]'. */
  usage: string;
  summary: string;
  /** Who may run it; checked before the handler runs (and again by runCommand). */
  role: Role;
  /**
   * Its command's first read is the status read (services/mode-status.ts): the delivery's claim
   * reads the status rows in its own statement and the command takes them (deliveries.ts).
   */
  readsStatus?: boolean;
  handle(req: SlashRequest): Promise<void>;
}

export interface SlashCommandRow {
  /** As configured in slack/manifest.yaml: '/golive'. */
  command: `/${string}`;
  summary: string;
  /** The subcommand an empty text selects; without it an empty text gets the usage reply. */
  whenEmpty?: string;
  subcommands: SlashSubcommand[];
}

export interface EventRequest<E = Record<string, unknown>> extends SlackRequest {
  event: E & { type: string };
  body: Record<string, unknown> & { event_id?: string };
}

export interface EventRow {
  /** Events API type: 'app_home_opened', 'reaction_added', … (subscribe to it in slack/manifest.yaml). */
  event: string;
  handle(req: EventRequest): Promise<void>;
}

export interface ActionRequest extends SlackRequest {
  action: BlockAction['actions'][number];
  body: BlockAction;
}

export interface ActionRow {
  /** The action_id of the button/select (a RegExp for families such as /^alert_(ack|resolve)$/). */
  actionId: string | RegExp;
  handle(req: ActionRequest): Promise<void>;
}

export interface ViewRequest extends SlackRequest {
  view: ViewSubmitAction['view'];
  body: ViewSubmitAction;
  /** View submissions ack themselves (the ack carries response_action, e.g. field errors). Call it first. */
  ack(response?: Record<string, unknown>): Promise<void>;
}

export interface ViewRow {
  callbackId: string | RegExp;
  handle(req: ViewRequest): Promise<void>;
}

/** Everything the Slack app listens to, grouped by Slack surface. */
export interface ListenerTable {
  commands: SlashCommandRow[];
  events: EventRow[];
  actions: ActionRow[];
  views: ViewRow[];
}
