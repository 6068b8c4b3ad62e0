// The incident thread is posted exactly once, and never lost: a process that died while posting it
// leaves a claim that another takes over once the claim's lease has run out.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { incidents, type Incident } from '../../../src/db/schema/index.js';
import { silentLogger } from '../../../src/logger.js';
import { announceUnposted, CLAIM_LEASE_MS, type IncidentPoster } from '../../../src/services/kill/announce-incident.js';
import { usePostgresTestDb } from '../../support/db.js';

describe('announcing an incident thread', () => {
  const database = usePostgresTestDb({ truncate: ['incidents', 'incident_checklist_items'] });

  const recordingPoster = () => {
    const posted: Incident[] = [];
    const poster: IncidentPoster = async (incident) => {
      posted.push(incident);
      return { channel: 'C0OPS', ts: `1767614400.${String(posted.length).padStart(6, '0')}` };
    };
    return { posted, poster };
  };

  const open = (slackTs: string | null) => database().db.insert(incidents).values({
    killId: `k-${Math.random()}`, openedAt: new Date('2026-01-05T12:00:00Z'), openedBy: 'cli:ops', trigger: 'manual', reason: 'test', slackTs,
  }).returning();

  it('takes over a claim left by a poster that died, once the lease has run out, and posts once', async () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    const ctx = { db: database().db, logger: silentLogger(), clock };
    const [incident] = await open(`posting:${clock.now().getTime()}`);
    const { posted, poster } = recordingPoster();

    expect(await announceUnposted(ctx, poster)).toBe(false); // the claim is fresh: someone is posting
    clock.advance(CLAIM_LEASE_MS + 1_000);
    expect(await announceUnposted(ctx, poster)).toBe(true);
    expect(posted.map((i) => i.id)).toEqual([incident!.id]);
    expect(await announceUnposted(ctx, poster)).toBe(false); // posted: nothing more
    const [row] = await database().db.select().from(incidents);
    expect(row).toMatchObject({ slackChannel: 'C0OPS', slackTs: '1767614400.000001' });
  });

  it('posts an incident that has no thread yet at once', async () => {
    const ctx = { db: database().db, logger: silentLogger(), clock: new ManualClock('2026-01-05T12:00:00Z') };
    await open(null);
    const { posted, poster } = recordingPoster();
    expect(await announceUnposted(ctx, poster)).toBe(true);
    expect(posted).toHaveLength(1);
  });
});
