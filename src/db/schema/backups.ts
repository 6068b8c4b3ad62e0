// Owns the record of every backup snapshot: where it was written, why, by whom, and the SHA-256 of
// its manifest, so a later `ctb backup verify` can also tell whether the manifest itself was changed.
import { bigint, bigserial, index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const backups = pgTable(
  'backups',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: at('at').notNull(),
    /** The snapshot directory as written (absolute path). */
    path: text('path').notNull(),
    /** Why it was taken: `manual`, `live-switch`, … */
    reason: text('reason').notNull(),
    actor: text('actor').notNull(),
    manifestSha256: text('manifest_sha256').notNull(),
    files: integer('files').notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
    /** Set when retention removed the directory; the row stays as history. */
    prunedAt: at('pruned_at'),
  },
  (t) => [uniqueIndex('backups_path').on(t.path), index('backups_at').on(t.at)],
);

export type BackupRecord = typeof backups.$inferSelect;
