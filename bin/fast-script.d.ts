// Types of bin/fast-script.js (plain JavaScript: bin/ runs without a build step).
export const MANIFEST: string;

export interface FastScriptEntry {
  /** The start of the command lines the script serves (['mode', 'status']). */
  argv: string[];
  script: string;
  /** 'latin1' for an ASCII script (read faster), else 'utf8'. */
  encoding: 'latin1' | 'utf8';
  scriptSha256: string;
  cache: string;
  cacheSha256: string;
}

export function fastScriptFiles(
  name: string,
  argv: string[],
  bundleText: string,
  filename: string,
): Promise<{ files: Array<{ name: string; contents: Buffer }>; entry: FastScriptEntry }>;

export function fastScriptFor(dir: string, argv: string[]): FastScriptEntry | null;

export function loadFastScript(
  dir: string,
  entry: FastScriptEntry,
): { exports: Record<string, unknown>; cache: 'used' | 'rejected' | 'mismatch' | 'missing' } | null;
