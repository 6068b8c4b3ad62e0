// Owns Slack for the soak as an operator has it with no workspace (README, "Rehearse live without
// money", steps 2 and 4): the product's stand-in, `ctb simulate-slack` of the release under soak, in a
// process of its own (so what the bot posted outlives every restart of the bot), the Slack settings
// that point the bot at it, and the people — `ctb simulate-slack command|react|messages`, each a `ctb`
// process of its own in the rehearsal directory with the bot's environment. What the bot said is read
// from the stand-in: its HTTP view (GET /_standin/messages, which `messages` prints) while waiting.
import type { LogEntry } from '../../src/slack-simulator/conversation-log.js';
import { readConversation } from '../../src/slack-simulator/people.js';
import { runCtb, startChild, type CtbRun, type Env, type LongChild } from './child.js';

export const SLACK = {
  signingSecret: 'soak-signing-secret-0123456789abcdef',
  botToken: 'xoxb-5050-6060-soaktokenvalue',
  ops: 'C0SOAKOPS',
  alerts: 'C0SOAKALR',
  operator: 'USOAKOPER',
  approverA: 'USOAKAPPA',
  approverB: 'USOAKAPPB',
} as const;

/** Where a person's `ctb simulate-slack …` runs: the bot's directory, its environment (PORT: the bot's), the release's binary. */
export interface PeopleShell {
  env: Env;
  cwd: string;
  bin: string;
}

export interface SoakSlack {
  child: LongChild;
  /** The SLACK_API_URL line the stand-in printed (…/api/). */
  apiUrl: string;
  /** Everything the bot said so far (messages, thread replies, ephemeral ones, replies to commands), oldest first. */
  conversation(): Promise<LogEntry[]>;
  /** `ctb simulate-slack command --as <user> "<line>"`. */
  command(shell: PeopleShell, user: string, line: string): Promise<CtbRun>;
  /**
   * `ctb simulate-slack react --as <user> --to <to> --wait 0` with the approval emoji: it returns once the
   * bot acknowledged the reaction, not after waiting for its replies to go quiet (2 s at the least) —
   * the soak reads what the bot answered from the stand-in itself, waiting for exactly that.
   */
  react(shell: PeopleShell, user: string, to: string): Promise<CtbRun>;
  /** `ctb simulate-slack messages --json`, parsed. */
  messages(shell: PeopleShell): Promise<LogEntry[]>;
  close(): Promise<void>;
}

/** What the bot's environment needs to talk to the stand-in (HTTP mode: no SLACK_APP_TOKEN), with operators and approvers. */
export function slackEnv(slack: SoakSlack): Env {
  return {
    SLACK_API_URL: slack.apiUrl, SLACK_BOT_TOKEN: SLACK.botToken, SLACK_SIGNING_SECRET: SLACK.signingSecret,
    SLACK_OPS_CHANNEL: SLACK.ops, SLACK_ALERTS_CHANNEL: SLACK.alerts,
    SLACK_OPERATORS: SLACK.operator, SLACK_APPROVERS: `${SLACK.approverA},${SLACK.approverB}`,
  };
}

function ok(run: CtbRun): CtbRun {
  if (run.code !== 0) throw new Error(`ctb ${run.args.join(' ')} → exit ${run.code}\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-3000)}`);
  return run;
}

/** Starts `ctb simulate-slack --port 0` (of `bin`, in `cwd`) and waits for the SLACK_API_URL line it prints. */
export async function startSoakSlack(cwd: string, bin: string): Promise<SoakSlack> {
  const child = startChild(['simulate-slack', '--port', '0'], {}, cwd, undefined, bin);
  const [, apiUrl] = await child.waitFor(/^SLACK_API_URL=(\S+)$/m, 120_000);
  const base = apiUrl!.replace(/\/api\/$/, '');
  const people = (shell: PeopleShell, args: string[]) => runCtb(['simulate-slack', ...args], shell.env, shell.cwd, { bin: shell.bin, timeoutMs: 600_000 });
  return {
    child, apiUrl: apiUrl!,
    conversation: () => readConversation(base),
    // The go-live audit runs before the request is posted: up to 5 minutes on a loaded machine.
    command: async (shell, user, line) => ok(await people(shell, ['command', '--as', user, line, '--wait', '300'])),
    react: async (shell, user, to) => ok(await people(shell, ['react', '--as', user, '--to', to, '--wait', '0'])),
    messages: async (shell) => JSON.parse(ok(await people(shell, ['messages', '--json'])).stdout) as LogEntry[],
    async close() {
      child.signal('SIGTERM');
      await child.exited;
    },
  };
}
