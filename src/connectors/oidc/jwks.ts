/**
 * The IdP's signing keys. openid-client refreshes its copy on an unknown `kid` only when that copy
 * is a minute old, so a key used right after the IdP publishes it would be refused; Portico keeps
 * its own copy instead: an unknown `kid` triggers exactly one re-fetch, and a `kid` still unknown
 * after it is refused (and not fetched for again for a minute, so a stream of such tokens cannot
 * turn into a stream of requests to the IdP).
 */
import type { JWK } from 'jose';
import type { Clock } from '../../shared/clock.ts';
import { UpstreamError, type UpstreamFetch } from '../types.ts';
import { Cached } from './cached.ts';
import { readJson, upstreamFailure } from './upstream-http.ts';

export const JWKS_TTL_MS = 60 * 60 * 1000;
const UNKNOWN_KID_QUIET_MS = 60 * 1000;
const MAX_REMEMBERED_UNKNOWN = 100;

const KEY_TYPE: Readonly<Record<string, { kty: string; crv?: string }>> = {
  RS256: { kty: 'RSA' },
  RS384: { kty: 'RSA' },
  RS512: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
  PS384: { kty: 'RSA' },
  PS512: { kty: 'RSA' },
  ES256: { kty: 'EC', crv: 'P-256' },
  ES384: { kty: 'EC', crv: 'P-384' },
  ES512: { kty: 'EC', crv: 'P-521' },
  EdDSA: { kty: 'OKP' },
  Ed25519: { kty: 'OKP', crv: 'Ed25519' },
};

/** The only algorithms an ID token may use: asymmetric signatures. `none` and HMAC never verify. */
export const ASYMMETRIC_ALGS: ReadonlySet<string> = new Set(Object.keys(KEY_TYPE));

function fits(key: JWK, alg: string, kid: string | undefined): boolean {
  const type = KEY_TYPE[alg];
  if (!type || key.kty !== type.kty) return false;
  if (type.crv !== undefined && key.crv !== type.crv) return false;
  if (key.use !== undefined && key.use !== 'sig') return false;
  if (key.key_ops !== undefined && !key.key_ops.includes('verify')) return false;
  if (key.alg !== undefined && key.alg !== alg) return false;
  return kid === undefined || key.kid === kid;
}

export class JwksCache {
  readonly #connectorId: string;
  readonly #clock: Clock;
  readonly #keys: Cached<readonly JWK[]>;
  /** kid → when a re-fetch last failed to find it. */
  readonly #unknown = new Map<string, number>();

  constructor(options: { connectorId: string; jwksUri: () => Promise<string>; fetch: UpstreamFetch; clock: Clock }) {
    this.#connectorId = options.connectorId;
    this.#clock = options.clock;
    this.#keys = new Cached(async () => {
      const uri = await options.jwksUri();
      let response: Response;
      try {
        response = await options.fetch(uri, { headers: { accept: 'application/json' }, redirect: 'manual' });
      } catch (error) {
        throw upstreamFailure(options.connectorId, 'jwks', error);
      }
      let body: { keys?: unknown };
      try {
        body = (await readJson(response, options.connectorId, 'jwks')) as { keys?: unknown };
      } catch (error) {
        // Keys that cannot be read are the IdP's outage, whatever the status: nobody can sign in.
        throw new UpstreamError('upstream_unavailable', options.connectorId, error instanceof Error ? error.message : 'jwks');
      }
      if (!body || !Array.isArray(body.keys)) throw new UpstreamError('upstream_unavailable', options.connectorId, 'jwks: no keys array');
      return body.keys.filter((key): key is JWK => typeof key === 'object' && key !== null && typeof (key as JWK).kty === 'string');
    }, JWKS_TTL_MS, options.clock);
  }

  /** The one key that verifies a token with this header, re-fetching the set at most once. */
  async keyFor(alg: string, kid: string | undefined): Promise<JWK> {
    const first = (await this.#keys.get()).filter((key) => fits(key, alg, kid));
    if (first.length === 1) return first[0]!;
    if (first.length > 1) throw this.#refuse(`jwks: ${first.length} keys fit alg ${alg} without a kid to choose`);
    const marker = kid ?? '';
    const lastMiss = this.#unknown.get(marker);
    if (lastMiss !== undefined && this.#clock.now() - lastMiss < UNKNOWN_KID_QUIET_MS) {
      throw this.#refuse('jwks: no key for this kid (re-fetched recently)');
    }
    const second = (await this.#keys.refresh()).filter((key) => fits(key, alg, kid));
    if (second.length === 1) {
      this.#unknown.delete(marker);
      return second[0]!;
    }
    if (this.#unknown.size >= MAX_REMEMBERED_UNKNOWN) this.#unknown.clear();
    this.#unknown.set(marker, this.#clock.now());
    throw this.#refuse(second.length ? 'jwks: several keys fit without a kid to choose' : 'jwks: no key for this kid after re-fetching');
  }

  #refuse(message: string): UpstreamError {
    return new UpstreamError('invalid_response', this.#connectorId, message);
  }
}
