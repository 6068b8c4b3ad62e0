// `ctb version`: the release tag or commit that is running (git describe in a checkout, else
// package.json version + BUILD_COMMIT).
import { z } from 'zod';
import { describeRelease, readReleaseInfo, type ReleaseInfo } from '../src/services/release/version.js';
import { defineCommand } from './define.js';

export interface VersionResult extends ReleaseInfo {
  ok: true;
  summary: string;
}

export const versionCommand = defineCommand({
  name: 'version',
  summary: 'print the release tag or commit that is running',
  role: 'reader',
  args: z.object({}),
  async run(ctx): Promise<VersionResult> {
    const info = await readReleaseInfo({ buildCommit: ctx.config.BUILD_COMMIT });
    return { ok: true, ...info, summary: describeRelease(info) };
  },
});
