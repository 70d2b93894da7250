/**
 * The management API throttles each caller: beyond `managementApi.requestsPerMinute` a caller gets
 * Graph's 429 `TooManyRequests` with `Retry-After`, while other callers go on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestPortico } from '../helpers/portico.ts';
import { DAEMON, EXTRA_APPS, GraphClient, OpenApiChecker, appToken, errorCode, startGraphPortico } from './graph-harness.ts';

describe('management API: throttling per caller', () => {
  let portico: TestPortico;
  let graph: GraphClient;

  before(async () => {
    portico = await startGraphPortico({ brokerYaml: 'managementApi:\n  requestsPerMinute: 3\n' });
    graph = new GraphClient(portico, await OpenApiChecker.fetch(portico));
  });
  after(() => portico.dispose());

  it('answers 429 TooManyRequests with Retry-After beyond the limit, for that caller only', async () => {
    const daemon = await appToken(portico, DAEMON);
    for (let i = 0; i < 3; i++) assert.equal((await graph.call('GET', '/users', { token: daemon })).status, 200);
    const throttled = await graph.call('GET', '/users', { token: daemon });
    assert.equal(throttled.status, 429);
    assert.equal(errorCode(throttled), 'TooManyRequests');
    assert.equal(throttled.headers.get('retry-after'), '60');

    const reader = await appToken(portico, EXTRA_APPS.reader);
    assert.equal((await graph.call('GET', '/users', { token: reader })).status, 200, 'another app has its own count');
  });
});
