// The live switch's release check judges the build of the engine's process — the one that will trade —
// across real processes: a release directory of the tree under test (its files committed in a git
// repository of their own: tests/support/release-dir.ts) runs the engine (`ctb start --role worker`,
// its bin/ctb.js), which records the release it runs with the gate policy; /mode live is handled by
// this process, whose own checkout is not that release. Untagged, the switch is refused; tagged and
// rebuilt, it passes the release check; a build made while the tree had uncommitted changes is refused
// even once the tree is clean on the tag again.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { releaseCheck } from '../../../src/services/audit/checks/backups-release.js';
import { modeCheck } from '../../../src/services/audit/checks/mode.js';
import { openLiveRequest } from '../../../src/services/mode/open-live-request.js';
import { startBotProcess, type BotProcess } from '../../support/bot-process.js';
import { useLiveGateBed } from '../../support/live-gate-bed.js';
import { APPROVERS, OPERATOR_APPROVER, slackActor } from '../../support/mode-harness.js';
import { releaseDir, type ReleaseDir } from '../../support/release-dir.js';
import { baseEnv } from '../engine-lease/one-engine-bots.js';

const TAG = 'v7.7.7-rehearsal';
const bed = useLiveGateBed();
let release: ReleaseDir;
let commit: string;
let engine: BotProcess | undefined;
let standby: BotProcess | undefined;

beforeAll(() => {
  // Its first build starts from this checkout's dist/ (built from the same files): what every test
  // judges is the release facts a build records. The dirty build below changes a tracked file the
  // build does not read (README.md), so neither it nor the clean one after it runs the bundler again:
  // `git describe --dirty` sees every tracked file, and the bundled code's change was read by no
  // assertion (each bundle cost some 1.3 CPU-s).
  release = releaseDir({ tag: null, prefix: 'ctb-release-gate-', reuseBuild: true });
  commit = release.git('rev-parse', 'HEAD').trim();
  // Bounded as the tests below that build it again: a copy of the tree, its commit and a build, a few
  // CPU-seconds that a CI machine at load 24 stretched past the 60 s default for hooks.
}, 180_000);
/** Stopped gracefully: it releases the engine lease, so the next engine takes it at once. */
async function stop(p: BotProcess | undefined): Promise<void> {
  p?.kill('SIGTERM');
  await p?.exited;
}
// The engine runs on into the next test, which stops it before starting its own, or (the last test)
// keeps it as the engine ahead of its standby.
afterEach(() => stop(standby));
afterAll(async () => {
  await stop(engine);
  release?.remove();
});

/** An engine's environment: what is judged is the release it started with and the policy it recorded at its start, not its trading. */
const engineEnv = (dir: string) => baseEnv(dir, { DATABASE_URL: bed.database.url, SLACK_APPROVERS: APPROVERS }, { idle: true });

/** An engine's process on the release directory's build, as it is on disk now. */
function startEngine(): BotProcess {
  const dir = mkdtempSync(join(tmpdir(), 'ctb-release-engine-'));
  return startBotProcess(['start', '--role', 'worker'], engineEnv(dir), dir, release.bin);
}

const runsOn = (p: BotProcess | undefined): p is BotProcess => p !== undefined && p.proc.exitCode === null && p.proc.signalCode === null;

/** The engine's process runs the release directory's build and has recorded its policy; it runs on (the switch judges the lease holder's release). */
async function engineRecords(): Promise<string> {
  await stop(engine);
  engine = startEngine();
  await engine.waitFor(/go-live gate policy recorded/, 120_000);
  return `the engine's process ${hostname()}:${engine.pid} (worker)`;
}

async function requestLive() {
  // On the real time: the engine process beside it expires requests by the real clock.
  const harness = await bed.handler({}, [modeCheck, releaseCheck], new ManualClock(new Date()));
  const result = await openLiveRequest(harness.ctx, harness.ctx.liveSwitch, { actor: slackActor(OPERATOR_APPROVER), reason: 'release rehearsal' });
  return { result, line: result.audit.checks.find((c) => c.id === 'release.tag')! };
}

describe('/mode live judges the release the engine\'s process runs', () => {
  it('refuses the switch while the engine runs an untagged build, naming the engine\'s commit and how to tag and build a release', async () => {
    const whose = await engineRecords();
    const { result, line } = await requestLive();
    expect(result.opened).toBe(false);
    expect(line.status).toBe('fail');
    expect(line.value).toMatch(new RegExp(`^${commit.slice(0, 7)}[0-9a-f]* \\(commit ${commit.slice(0, 12)}, not on a release tag\\) \\(${whose.replace(/[()]/g, '\\$&')}, recorded at `));
    expect(line.fix).toMatch(/^Going live needs the engine to run a tagged release built from a clean tree\. Tag the commit to release \(git tag v1\.0-go-live && git push --tags\)/);
  }, 180_000);

  it('passes the release check once the release is tagged and rebuilt, though this process\'s checkout is not that tag', async () => {
    release.git('tag', TAG);
    release.build();
    const whose = await engineRecords();
    const { result, line } = await requestLive();
    expect(line).toMatchObject({ status: 'pass', value: expect.stringContaining(`${TAG} (tagged release, commit ${commit.slice(0, 12)}) (${whose}, recorded at `) });
    expect(result.opened, result.audit.summary).toBe(true);
  }, 180_000);

  it('refuses a build made while the tree had uncommitted changes, though the tree is clean on the tag again', async () => {
    const file = join(release.dir, 'README.md');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, `${text}\nAn uncommitted line.\n`);
    release.build();
    expect(JSON.parse(readFileSync(join(release.dir, 'dist/build-info.json'), 'utf8'))).toMatchObject({ tag: TAG, dirty: true });
    writeFileSync(file, text);
    expect(release.git('status', '--porcelain', '--untracked-files=no')).toBe('');
    const whose = await engineRecords();
    const { result, line } = await requestLive();
    expect(result.opened).toBe(false);
    expect(line.status).toBe('fail');
    expect(line.value).toContain(`${TAG} (commit ${commit.slice(0, 12)}; but dist/ (what ctb runs) was built from uncommitted changes: not a release) (${whose}, recorded at `);
    expect(line.fix).toContain('dist/ was built from uncommitted changes');
  }, 180_000);

  it('records the build a standby loaded at its start, not one rebuilt on disk before it takes the lease', async () => {
    // dist/ is the dirty build of the test before: a standby starts on it, then the tag is rebuilt clean
    // under it (no restart) and the engine ahead of it stops: the code that trades is still the dirty build.
    // The engine ahead is the test before's, which runs on (on that dirty build too), or one started here.
    const ahead = runsOn(engine) ? engine : (engine = startEngine());
    await ahead.waitFor(/go-live gate policy recorded/, 120_000);
    const second = mkdtempSync(join(tmpdir(), 'ctb-release-standby-'));
    standby = startBotProcess(['start', '--role', 'worker'], engineEnv(second), second, release.bin);
    await standby.waitFor(/standing by/, 120_000);
    release.build();
    expect(JSON.parse(readFileSync(join(release.dir, 'dist/build-info.json'), 'utf8'))).toMatchObject({ tag: TAG, dirty: false });
    ahead.kill('SIGTERM');
    await ahead.exited;
    await standby.waitFor(/go-live gate policy recorded/, 120_000);
    const { result, line } = await requestLive();
    expect(result.opened).toBe(false);
    expect(line).toMatchObject({ status: 'fail', value: expect.stringContaining(`was built from uncommitted changes: not a release) (the engine's process ${hostname()}:${standby.pid} (worker), recorded at `) });
  }, 240_000);
});
