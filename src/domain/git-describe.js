// Owns reading what `git describe --tags --always --dirty --long` printed: the label plain `git
// describe --tags --always --dirty` prints, the tag HEAD sits on exactly (`git describe --tags
// --exact-match HEAD`), and whether tracked files differed from it. Plain JavaScript, so that
// scripts/build.mjs (run by Node with no build step) reads a checkout with the one parser
// src/services/release/version.ts reads it with: the tag a build records is the tag `ctb version` shows.
// Types: git-describe.d.ts.

/**
 * With --long, a tag HEAD sits on exactly reads `<tag>-0-g<hash>`, one it is past `<tag>-<n>-g<hash>`
 * (as without --long), and with no tag at all the abbreviated hash. Either may end in -dirty.
 * Null for no output (not a checkout, or git failed).
 */
export function readDescribe(raw) {
  if (!raw) return null;
  const dirty = raw.endsWith('-dirty');
  const core = dirty ? raw.slice(0, -'-dirty'.length) : raw;
  const m = /^(.+)-(\d+)-g[0-9a-f]+$/.exec(core);
  if (m && m[2] === '0') return { label: `${m[1]}${dirty ? '-dirty' : ''}`, tag: m[1], dirty };
  return { label: raw, tag: null, dirty };
}

/** The abbreviated commit `git describe --long --always` printed (`<tag>-<n>-g<hash>` or `<hash>`). */
export function describedHash(raw) {
  return /(?:^|-g)([0-9a-f]{4,})$/.exec(raw.replace(/-dirty$/, ''))?.[1];
}
