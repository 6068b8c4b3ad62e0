// Owns who acts on the bot: a Slack user, a terminal user, an HTTP caller or one of the bot's own jobs.

export type ActorSource = 'slack' | 'cli' | 'http' | 'system';

export interface Actor {
  /** Slack user id for Slack, `cli:<os user>` for the terminal, `system:<job>` for jobs. */
  id: string;
  source: ActorSource;
  /** Slack retry/idempotency key, when the request carries one. */
  requestId?: string;
}
