// Reads Prometheus text format in tests: one sample's value, or every sample of a name with its labels.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function samples(text: string, name?: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (.+)$/.exec(line);
    if (!m || (name !== undefined && m[1] !== name)) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
    const raw = m[3]!;
    out.push({ name: m[1]!, labels, value: raw === '+Inf' ? Number.POSITIVE_INFINITY : raw === '-Inf' ? Number.NEGATIVE_INFINITY : Number(raw) });
  }
  return out;
}

/** The value of the first sample whose name and labels match. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  return samples(text, name).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
