// Owns reading `ctb simulate-kraken` flags into simulator options: every bad value is refused with
// a message naming the flag, what it got and what it expects (the CLI exits 2).
import { randomBytes } from 'node:crypto';
import { AppError } from '../errors.js';
import { ASSETS, assetIdOf, pairOf, PAIRS } from './catalogue.js';
import { positiveDecimal } from './format.js';
import { TIERS, type Tier } from './rate-limits.js';
import { SYSTEM_STATUSES, type SystemStatus } from './types.js';

const usage = (message: string) => new AppError('usage', 'bad_simulator_flag', message);

export function parsePort(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65_535) throw usage(`--port: expected a port from 1 to 65535 (0: any free port), got "${text}"`);
  return n;
}

export function parsePace(text: string): number {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || n > 1000) throw usage(`--pace: expected candles per second from 0 to 1000 (e.g. 1, 0.5, 20; 0 = only when told), got "${text}"`);
  return n;
}

export function parseWhole(flag: string, min: number, max: number) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) throw usage(`${flag}: expected a whole number from ${min} to ${max}, got "${text}"`);
    return n;
  };
}

function pairsOfList(flag: string, text: string, example: string): Array<[string, string]> {
  const parts = text.split(',').map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0) throw usage(`${flag}: expected ${example}, got "${text}"`);
  return parts.map((part) => {
    const [name, value, extra] = part.split('=');
    if (!name || value === undefined || extra !== undefined) throw usage(`${flag}: expected ${example}, got "${part}"`);
    return [name.trim(), value.trim()];
  });
}

/** `USD=10000,BTC=0.5` → Kraken asset ids → amounts. */
export function parseBalances(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, amount] of pairsOfList('--balances', text, 'ASSET=AMOUNT pairs such as USD=10000,BTC=0')) {
    const id = assetIdOf(name);
    if (!id) throw usage(`--balances: unknown asset "${name}"; expected one of USD, BTC, ETH (or ${Object.keys(ASSETS).join(', ')})`);
    if (!/^\d+(\.\d+)?$/.test(amount)) throw usage(`--balances: ${name}: expected an amount ≥ 0 such as 10000 or 0.5, got "${amount}"`);
    out[id] = amount;
  }
  return out;
}

/** `maker=0.25,taker=0.40` (percent). */
export function parseFees(text: string): { maker: string; taker: string } {
  const fees: Record<string, string> = {};
  for (const [name, pct] of pairsOfList('--fees', text, 'maker=PCT,taker=PCT such as maker=0.25,taker=0.40')) {
    if (name !== 'maker' && name !== 'taker') throw usage(`--fees: expected maker= and taker=, got "${name}="`);
    if (!/^\d+(\.\d+)?$/.test(pct) || Number(pct) >= 10) throw usage(`--fees: ${name}: expected a percentage from 0 to 10 such as 0.25, got "${pct}"`);
    fees[name] = pct;
  }
  return { maker: fees['maker'] ?? '0.25', taker: fees['taker'] ?? '0.40' };
}

/** `64000` (BTC/USD) or `BTC/USD=64000,ETH/USD=3000`: pairs pinned to a fixed price. */
export function parseFixedPrices(text: string): Record<string, string> {
  const list = /^\d+(\.\d+)?$/.test(text.trim()) ? [['BTC/USD', text.trim()] as [string, string]] : pairsOfList('--price', text, 'a price such as 64000, or PAIR=PRICE such as BTC/USD=64000');
  const out: Record<string, string> = {};
  for (const [name, price] of list) {
    const pair = pairOf(name);
    if (!pair) throw usage(`--price: unknown pair "${name}"; expected one of ${Object.values(PAIRS).map((p) => p.symbol).join(', ')}`);
    if (!positiveDecimal(price)) throw usage(`--price: ${name}: expected a positive price such as 64000.5, got "${price}"`);
    out[pair.id] = price;
  }
  return out;
}

export function parseOnOff(flag: string) {
  return (text: string): boolean => {
    if (text === 'on' || text === 'true') return true;
    if (text === 'off' || text === 'false') return false;
    throw usage(`${flag}: expected on or off, got "${text}"`);
  };
}

export function parseTier(text: string): Tier {
  if (!(TIERS as readonly string[]).includes(text)) throw usage(`--tier: expected ${TIERS.join(', ')}, got "${text}"`);
  return text as Tier;
}

export function parseStatus(text: string): SystemStatus {
  if (!(SYSTEM_STATUSES as readonly string[]).includes(text)) throw usage(`--status: expected ${SYSTEM_STATUSES.join(', ')}, got "${text}"`);
  return text as SystemStatus;
}

export function parsePermissions(text: string): string[] {
  const list = text.split(',').map((p) => p.trim()).filter(Boolean);
  const known = ['query-funds', 'query-open-trades', 'query-closed-trades', 'modify-trades', 'close-trades', 'withdraw-funds', 'deposit-funds', 'query-ledger-entries', 'export-data'];
  const unknown = list.filter((p) => !known.includes(p));
  if (list.length === 0 || unknown.length > 0) throw usage(`--permissions: expected a comma list of ${known.join(', ')}; unknown: ${unknown.join(', ') || '(empty)'}`);
  return list;
}

/** The key pair: both given (the secret must be base64, as Kraken's are), or neither (one is generated). */
export function keyPair(apiKey: string | undefined, secret: string | undefined): { apiKey: string; secret: string; generated: boolean } {
  if ((apiKey === undefined) !== (secret === undefined)) throw usage('--api-key and --secret go together: give both, or neither to have a pair generated');
  if (apiKey !== undefined && secret !== undefined) {
    if (!/^[\x21-\x7e]{8,200}$/.test(apiKey)) throw usage('--api-key: expected 8 to 200 printable characters without spaces');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(secret) || Buffer.from(secret, 'base64').length < 16) {
      throw usage('--secret: expected a base64 private key (at least 16 bytes), as Kraken issues them');
    }
    return { apiKey, secret, generated: false };
  }
  return { apiKey: `SIM${randomBytes(39).toString('base64').replace(/[+/=]/g, 'x')}`, secret: randomBytes(64).toString('base64'), generated: true };
}
