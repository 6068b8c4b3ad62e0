// The README's examples run as written: the ids, JSON bodies and network needs it shows are the ones
// the code accepts and the set-up really has.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseUserList } from '../../src/services/oncall/user-ref.js';
import { faultSpecSchema } from '../../src/simulator/faults.js';
import { USER_ID } from '../../src/slack-simulator/workspace.js';
import { RATE_LIMIT_RETRIES, rateLimitWaitMs } from '../../src/exchange/kraken/call-retry.js';
import { CANCEL_FOLLOW_UP_MS, followUpRetryDelayMs } from '../../src/services/kill/cancel-follow-up.js';
import { roomForMs } from '../../src/services/kill/kraken-room.js';
import { NO_KEY_LOOKING } from '../../src/domain/kraken-handoff.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const section = (title: string) => readme.slice(readme.indexOf(title), readme.indexOf('\n## ', readme.indexOf(title) + 1));

describe("the README's examples", () => {
  it('names Slack member ids that ctb oncall set accepts', () => {
    const examples = [...readme.matchAll(/ctb oncall set --members (\S+?)`/g)].map((m) => m[1]!);
    expect(examples.length).toBeGreaterThan(0);
    for (const ids of examples) expect(() => parseUserList(ids)).not.toThrow();
  });

  it("sends fault bodies the simulator's control API accepts", () => {
    const bodies = [...readme.matchAll(/_sim\/faults -d '([^']+)'/g)].map((m) => m[1]!);
    expect(bodies.length).toBeGreaterThan(0);
    for (const body of bodies) expect(faultSpecSchema.safeParse(JSON.parse(body)).success).toBe(true);
  });

  it("says what the set-up fetches: npm's registry, and Debian's packages (apt) for npm test's promtool", () => {
    const setup = section('## Set-up');
    expect(setup).not.toMatch(/no network needed beyond the npm registry/);
    expect(setup).toMatch(/Debian's package mirror[\s\S]*apt-get download prometheus/);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(readFileSync(join(ROOT, pkg.scripts['pretest']!.replace(/^bash /, '')), 'utf8')).toContain('apt-get download prometheus');
  });

  it('gives the rehearsal bot its own PORT and DATA_DIR beside a demo, and says which steps need Slack', () => {
    const rehearsal = section('## Rehearse live without money');
    expect(rehearsal).toMatch(/own\*\* `PORT`,\s+`DATA_DIR`/);
    expect(rehearsal).toMatch(/same environment as that\s+bot/);
    expect(rehearsal).toMatch(/Steps 3 and 4 need Slack/);
    expect(rehearsal).toMatch(/PORT=3001/);
  });

  it('rehearses step 4 with no Slack workspace: the stand-in in .env, and people whose ids simulate-slack accepts', () => {
    const rehearsal = section('## Rehearse live without money');
    expect(rehearsal).toContain("grep '^SLACK_API_URL=' slack.out >> .env");
    expect(rehearsal).toMatch(/HTTP mode \(no `SLACK_APP_TOKEN`/);
    const people = [...rehearsal.matchAll(/ctb simulate-slack (?:command|react) --as (\S+)/g)].map((m) => m[1]!);
    expect(people).toEqual(['U0OPERATOR', 'U0APPROVA', 'U0APPROVB']);
    for (const id of people) expect(id).toMatch(USER_ID);
    // The same people run the rehearsal bot: its operator and its two approvers.
    expect(rehearsal).toContain('SLACK_OPERATORS=U0OPERATOR\\nSLACK_APPROVERS=U0APPROVA,U0APPROVB');
  });

  it('shows audit-log with --period or a period word, --since only as the deprecated name', () => {
    expect(readme).not.toMatch(/ctb audit-log[^`\n]*--since/);
  });
  it("states ctb's rate-limit waits as call-retry.ts computes them (per call, history reads counting double), and that Kraken's counter is the key's, not the kill's lane", () => {
    const kraken = readme.slice(readme.indexOf('- **Kraken**'), readme.indexOf('- **Slack**'));
    const waits = (endpoint: string) => Array.from({ length: RATE_LIMIT_RETRIES }, (_, i) => Math.round(rateLimitWaitMs('starter', endpoint, i + 1) / 1000));
    const said = (w: number[]) => `${w.slice(0, -1).join(', ')} and ${w.at(-1)} s`;
    expect(RATE_LIMIT_RETRIES).toBe(3);
    expect(kraken).toMatch(/each call up to three retries/);
    const one = waits('OpenOrders');
    const two = waits('TradesHistory');
    expect(kraken.replace(/\s+/g, ' ')).toContain(`${said(one)} for a read that counts 1 (${one.reduce((a, b) => a + b)} s)`);
    expect(kraken.replace(/\s+/g, ' ')).toContain(`${said(two)} for a trade-history or ledger read, which counts 2 (${two.reduce((a, b) => a + b)} s)`);
    expect(kraken).not.toMatch(/three times at most \(21 s/);
    expect(kraken).not.toMatch(/a kill's calls never wait behind it\./);
    expect(kraken.replace(/\s+/g, ' ')).toMatch(/every program or shell using the key fills it/);
  });
  it("says how long a rate-limited kill's next round waits as kraken-room.ts computes it", () => {
    const kraken = readme.slice(readme.indexOf('- **Kraken**'), readme.indexOf('- **Slack**')).replace(/\s+/g, ' ');
    expect(kraken).toContain(`waits until the counter has room for its CancelAll and OpenOrders (${Math.round(roomForMs('starter') / 1000)} s at the Starter tier)`);
  });
  it("says how the bot retries a kill's unconfirmed cancel as cancel-follow-up.ts does it", () => {
    const kill = section('## Kill switch').replace(/\s+/g, ' ');
    const first = Math.round(followUpRetryDelayMs('starter', 1) / 1000);
    const last = Math.round(followUpRetryDelayMs('starter', 99) / 1000);
    expect(kill).toContain(`at the Starter tier ${first} s, doubling up to the ~${last} s a full counter takes to fall`);
    expect(kill).toContain(`or ${CANCEL_FOLLOW_UP_MS / 60_000} min have passed — then a critical alert says it gave up`);
  });
  it("says which line of a keyless kill tells what became of its cancel: the second, after the one kraken-handoff.ts prints while looking", () => {
    const kill = section('## Kill switch').replace(/\s+/g, ' ');
    expect(kill).toContain(`its first line says it is "${NO_KEY_LOOKING.slice(0, NO_KEY_LOOKING.indexOf('(') - 1)}…", and its second line then says what became of the cancel`);
    expect(kill).not.toMatch(/its first line then says what became of the cancel/);
  });
});
