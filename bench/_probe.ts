import { Worker } from 'node:worker_threads';
import { createResponse, generateKeyPair, newSamlId } from '../test/helpers/saml-idp.ts';
// @ts-expect-error plain js probe
import { run } from './_probe_worker.mjs';
const key = generateKeyPair('idp');
const acs = 'http://127.0.0.1:3000/t/v2.0/saml/acme/acs';
const r = await createResponse({ issuer: 'idp', signingKey: key, requestId: newSamlId(), acsUrl: acs, audience: 'sp', user: { nameId: 'abc' }, padToBytes: 10000 });
const data = { acs, cert: key.certificate, b64: r.base64 };
for (let round = 0; round < 2; round++) {
  console.log('main', (await run(data)).toFixed(0));
  for (const rl of [undefined, { maxOldGenerationSizeMb: 192 }, { maxYoungGenerationSizeMb: 64 }]) {
    const w = new Worker(new URL('./_probe_worker.mjs', import.meta.url), { workerData: data, ...(rl ? { resourceLimits: rl } : {}) });
    console.log('worker', JSON.stringify(rl), (await new Promise((res) => w.once('message', res)) as number).toFixed(0));
    await w.terminate();
  }
}
