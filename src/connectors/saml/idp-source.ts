/**
 * Where the IdP's SSO URL and signing certificates come from: inline config, a metadata file in
 * the config folder (read once at start), or a metadata URL (fetched at start, refreshed in the
 * background; a failed refresh keeps the last good copy, so an IdP outage of its metadata host
 * does not stop sign-ins).
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Clock } from '../../shared/clock.ts';
import type { Logger } from '../../shared/logger.ts';
import type { UpstreamFetch } from '../types.ts';
import { MetadataError, parseIdpMetadata, ssoUrlProblem, toPemCertificate, type IdpDescriptor } from './idp-metadata.ts';
import { Refusal } from './refusal.ts';

export interface IdpSource {
  /** The current descriptor; throws Refusal('upstream_unavailable') when none could ever be loaded. */
  current(): Promise<IdpDescriptor>;
  /** A signature failed: metadata may have rolled over, so refresh soon (rate-limited). */
  suspectStale(): void;
}

/** Metadata larger than this is not one IdP's. */
export const MAX_METADATA_BYTES = 2 * 1024 * 1024;
/** However often signatures fail, metadata is not fetched more often than this. */
const MIN_REFETCH_MS = 60_000;

export function staticIdpSource(ssoUrl: string, certificates: readonly string[]): IdpSource {
  const problem = ssoUrlProblem(ssoUrl);
  if (problem) throw new MetadataError(`ssoUrl ${problem}`);
  const descriptor: IdpDescriptor = {
    ssoUrl,
    signingCertificates: certificates.map((certificate, index) => toPemCertificate(certificate, `signingCertificates[${index}]`)),
  };
  return { current: async () => descriptor, suspectStale: () => undefined };
}

export async function fileIdpSource(configDir: string, file: string, entityId: string): Promise<IdpSource> {
  const path = resolve(configDir, file);
  const inside = relative(resolve(configDir), path);
  if (inside.startsWith('..') || isAbsolute(inside)) throw new MetadataError(`metadataFile ${file} is outside the config folder`);
  let xml: string;
  try {
    xml = await readFile(path, 'utf8');
  } catch (error) {
    throw new MetadataError(`metadataFile ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, { cause: error });
  }
  const descriptor = parseIdpMetadata(xml, entityId);
  return { current: async () => descriptor, suspectStale: () => undefined };
}

export interface UrlSourceDeps {
  readonly fetch: UpstreamFetch;
  readonly clock: Clock;
  readonly logger: Logger;
}

export async function urlIdpSource(url: string, entityId: string, refreshSeconds: number, deps: UrlSourceDeps): Promise<IdpSource> {
  let descriptor: IdpDescriptor | undefined;
  let loadedAt = 0;
  let attemptedAt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<IdpDescriptor> | undefined;

  async function fetchOnce(): Promise<IdpDescriptor> {
    const response = await deps.fetch(url, { headers: { accept: 'application/samlmetadata+xml, application/xml, text/xml' } });
    if (!response.ok) throw new MetadataError(`metadata fetch answered HTTP ${response.status}`);
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > MAX_METADATA_BYTES) throw new MetadataError('metadata larger than 2 MiB');
    const body = await response.arrayBuffer();
    if (body.byteLength > MAX_METADATA_BYTES) throw new MetadataError('metadata larger than 2 MiB');
    return parseIdpMetadata(new TextDecoder('utf-8', { fatal: true }).decode(body), entityId);
  }

  function refresh(): Promise<IdpDescriptor> {
    inFlight ??= (async () => {
      attemptedAt = deps.clock.now();
      try {
        descriptor = await fetchOnce();
        loadedAt = deps.clock.now();
        return descriptor;
      } catch (error) {
        deps.logger.warn({ err: error instanceof Error ? error.message : String(error), metadataUrl: url }, 'SAML metadata fetch failed');
        throw error;
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  }

  const mayRetry = (): boolean => !inFlight && deps.clock.now() - attemptedAt >= MIN_REFETCH_MS;

  // A first load at start; an IdP whose metadata host is down only makes this connector unavailable.
  await refresh().catch(() => undefined);

  return {
    async current() {
      if (descriptor === undefined) {
        if (!inFlight && !mayRetry()) throw new Refusal('upstream_unavailable', 'IdP metadata could not be loaded (retrying shortly)');
        try {
          return await refresh();
        } catch (error) {
          throw new Refusal('upstream_unavailable', `IdP metadata could not be loaded: ${error instanceof Error ? error.message : String(error)}`, error);
        }
      }
      if (deps.clock.now() - loadedAt >= refreshSeconds * 1000 && mayRetry()) void refresh().catch(() => undefined);
      // Waiting for a refresh under way (at most one fetch's time) makes a rollover take effect at once;
      // a failed one leaves the last good copy in use.
      if (inFlight) return inFlight.catch(() => descriptor as IdpDescriptor);
      return descriptor;
    },
    suspectStale() {
      if (mayRetry()) void refresh().catch(() => undefined);
    },
  };
}
