// The runbook service: which runbooks exist, where their committed copies live, and rendering.
import type { RunbookData } from './data.js';
import type { RenderOptions } from './format.js';
import { renderGoLiveRunbook } from './go-live.js';
import { renderIncidentRunbook } from './incident.js';

export const RUNBOOKS = ['go-live', 'incident'] as const;
export type RunbookName = (typeof RUNBOOKS)[number];

/** The committed copy of each runbook, rendered from placeholderRunbookData(). */
export const RUNBOOK_DOCS: Record<RunbookName, string> = {
  'go-live': 'docs/go-live.md',
  incident: 'docs/incident-response.md',
};

export function renderRunbook(name: RunbookName, data: RunbookData, opts: RenderOptions = {}): string {
  return name === 'go-live' ? renderGoLiveRunbook(data, opts) : renderIncidentRunbook(data, opts);
}

export { placeholderRunbookData, type RunbookData } from './data.js';
export type { RenderOptions } from './format.js';
