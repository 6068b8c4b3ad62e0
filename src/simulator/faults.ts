// Owns injected faults: per endpoint (or '*'), for the next N calls or with a probability, answered
// before the request is processed — or after it (`after: true`: the order is placed, then the answer
// is lost), which is how a client learns that "I could not read the answer" is not "rejected".
import { z } from 'zod';
import { similarWords } from '../suggest-similar.js';
import type { Random } from './ids.js';
import { PRIVATE_ENDPOINTS } from './private-api.js';
import { PUBLIC_ENDPOINTS } from './public-api.js';

/** Every endpoint name a fault may target: a misspelt one would wait forever for a call that never comes. */
export const FAULT_ENDPOINTS: readonly string[] = ['*', ...PUBLIC_ENDPOINTS, ...PRIVATE_ENDPOINTS];

const endpointField = z.string().superRefine((name, check) => {
  if (FAULT_ENDPOINTS.includes(name)) return;
  const near = similarWords(name, FAULT_ENDPOINTS);
  check.addIssue({
    code: 'custom',
    message: `unknown endpoint ${JSON.stringify(name)}${near.length ? ` (did you mean ${near.join(' or ')}?)` : ''}; expected one of: ${FAULT_ENDPOINTS.join(', ')}`,
  });
});

export const FAULT_KINDS = ['latency', 'http_5xx', 'truncated', 'empty', 'reset', 'error'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const faultSpecSchema = z
  .object({
    endpoint: endpointField,
    kind: z.enum(FAULT_KINDS),
    /** Process the request first, then answer with the fault (the order exists; the client cannot tell). */
    after: z.boolean().optional(),
    /** How many calls it hits; without times or probability, the next call only. */
    times: z.number().int().min(1).max(1_000_000).optional(),
    /** Chance per call (0 < p ≤ 1), for as long as the fault stays (or for `times` hits). */
    probability: z.number().gt(0).max(1).optional(),
    /** latency: delay in milliseconds. */
    ms: z.number().int().min(0).max(600_000).optional(),
    /** http_5xx: the status (502 by default, with an HTML body like Cloudflare's). */
    status: z.number().int().min(500).max(599).optional(),
    /** http_5xx: answer Kraken's JSON error instead of HTML (`message`, EService:Unavailable by default). */
    json: z.boolean().optional(),
    /** error (and http_5xx with json): the Kraken error string, e.g. EService:Unavailable, EService:Busy, EAPI:Invalid nonce. */
    message: z.string().regex(/^[EW][A-Za-z]+:.+/, 'expected a Kraken error such as EService:Busy').optional(),
  })
  .strict()
  .refine((f) => f.kind !== 'error' || f.message !== undefined, { message: 'kind "error" needs message (e.g. "EService:Busy")', path: ['message'] })
  .refine((f) => f.kind !== 'latency' || f.ms !== undefined, { message: 'kind "latency" needs ms', path: ['ms'] });

export type FaultSpec = z.infer<typeof faultSpecSchema>;

interface ActiveFault {
  id: number;
  spec: FaultSpec;
  /** Hits left; Infinity for a probability fault without times. */
  left: number;
}

export class FaultBook {
  #seq = 0;
  #faults: ActiveFault[] = [];

  constructor(private readonly random: Random) {}

  add(spec: FaultSpec): number {
    const left = spec.times ?? (spec.probability !== undefined ? Infinity : 1);
    this.#faults.push({ id: ++this.#seq, spec, left });
    return this.#seq;
  }

  /** The fault for this call, if any: counted faults first, in the order they were added. */
  take(endpoint: string): FaultSpec | undefined {
    for (const f of this.#faults) {
      if (f.spec.endpoint !== endpoint && f.spec.endpoint !== '*') continue;
      if (f.spec.probability !== undefined && this.random() >= f.spec.probability) continue;
      f.left -= 1;
      if (f.left <= 0) this.#faults = this.#faults.filter((x) => x !== f);
      return f.spec;
    }
    return undefined;
  }

  list(): Array<FaultSpec & { id: number; left: number | 'unlimited' }> {
    return this.#faults.map((f) => ({ ...f.spec, id: f.id, left: Number.isFinite(f.left) ? f.left : 'unlimited' }));
  }

  clear(): number {
    const n = this.#faults.length;
    this.#faults = [];
    return n;
  }
}

/** What Cloudflare answers in front of Kraken when the origin fails. */
export function cloudflareHtml(status: number): string {
  const title = status === 502 ? 'Bad Gateway' : status === 503 ? 'Service Temporarily Unavailable' : status === 504 ? 'Gateway Time-out' : 'Origin Error';
  return `<html>\r\n<head><title>${status} ${title}</title></head>\r\n<body>\r\n<center><h1>${status} ${title}</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n`;
}
