// Checklist 7: a recent config snapshot and log/report snapshot exist; the running code is a tagged
// release. Placeholders until backups and `ctb version` (issue 9) land; their owner replaces them.
import { notConfiguredYet } from './not-configured.js';

export const backupsCheck = notConfiguredYet({
  id: 'backups.snapshot',
  title: 'Recent configuration and log/report snapshots',
  checklistSection: 7,
  fix: 'Take a snapshot with `ctb backup` once backups are installed.',
});

export const releaseCheck = notConfiguredYet({
  id: 'release.tag',
  title: 'Running code is a tagged release',
  checklistSection: 7,
  fix: 'Tag the release (git tag v1.0-go-live && git push --tags) and deploy that tag.',
});
