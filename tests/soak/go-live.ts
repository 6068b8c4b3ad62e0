// Owns going live the way a rehearsal must: earn what the go-live audit asks for honestly — closed
// paper trades on the simulator's prices (the replay feed is not evidence), a delivered test alert,
// an on-call rotation, a verified backup — then `/mode live` from an operator and two distinct
// approvers' reactions on the request the bot posted (the requester's own not counted), each typed by
// `ctb simulate-slack command|react` into the product's Slack stand-in as the README's step 4 has an
// operator do, and read back from it. The audit runs at the request and
// at the switch; nothing about it is stubbed — its release check among them, which fails a live switch
// unless the engine runs a tagged release built from a clean tree: the bot and the operator's shell
// run a release directory of the tree under test, committed and tagged (tests/support/release-dir.ts).
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../src/db/client.js';
import { trades } from '../../src/db/schema/index.js';
import type { LogEntry } from '../../src/slack-simulator/conversation-log.js';
import type { SoakBot } from './bot-process.js';
import { describeRun, runCtb, waitUntil, type CtbRun, type Env } from './child.js';
import { SLACK, type PeopleShell, type SoakSlack } from './slack-driver.js';

export interface GoLiveInput {
  db: Db;
  bot: SoakBot;
  slack: SoakSlack;
  /** The operator's shell: the same environment as the bot (its .env), in the same directory. */
  shellEnv: Env;
  cwd: string;
  /** The release's bin/ctb.js, which the operator's shell runs as the bot does. */
  bin: string;
  minPaperTrades: number;
  log: (line: string) => void;
  /** Once the paper trades are there, before `/mode live` (the soak slows its market back down). */
  afterPaper: () => Promise<void>;
  /** Ends a phase of the soak's timing (the paper trading, then the approvals). */
  phaseDone: (name: string) => void;
}

async function closedPaperTradesOnLivePrices(db: Db): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(trades)
    .where(and(eq(trades.mode, 'paper'), eq(trades.feed, 'kraken'), eq(trades.status, 'closed')));
  return row?.n ?? 0;
}

async function ctbOk(args: string[], input: GoLiveInput): Promise<string> {
  const run = await runCtb(args, input.shellEnv, input.cwd, { bin: input.bin });
  if (run.code !== 0) throw new Error(`a go-live prerequisite failed: ${describeRun(run)}`);
  return run.stdout;
}

export interface WentLive {
  requestId: number;
  paperTrades: number;
  /** What the bot told the requester alone about their own reaction. */
  requesterRefusal: string;
  /** The request's thread, as `ctb simulate-slack messages --json` lists it. */
  thread: string[];
}

/** Everything the audit checks that a rehearsal has to do by hand, then the two-approver switch. */
export async function goLiveThroughApprovals(input: GoLiveInput): Promise<WentLive> {
  const { bot, slack, log } = input;
  // Checklist 3, 7 and 9, done by the operator while the bot paper trades (each is a shell command of
  // its own, as a person would run them meanwhile): a test alert delivered to the alerts channel; a
  // snapshot of the configuration and the logs the bot has written; a rotation of two people.
  const chores = Promise.all([
    ctbOk(['alerts', 'test'], input).then(() => log('ctb alerts test: delivered')),
    ctbOk(['oncall', 'set', '--members', `${SLACK.approverA},${SLACK.approverB}`, '--handoff', 'mon 09:00', '--tz', 'UTC'], input).then(() => log('ctb oncall set: two people')),
    ctbOk(['backup', '--reason', 'pre-go-live'], input).then(() => log('ctb backup: snapshot taken')),
  ]);
  // Checklist 6: GOLIVE_MIN_PAPER_TRADES closed paper trades on the simulator's (live-shaped) prices.
  let paperTrades = 0;
  await Promise.all([chores, waitUntil(async () => (paperTrades = await closedPaperTradesOnLivePrices(input.db)) >= input.minPaperTrades, 600_000,
    () => `for ${input.minPaperTrades} closed paper trades on the kraken feed (have ${paperTrades}):\n${bot.current.child.output().slice(-3000)}`, 1_000)]);
  log(`paper trading: ${paperTrades} closed trades on the simulator's prices`);
  await input.afterPaper();
  input.phaseDone(`paper trading to ${input.minPaperTrades} closed trades (chores beside it)`);

  // Step 4 of the README's rehearsal, as the operator's shells run it: each person a `ctb simulate-slack`
  // of the release, in the bot's directory with its environment (PORT: the bot's, as its .env names it).
  const shell: PeopleShell = { env: { ...input.shellEnv, PORT: new URL(bot.current.url).port }, cwd: input.cwd, bin: input.bin };
  const said = () => slack.conversation();
  // The operator's command prints the bot's answers once they have gone quiet for 2 s; the approvers
  // react as soon as the stand-in shows the request posted (what they read), while it still waits.
  const asking = slack.command(shell, SLACK.operator, '/mode live');
  let asked: CtbRun | undefined;
  let askFailed: unknown;
  void asking.then((run) => (asked = run), (err: unknown) => (askFailed = err));
  let request: LogEntry | undefined;
  await waitUntil(async () => {
    if (askFailed !== undefined) throw askFailed;
    request = (await said()).find((m) => m.kind === 'message' && m.channel === SLACK.ops && m.threadTs === undefined && /Request #\d+ .*switch to LIVE/.test(m.text));
    return request !== undefined;
  }, 300_000, () => `for the change request in ${SLACK.ops}; ctb simulate-slack command printed:\n${asked?.stdout.slice(-4000) ?? '(still running)'}`, 250);
  const requestId = Number(/Request #(\d+)/.exec(request!.text)![1]);
  // Slack shows the message before the bot has stored which message it is; the operator is told
  // "Request #N is posted" once it has, and approvers react after that (one reacting sooner is not counted).
  let replies: string[] = [];
  await waitUntil(async () => {
    replies = (await said()).filter((m) => m.kind === 'reply' && m.user === SLACK.operator).map((m) => m.text);
    return replies.some((r) => r.includes(`Request #${requestId} is posted`));
  }, 120_000, () => `for the bot to confirm request #${requestId} to the operator: ${replies.join('\n').slice(-2000)}`, 250);
  log(`/mode live: request #${requestId} posted (the audit passed at the request)`);

  // The requester reacts too: the bot tells them alone that it does not count.
  await slack.react(shell, SLACK.operator, 'the live request');
  let refusal: LogEntry | undefined;
  await waitUntil(async () => {
    refusal = (await said()).find((m) => m.kind === 'ephemeral' && m.user === SLACK.operator && /did not count/.test(m.text));
    return refusal !== undefined;
  }, 120_000, () => `for the bot's answer to the requester's own reaction on request #${requestId}`, 250);
  // The second approver reacts once the thread shows the first counted, as people who read it do.
  await slack.react(shell, SLACK.approverA, 'the live request');
  await waitUntil(async () => (await said()).some((m) => m.threadTs === request!.ts && m.text.includes(`Approval 1 of 2: ${SLACK.approverA}`)), 120_000,
    () => `for request #${requestId}'s thread to count ${SLACK.approverA}'s approval`, 250);
  await slack.react(shell, SLACK.approverB, 'the live request');
  const thread = async () => (await said()).filter((m) => m.threadTs === request!.ts).map((m) => m.text);
  await bot.waitForHealth((h) => h.mode === 'live', 300_000, `live mode after two approvals of request #${requestId}`)
    .catch(async (err: Error) => {
      throw new Error(`${err.message}\nrequest #${requestId}'s thread: ${JSON.stringify(await thread().catch(() => []))}`);
    });
  await waitUntil(async () => (await thread()).some((t) => t.includes(`Switched to LIVE trading (request #${requestId})`)), 120_000,
    () => `for the switch to be told in request #${requestId}'s thread`, 250);
  // What the operator reads afterwards: `ctb simulate-slack messages --json`.
  const [listed, done] = await Promise.all([slack.messages(shell), asking]);
  log(`ctb simulate-slack command --as ${SLACK.operator} "/mode live" printed:\n  ${done.stdout.trim().split('\n').join('\n  ')}`);
  log(`approved by ${SLACK.approverA} and ${SLACK.approverB}: the audit passed again at the switch; /healthz says live`);
  input.phaseDone('/mode live and two approvals');
  return { requestId, paperTrades, requesterRefusal: refusal!.text, thread: listed.filter((m) => m.threadTs === request!.ts).map((m) => m.text) };
}
