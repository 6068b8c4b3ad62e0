/** The line the build prints when `root`'s installed postgres.js is not patched; null when it is (or is absent). */
export function postgresPatchProblem(root: string): string | null;
