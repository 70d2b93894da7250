/**
 * Signatures per second with node:crypto on this core, printed as JSON. Run by bench/run.ts on
 * the servers' core before the servers: every ID token and JWT access token costs one signature,
 * so this is the hard ceiling the goals must be read against (VM sizes differ several-fold).
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

const payload = Buffer.alloc(400, 0x61);

function rate(key: KeyObject, options: { dsaEncoding?: 'ieee-p1363' }, ms: number): number {
  const signer = options.dsaEncoding ? { key, dsaEncoding: options.dsaEncoding } : key;
  for (let i = 0; i < 50; i += 1) sign('sha256', payload, signer);
  let count = 0;
  const started = performance.now();
  while (performance.now() - started < ms) {
    sign('sha256', payload, signer);
    count += 1;
  }
  return (count * 1000) / (performance.now() - started);
}

const ms = Number(process.argv[2] ?? 1000);
const es256 = rate(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, { dsaEncoding: 'ieee-p1363' }, ms);
const rs256 = rate(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, {}, ms);
process.stdout.write(`${JSON.stringify({ es256, rs256 })}\n`);
