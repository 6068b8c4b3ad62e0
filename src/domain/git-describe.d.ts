// Types of src/domain/git-describe.js (plain JavaScript: scripts/build.mjs imports it without a build step).
export interface Described {
  /** What plain `git describe --tags --always --dirty` prints. */
  label: string;
  /** The tag HEAD sits on exactly; null when none. */
  tag: string | null;
  dirty: boolean;
}

export function readDescribe(raw: string | null): Described | null;

export function describedHash(raw: string): string | undefined;
