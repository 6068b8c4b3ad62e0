// Owns the simulator's identifiers in Kraken's shapes: order ids `OQCLML-BW3P3-BUCMWZ`, trade ids
// `TCCCTY-WE2O6-P3NB37` (6-5-6 upper-case letters and digits), and a sequence for trade_id.
import { randomInt } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export type Random = () => number;

/** A small seeded generator (mulberry32), so a seeded simulator repeats its faults and ids. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const cryptoRandom: Random = () => randomInt(0, 2 ** 32) / 2 ** 32;

function chunk(random: Random, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += ALPHABET[Math.floor(random() * ALPHABET.length)];
  return out;
}

export function krakenId(prefix: 'O' | 'T', random: Random): string {
  return `${prefix}${chunk(random, 5)}-${chunk(random, 5)}-${chunk(random, 6)}`;
}
