// The flow set of short answers: an error with its reference id, a refusal, and "working on it"
// for long work.
import { context, section, type SlackMessage } from './message.js';

export function renderError(opts: { message: string; reference: string; hint?: string | undefined }): SlackMessage {
  const blocks = [section(`:warning: ${opts.message}`)];
  if (opts.hint) blocks.push(section(opts.hint));
  blocks.push(context(`Reference \`${opts.reference}\` — quote it when asking for help; the same id is in the bot's log.`));
  return { text: `${opts.message} (reference ${opts.reference})`, blocks };
}

export function renderInternalError(reference: string): SlackMessage {
  return renderError({ message: 'Something went wrong while handling that. Nothing was changed by this reply.', reference });
}

export function renderRefused(opts: { command: string; role: string; hint?: string | undefined }): SlackMessage {
  const text = `:no_entry: You are not allowed to run \`${opts.command}\`: it needs the ${opts.role} role. Nothing was done.`;
  return { text, blocks: [section(text), ...(opts.hint ? [context(opts.hint)] : [])] };
}

export function renderWorking(what: string): SlackMessage {
  const text = `${what} — the result will be posted here when it is done.`;
  return { text, blocks: [section(`:hourglass_flowing_sand: ${text}`)] };
}
