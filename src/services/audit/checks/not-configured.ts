// Owns the honest placeholder for a check whose data another area has not shipped yet: it warns
// "not configured yet" and names the issue that will replace it. Replace the entry in index.ts
// with the real check when that area lands.
import { defineCheck, type AuditCheck, type ChecklistSection } from '../types.js';

export function notConfiguredYet(def: { id: string; title: string; checklistSection: ChecklistSection; fix: string }): AuditCheck {
  return defineCheck({
    id: def.id,
    title: def.title,
    checklistSection: def.checklistSection,
    async run() {
      return { status: 'warn', value: 'not configured yet', fix: def.fix };
    },
  });
}
