// A tarball deploy has no .git: `npm ci` there runs the build (prepare), which cannot read a tag. It
// keeps the release facts the shipped dist/build-info.json recorded on the tagged checkout, so the
// deploy still shows its tag (src/services/release/version.ts reads them), instead of erasing it.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readReleaseInfo } from '../../../src/services/release/version.js';
import { releaseDir, type ReleaseDir } from '../../support/release-dir.js';

let release: ReleaseDir | undefined;
afterAll(() => release?.remove());

describe('a build without .git', () => {
  it('keeps the tag, commit and cleanliness the shipped build-info.json recorded on the tagged checkout', async () => {
    // The tagged checkout's build starts from this checkout's dist/ (built from the same files): what
    // is judged is what each build records, not the bundling, which neither build here needs to run.
    release = releaseDir({ tag: 'v9.9.9-tarball', prefix: 'ctb-tarball-', reuseBuild: true });
    const commit = release.git('rev-parse', 'HEAD').trim();
    const shipped = JSON.parse(readFileSync(join(release.dir, 'dist/build-info.json'), 'utf8'));
    expect(shipped).toMatchObject({ commit, tag: 'v9.9.9-tarball', dirty: false });
    rmSync(join(release.dir, '.git'), { recursive: true, force: true });
    release.build();
    expect(JSON.parse(readFileSync(join(release.dir, 'dist/build-info.json'), 'utf8'))).toMatchObject({ commit, tag: 'v9.9.9-tarball', dirty: false });
    expect(await readReleaseInfo({ root: release.dir })).toMatchObject({ source: 'package', tag: 'v9.9.9-tarball', tagged: true, commit });
  }, 180_000);
});
