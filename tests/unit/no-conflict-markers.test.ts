// A merge's conflict left in a committed file (docs/checklist-coverage.md carried one for a day:
// both sides of a table row, the markers between them) reads as two contradicting claims. Every
// tracked text file is checked for a conflict's opening and closing markers at a line's start.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const OPENING = /^<{7} /m;
const CLOSING = /^>{7} /m;

/** The tracked files whose text is checked: everything but binaries and recorded snapshots of migrations. */
function trackedTextFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 32 * 1024 * 1024 });
  return out.split('\0').filter((f) => f !== '' && /\.(ts|mts|cts|js|mjs|cjs|json|md|sql|ya?ml|sh|txt|toml|env\.example)$|(^|\/)[^./]+$/.test(f));
}

export function hasConflictMarkers(text: string): boolean {
  return OPENING.test(text) && CLOSING.test(text);
}

describe('no merge conflict left in a tracked file', () => {
  it('recognises a conflict as git writes it, and not a line of equals signs alone', () => {
    expect(hasConflictMarkers('a\n<<<<<<< HEAD\nx\n=======\ny\n>>>>>>> main\nb\n')).toBe(true);
    expect(hasConflictMarkers('Title\n=======\ntext\n')).toBe(false);
  });

  it('finds none in the files git tracks', () => {
    const files = trackedTextFiles();
    expect(files.length).toBeGreaterThan(100);
    const withMarkers = files.filter((f) => {
      try {
        return hasConflictMarkers(readFileSync(join(ROOT, f), 'utf8'));
      } catch {
        return false; // a file listed but absent from the work tree (deleted, not yet committed)
      }
    });
    expect(withMarkers).toEqual([]);
  });
});
