/**
 * Reading the signed-in person from the Graph API. Every call carries `appsecret_proof`
 * (HMAC-SHA256 of the access token keyed with the app secret), so a token stolen from elsewhere
 * cannot be used against the app, and apps that enable "Require App Secret" keep working.
 */
import { createHmac } from 'node:crypto';
import { UpstreamError, type UpstreamFetch } from '../types.ts';
import { readJson, upstreamFailure } from '../oidc/upstream-http.ts';

export const appSecretProof = (appSecret: string, accessToken: string): string =>
  createHmac('sha256', appSecret).update(accessToken).digest('hex');

export interface GraphProfile {
  readonly id: string;
  readonly [claim: string]: unknown;
}

const APP_SCOPED_ID = /^[A-Za-z0-9_-]{1,64}$/;

export async function readProfile(options: {
  readonly connectorId: string;
  readonly graphUrl: string;
  readonly appSecret: string;
  readonly accessToken: string;
  readonly fetch: UpstreamFetch;
}): Promise<GraphProfile> {
  const url = new URL(`${options.graphUrl.replace(/\/+$/, '')}/me`);
  url.searchParams.set('fields', 'id,name,email,first_name,last_name');
  url.searchParams.set('appsecret_proof', appSecretProof(options.appSecret, options.accessToken));
  let response: Response;
  try {
    response = await options.fetch(url, {
      headers: { authorization: `Bearer ${options.accessToken}`, accept: 'application/json' },
      redirect: 'manual',
    });
  } catch (error) {
    throw upstreamFailure(options.connectorId, 'graph /me', error);
  }
  const body = (await readJson(response, options.connectorId, 'graph /me')) as Record<string, unknown> | null;
  if (!body || typeof body !== 'object' || typeof body['id'] !== 'string' || !APP_SCOPED_ID.test(body['id'])) {
    throw new UpstreamError('incomplete_identity', options.connectorId, 'graph /me: no usable id');
  }
  return body as GraphProfile;
}
