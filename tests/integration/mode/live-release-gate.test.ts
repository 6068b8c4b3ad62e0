// Going live needs the engine to run a tagged release built from a clean tree: /mode live's go-live
// audit fails the release check (release.tag) on any other build, saying what is wrong and what to do,
// and judges the release the engine's process recorded in the database with the gate policy — not the
// build of the process handling the request. An operator's audit (ctb audit, /golive audit, the one a
// resume in paper needs) only warns of it, saying the live switch fails it.
import { describe, expect, it } from 'vitest';
import { testConfig } from '../../../src/config/env.js';
import { acquireLease } from '../../../src/db/queries/engine-lease.js';
import { engineLease, golivePolicy, modeChangeRequests } from '../../../src/db/schema/index.js';
import type { ReleaseInfo } from '../../../src/domain/release.js';
import { releaseCheckOf } from '../../../src/services/audit/checks/backups-release.js';
import { modeCheck } from '../../../src/services/audit/checks/mode.js';
import { recordGatePolicy } from '../../../src/services/audit/gate-policy.js';
import { runAudit } from '../../../src/services/audit/run-audit.js';
import { openLiveRequest } from '../../../src/services/mode/open-live-request.js';
import { useLiveGateBed } from '../../support/live-gate-bed.js';
import { APPROVERS, OPERATOR_APPROVER, slackActor } from '../../support/mode-harness.js';

const HEAD = 'c0ffee0123456789abcdef0123456789abcdef01';
const SHORT = HEAD.slice(0, 12);
const ENGINE = 'worker-host:4242 (worker)';
const RECORDED_AT = new Date('2026-03-02T08:00:00Z');
const WHOSE = `the engine's process ${ENGINE}, recorded at ${RECORDED_AT.toISOString()}`;

/** A release as src/services/release/version.ts reads one: a clean checkout on v1.0-go-live, dist/ built from it. */
const release = (over: Partial<ReleaseInfo>): ReleaseInfo => ({
  source: 'git', label: 'v1.0-go-live', tag: 'v1.0-go-live', commit: HEAD, dirty: false, tagged: true, packageVersion: '0.1.0', distCommit: HEAD,
  build: { commit: HEAD, tag: 'v1.0-go-live', dirty: false }, ...over,
});
const TAGGED = release({});
const UNTAGGED = release({ label: 'v1.0-go-live-3-gc0ffee0', tag: null, tagged: false, build: { commit: HEAD, tag: null, dirty: false } });
/** On the tag and clean now, but dist/ was built while the tree had uncommitted changes. */
const DIRTY_AT_BUILD = release({ tagged: false, build: { commit: HEAD, tag: 'v1.0-go-live', dirty: true } });
/** A deployed build without .git: its tag is the one recorded in dist/build-info.json. */
const TARBALL = release({ source: 'package' });
const TARBALL_UNTAGGED = release({ source: 'package', label: `0.1.0+${SHORT}`, tag: null, tagged: false, build: { commit: HEAD, tag: null, dirty: false } });

const bed = useLiveGateBed();

/** The engine's process holds the engine lease (the switch judges only the lease holder's release). */
async function engineHoldsLease(host = 'worker-host', pid = 4242): Promise<void> {
  await bed.database.db.delete(engineLease);
  await acquireLease(bed.database.db, { holderId: `${host}-${pid}`, host, pid, role: 'worker', feed: 'replay', armed: false, hasKrakenKeys: false }, 60_000);
}

async function engineRuns(info: ReleaseInfo): Promise<void> {
  await engineHoldsLease();
  await recordGatePolicy(bed.database.db, { config: testConfig({ SLACK_APPROVERS: APPROVERS }), release: info, by: ENGINE, at: RECORDED_AT });
}

/** /mode live handled by a process whose own build is `own` (the engine's is what counts). */
async function requestLive(own: ReleaseInfo) {
  const harness = await bed.handler({}, [modeCheck, releaseCheckOf(async () => own)]);
  const result = await openLiveRequest(harness.ctx, harness.ctx.liveSwitch, { actor: slackActor(OPERATOR_APPROVER), reason: 'criteria met' });
  return { result, line: result.audit.checks.find((c) => c.id === 'release.tag')!, requests: await bed.database.db.select().from(modeChangeRequests) };
}

describe('/mode live and the release the engine runs', () => {
  it('refuses a live switch when the engine runs an untagged build, saying to tag a release and build from it', async () => {
    await engineRuns(UNTAGGED);
    const { result, line, requests } = await requestLive(TAGGED);
    expect(result.opened).toBe(false);
    expect(line).toMatchObject({ status: 'fail', value: `v1.0-go-live-3-gc0ffee0 (commit ${SHORT}, not on a release tag) (${WHOSE})` });
    expect(line.fix).toBe('Going live needs the engine to run a tagged release built from a clean tree. Tag the commit to release (git tag v1.0-go-live && git push --tags), '
      + 'check that tag out where the engine runs, build it there (npm ci, or npm run build: dist/build-info.json records the tag) and restart the engine on it (ctb start): '
      + '`ctb version` then prints the tag.');
    expect(requests).toEqual([]);
  });

  it('passes the release check when the engine runs a tagged build from a clean tree, whatever the requesting process runs', async () => {
    await engineRuns(TAGGED);
    const { result, line } = await requestLive(UNTAGGED);
    expect(line).toMatchObject({ status: 'pass', value: `v1.0-go-live (tagged release, commit ${SHORT}) (${WHOSE})` });
    expect(result.opened, result.audit.summary).toBe(true);
  });

  it('refuses a live switch when the engine\'s build was made from a dirty tree, though the checkout is clean on the tag now', async () => {
    await engineRuns(DIRTY_AT_BUILD);
    const { result, line } = await requestLive(TAGGED);
    expect(result.opened).toBe(false);
    expect(line).toMatchObject({ status: 'fail', value: `v1.0-go-live (commit ${SHORT}; but dist/ (what ctb runs) was built from uncommitted changes: not a release) (${WHOSE})` });
    expect(line.fix).toContain('dist/ was built from uncommitted changes: on a clean checkout of the release tag (git status lists nothing');
  });

  it('refuses a live switch when the engine runs a checkout with uncommitted changes', async () => {
    await engineRuns(release({ label: 'v1.0-go-live-dirty', dirty: true, tagged: false }));
    const { result, line } = await requestLive(TAGGED);
    expect(result.opened).toBe(false);
    expect(line).toMatchObject({ status: 'fail', value: expect.stringContaining('with uncommitted changes: not a release') });
    expect(line.fix).toContain('Commit or discard the local changes (git status lists them)');
  });

  it('reads a deployed build\'s tag from what it recorded at build time: tagged, it passes', async () => {
    await engineRuns(TARBALL);
    const { line } = await requestLive(UNTAGGED);
    expect(line).toMatchObject({ status: 'pass', value: `v1.0-go-live (tagged release, commit ${SHORT}, as dist/ was built; not a git checkout) (${WHOSE})` });
  });

  it('refuses a deployed build that recorded no tag at build time', async () => {
    await engineRuns(TARBALL_UNTAGGED);
    const { result, line } = await requestLive(TAGGED);
    expect(result.opened).toBe(false);
    expect(line).toMatchObject({ status: 'fail', value: `0.1.0+${SHORT} (dist/ built at commit ${SHORT}, not on a release tag; not a git checkout) (${WHOSE})` });
  });

  it('refuses a live switch when the engine recorded its policy before engines recorded their release', async () => {
    await engineRuns(TAGGED);
    const [row] = await bed.database.db.select().from(golivePolicy);
    const { release: _dropped, ...older } = row!.engineLimits!;
    await bed.database.db.update(golivePolicy).set({ engineLimits: older });
    const { result, line } = await requestLive(TAGGED);
    expect(result.opened).toBe(false);
    expect(line).toMatchObject({ status: 'fail', value: `not judged: ${WHOSE} recorded no release (an engine older than this version recorded its go-live policy)` });
    expect(line.fix).toContain('Restart the engine (ctb start) on the release to go live with');
  });

  it('does not judge this process\'s own build, even tagged, while no engine has recorded a policy', async () => {
    const { result, line } = await requestLive(TAGGED);
    expect(result.opened).toBe(false);
    expect(line).toMatchObject({ status: 'fail', value: 'not judged: no engine has recorded the release it runs in this database (the build of the process asking is not the one that trades)' });
    expect(line.fix).toContain('Start the engine (ctb start) on the release to go live with');
  });

  it('does not judge a tagged release recorded by an engine that stopped: another process holds the lease now', async () => {
    await engineRuns(TAGGED);
    await engineHoldsLease('other-host', 77);
    const { result, line } = await requestLive(TAGGED);
    expect(result.opened).toBe(false);
    expect(line).toMatchObject({ status: 'fail', value: `not judged: ${WHOSE}, but the engine lease is held by other-host:77 (worker), which has not recorded its release` });
    expect(line.fix).toContain('Restart the engine (ctb start) on the release to go live with');
  });

  it('only warns in an operator\'s audit (paper is never held to it), saying the live switch fails it', async () => {
    await engineRuns(UNTAGGED);
    const harness = await bed.handler({}, [modeCheck]);
    const report = await runAudit(harness.ctx, { actor: slackActor(OPERATOR_APPROVER), dryRun: true, cwd: harness.dirs.logs, checks: [releaseCheckOf(async () => TAGGED)] });
    expect(report.ok).toBe(true);
    expect(report.results[0]).toMatchObject({ status: 'warn', value: expect.stringContaining('not on a release tag') });
    expect(report.results[0]!.fix).toMatch(/^Tag the commit to release \(git tag v1\.0-go-live && git push --tags\).* The live switch's audit fails it until then\.$/);
  });
});
