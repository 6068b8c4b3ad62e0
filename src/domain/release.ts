// What a release is made of, as `ctb version` reads it and as the engine's process records it with
// the gate policy (golive_policy.engine_limits.release): the code in dist/ and the checkout beside it.
// Reading it is src/services/release/version.ts.

/** What scripts/build.mjs recorded of the checkout it built dist/ from (null: built outside a checkout). */
export interface BuildFacts {
  commit: string | null;
  /** The tag the commit sat on exactly. */
  tag: string | null;
  /** Tracked files differed from the commit: dist/ holds code no commit has. */
  dirty: boolean | null;
}

export interface ReleaseInfo {
  /** `git` when read from a checkout, `package` when from package.json (+ dist/build-info.json or BUILD_COMMIT). */
  source: 'git' | 'package';
  /** What to print: the tag (`v1.0-go-live`), `v1.0-3-gabc1234`, `abc1234-dirty`, or `0.1.0+abc1234`. */
  label: string;
  /** The tag HEAD sits on exactly (outside a checkout: the one the build's commit sat on), when it does. */
  tag: string | null;
  commit: string | null;
  /** Tracked files differ from the commit (outside a checkout: they did when dist/ was built). */
  dirty: boolean;
  /**
   * A tagged release: HEAD is exactly on a tag and nothing is modified — and, when dist/ records its
   * build's facts, dist/ was built from that commit with no uncommitted changes. Outside a checkout:
   * dist/ was built on a tag from a clean tree.
   */
  tagged: boolean;
  packageVersion: string;
  /**
   * The commit dist/ (what `ctb` runs) was built at, from dist/build-info.json; null when there is no
   * build or it names none. It differs from `commit` after a pull without `npm run build`.
   */
  distCommit: string | null;
  /** dist/build-info.json's release facts; null without a build or when its build predates recording them. */
  build: BuildFacts | null;
  /**
   * A git checkout whose git did not answer in time: whether its tree is clean is unknown, so it is no
   * release, whatever dist/ records (absent otherwise).
   */
  gitTimedOut?: true;
}
