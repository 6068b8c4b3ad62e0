import { describe, expect, it } from 'vitest';
import { ConfigError, testConfig } from '../../src/config/env.js';
import { selectForPruning } from '../../src/services/backup/retention.js';
import { parseSnapshotName, snapshotStamp } from '../../src/services/backup/snapshot-names.js';

const names = ['20260101T000000Z', '20260102T000000Z', '20260102T000000Z-2', '20260103T000000Z', '20260104T000000Z'];
const now = new Date('2026-01-04T12:00:00Z');

describe('BACKUP_RETENTION', () => {
  it('reads a count, an age, or both', () => {
    expect(testConfig().BACKUP_RETENTION).toEqual({ count: 20, maxAgeMs: undefined });
    expect(testConfig({ BACKUP_RETENTION: '7' }).BACKUP_RETENTION).toEqual({ count: 7, maxAgeMs: undefined });
    expect(testConfig({ BACKUP_RETENTION: '30d' }).BACKUP_RETENTION).toEqual({ count: undefined, maxAgeMs: 30 * 86_400_000 });
    expect(testConfig({ BACKUP_RETENTION: '5, 2d' }).BACKUP_RETENTION).toEqual({ count: 5, maxAgeMs: 2 * 86_400_000 });
  });

  it('rejects a malformed retention naming the variable and the expected form', () => {
    for (const bad of ['0', 'forever', '5,6', '1d,2d', '-3']) {
      expect(() => testConfig({ BACKUP_RETENTION: bad })).toThrow(ConfigError);
      expect(() => testConfig({ BACKUP_RETENTION: bad })).toThrow(/BACKUP_RETENTION: expected a count, an age or both, such as 20, 30d or 20,30d/);
    }
  });
});

describe('selecting snapshots to prune', () => {
  it('keeps the newest N by count, ordering same-second snapshots by sequence', () => {
    expect(selectForPruning(names, { count: 2, maxAgeMs: undefined }, now)).toEqual(['20260102T000000Z-2', '20260102T000000Z', '20260101T000000Z']);
  });

  it('prunes by age', () => {
    expect(selectForPruning(names, { count: undefined, maxAgeMs: 2 * 86_400_000 }, now)).toEqual(['20260102T000000Z-2', '20260102T000000Z', '20260101T000000Z']);
  });

  it('never prunes a protected snapshot, even past both limits', () => {
    expect(selectForPruning(names, { count: 1, maxAgeMs: 1000 }, now, ['20260104T000000Z'])).not.toContain('20260104T000000Z');
  });

  it('names snapshots by UTC second and parses them back', () => {
    const at = new Date('2026-03-04T05:06:07.890Z');
    expect(snapshotStamp(at)).toBe('20260304T050607Z');
    expect(parseSnapshotName('20260304T050607Z-3')).toEqual({ at: new Date('2026-03-04T05:06:07Z'), seq: 3 });
    expect(parseSnapshotName('20260304T050607Z.partial')).toBeNull();
  });
});
