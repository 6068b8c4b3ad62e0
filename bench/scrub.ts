// The cost of scrubbing what leaves the process (src/secret-scrub.ts), per text: a typical log line,
// an alert's Slack message body (JSON of text + blocks), and a line with a URL password to mask. The
// anchor, measured in the same run, is the scrubber this replaced (configured values and three
// token regexes, no URL passwords), rounds alternating old and new; CPU time of the process. Last,
// what a Slack call or response_url reply now pays that it did not: scrubDeep over the message
// object (the old code sent it unscrubbed: its anchor is zero).
// Run: npm run bench:scrub [-- --rounds 8 --n 200000]
import { REDACTED, Secret } from '../src/config/secret.js';
import { makeScrubber, scrubDeep, type Scrubber } from '../src/secret-scrub.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROUNDS = arg('rounds', 8);
const N = arg('n', 200_000);

/** The scrubber before URL passwords were masked (the anchor), as it was in src/logger.ts. */
function oldScrubber(secrets: Secret[]): Scrubber {
  const shapes = [/xox[abposr]-[A-Za-z0-9-]{10,}/g, /xapp-[A-Za-z0-9-]{10,}/g, /[A-Za-z0-9+/]{54,}={0,2}/g];
  const values = [...new Set(secrets.map((s) => s.reveal()).flatMap((v) => [v, JSON.stringify(v).slice(1, -1)]))];
  const anywhere = values.filter((v) => v.length >= 6);
  return (line) => {
    let out = line;
    for (const v of anywhere) if (out.includes(v)) out = out.split(v).join(REDACTED);
    for (const shape of shapes) out = out.replace(shape, REDACTED);
    return out;
  };
}

// The shipped configuration's kind of secrets: a Kraken key (56) and secret (88), three Slack values, SMTP_URL.
const secrets = [
  new Secret('K'.repeat(28) + 'k'.repeat(28)), new Secret('S'.repeat(44) + 's'.repeat(42) + '=='),
  new Secret('xoxb-1111-2222-benchtokenvalue'), new Secret('bench-signing-secret-0123456789abcdef'),
  new Secret('xapp-1-A111-2222-benchapptoken'), new Secret('smtp://alerts:mailpass99@mail.example.org:587'),
];
const texts: Record<string, string> = {
  'log line': `${JSON.stringify({ level: 30, time: '2026-12-07T03:29:41.123Z', pid: 4242, hostname: 'bot-1', service: 'ctb', event: 'order', pair: 'BTC/USD', side: 'buy', clientOrderId: 'ctb-20261207-000123', txid: 'OQCLML-BW3P3-BUCMWZ', volume: '0.01250000', price: '97123.4', msg: 'order placed: buy 0.0125 BTC/USD at 97123.4 (paper)' })}\n`,
  'slack body': JSON.stringify({
    channel: 'C0ALERTS', text: 'Critical: engine lease lost on bot-1:4242',
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: 'Critical: engine lease lost' } },
      { type: 'section', text: { type: 'mrkdwn', text: '*Raised* 2026-12-07T03:29:41Z by bot-1:4242:worker\nThe engine lease was taken over by worker-2 (host:5432); trading halted until reconciliation.' } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'fingerprint `engine.lease.lost` · https://api.kraken.com/0/private/AddOrder' }] },
      { type: 'actions', elements: [{ type: 'button', action_id: 'alert_ack', value: '1234', text: { type: 'plain_text', text: 'Acknowledge' } }] },
    ],
  }),
  'with URL password': `${JSON.stringify({ level: 50, time: '2026-12-07T03:29:41.123Z', service: 'ctb', msg: 'connect failed: postgres://ctb:hunter2hunter@db.internal:5432/ctb (ECONNREFUSED)' })}\n`,
};

const scrubbers: Record<string, Scrubber> = { old: oldScrubber(secrets), new: makeScrubber(secrets) };

function cpuNsPerText(scrub: Scrubber, text: string): number {
  let sink = 0;
  const start = process.cpuUsage();
  for (let i = 0; i < N; i++) sink += scrub(text).length;
  const used = process.cpuUsage(start);
  if (sink === 0) throw new Error('unreachable');
  return ((used.user + used.system) * 1000) / N;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(`scrub bench: ${ROUNDS} rounds × ${N} texts per scrubber and text, old (anchor) and new alternating; CPU ns per text, this process; load ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const [name, text] of Object.entries(texts)) {
  const out = scrubbers.new!(text);
  console.log(`\n${name} (${text.length} chars): new ${out === text ? 'returns the same string (nothing masked)' : `masks: ${out.trim().slice(0, 160)}`}`);
  const figures: Record<string, number[]> = { old: [], new: [] };
  for (let i = 0; i < 3; i++) for (const s of Object.values(scrubbers)) cpuNsPerText(s, text); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (const key of r % 2 === 0 ? ['old', 'new'] : ['new', 'old']) figures[key]!.push(cpuNsPerText(scrubbers[key]!, text));
  }
  for (const key of ['old', 'new']) console.log(`  ${key}: median ${median(figures[key]!).toFixed(0)} ns  rounds ${figures[key]!.map((x) => x.toFixed(0)).join(' ')}`);
}

{
  const message = JSON.parse(texts['slack body']!) as Record<string, unknown>;
  const scrub = scrubbers.new!;
  let same = 0;
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.cpuUsage();
    for (let i = 0; i < N; i++) if (scrubDeep(message, scrub) === message) same++;
    const used = process.cpuUsage(start);
    rounds.push(((used.user + used.system) * 1000) / N);
  }
  console.log(`\nslack message object (scrubDeep, ${Object.keys(message).length} keys, 4 blocks): ${same === ROUNDS * N ? 'the same object back every time (nothing copied)' : 'copied'}`);
  console.log(`  new: median ${median(rounds).toFixed(0)} ns  rounds ${rounds.map((x) => x.toFixed(0)).join(' ')}`);
}
