// The README's examples run as written: the ids, JSON bodies and network needs it shows are the ones
// the code accepts and the set-up really has.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseUserList } from '../../src/services/oncall/user-ref.js';
import { faultSpecSchema } from '../../src/simulator/faults.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const section = (title: string) => readme.slice(readme.indexOf(title), readme.indexOf('\n## ', readme.indexOf(title) + 1));

describe("the README's examples", () => {
  it('names Slack member ids that ctb oncall set accepts', () => {
    const examples = [...readme.matchAll(/ctb oncall set --members (\S+?)`/g)].map((m) => m[1]!);
    expect(examples.length).toBeGreaterThan(0);
    for (const ids of examples) expect(() => parseUserList(ids)).not.toThrow();
  });

  it("sends fault bodies the simulator's control API accepts", () => {
    const bodies = [...readme.matchAll(/_sim\/faults -d '([^']+)'/g)].map((m) => m[1]!);
    expect(bodies.length).toBeGreaterThan(0);
    for (const body of bodies) expect(faultSpecSchema.safeParse(JSON.parse(body)).success).toBe(true);
  });

  it("says what the set-up fetches: npm's registry, and Debian's packages (apt) for npm test's promtool", () => {
    const setup = section('## Set-up');
    expect(setup).not.toMatch(/no network needed beyond the npm registry/);
    expect(setup).toMatch(/Debian's package mirror[\s\S]*apt-get download prometheus/);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(readFileSync(join(ROOT, pkg.scripts['pretest']!.replace(/^bash /, '')), 'utf8')).toContain('apt-get download prometheus');
  });

  it('gives the rehearsal bot its own PORT and DATA_DIR beside a demo, and says which steps need Slack', () => {
    const rehearsal = section('## Rehearse live without money');
    expect(rehearsal).toMatch(/own\*\* `PORT`,\s+`DATA_DIR`/);
    expect(rehearsal).toMatch(/same environment as that\s+bot/);
    expect(rehearsal).toMatch(/Steps 3 and 4 need a Slack workspace/);
    expect(rehearsal).toMatch(/PORT=3001/);
  });

  it('shows audit-log with --period or a period word, --since only as the deprecated name', () => {
    expect(readme).not.toMatch(/ctb audit-log[^`\n]*--since/);
  });
});
