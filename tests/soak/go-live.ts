// Owns going live the way a rehearsal must: earn what the go-live audit asks for honestly — closed
// paper trades on the simulator's prices (the replay feed is not evidence), a delivered test alert,
// an on-call rotation, a verified backup — then `/mode live` from an operator in Slack and two
// distinct approvers' reactions on the request the bot posted. The audit runs at the request and
// at the switch; nothing about it is stubbed — its release check among them, which fails a live switch
// unless the engine runs a tagged release built from a clean tree: the bot and the operator's shell
// run a release directory of the tree under test, committed and tagged (tests/support/release-dir.ts).
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../src/db/client.js';
import { trades } from '../../src/db/schema/index.js';
import type { SoakBot } from './bot-process.js';
import { describeRun, runCtb, waitUntil, type Env } from './child.js';
import { SLACK, type PostedMessage, type SoakSlack } from './slack-driver.js';

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

/** Everything the audit checks that a rehearsal has to do by hand, then the two-approver switch. */
export async function goLiveThroughApprovals(input: GoLiveInput): Promise<{ requestId: number; paperTrades: number }> {
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

  const asked = await slack.slash(bot.current.url, '/mode', 'live soak rehearsal', SLACK.operator);
  if (asked.status !== 200) throw new Error(`/mode live was answered ${asked.status}: ${asked.text}`);
  let request: PostedMessage | undefined;
  await waitUntil(() => {
    request = slack.posted.find((m) => m.channel === SLACK.ops && /Request #\d+ .*switch to LIVE/.test(m.text));
    return request !== undefined;
  }, 300_000, () => `for the change request in ${SLACK.ops}; the bot answered: ${slack.responses().join('\n').slice(-4000)}`, 250);
  const requestId = Number(/Request #(\d+)/.exec(request!.text)![1]);
  // Slack shows the message before the bot has stored which message it is; the operator is told
  // "Request #N is posted" once it has, and approvers react after that (one reacting sooner is not counted).
  await waitUntil(() => slack.responses().some((r) => r.includes(`Request #${requestId} is posted`)), 120_000,
    () => `for the bot to confirm request #${requestId} to the operator: ${slack.responses().join('\n').slice(-2000)}`, 250);
  log(`/mode live: request #${requestId} posted (the audit passed at the request)`);

  for (const approver of [SLACK.approverA, SLACK.approverB]) {
    const res = await slack.react(bot.current.url, request!, approver);
    if (res.status !== 200) throw new Error(`the reaction of ${approver} was answered ${res.status}: ${res.text}`);
  }
  await bot.waitForHealth((h) => h.mode === 'live', 300_000, `live mode after two approvals of request #${requestId} (thread: ${JSON.stringify(slack.posted.slice(-4).map((m) => m.text))})`);
  log(`approved by ${SLACK.approverA} and ${SLACK.approverB}: the audit passed again at the switch; /healthz says live`);
  input.phaseDone('/mode live and two approvals');
  return { requestId, paperTrades };
}
