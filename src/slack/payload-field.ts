// Owns reading a text field out of a Slack payload: Slack's bodies are untyped JSON, and an absent,
// empty or non-string field means the same to every reader here (no such value).

/** `v` when it is a non-empty string, else undefined. */
export const payloadText = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
