import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { openApiDocument } from '../../../src/api/openapi.ts';
import { createInvitationRequest } from '../../../src/api/shapes.ts';

type Json = Record<string, unknown>;
const document = openApiDocument('https://id.example.com/graph/v1.0') as Json & { paths: Record<string, Record<string, Json>>; components: { schemas: Json } };

const defs = JSON.parse(JSON.stringify(document.components.schemas).replaceAll('#/components/schemas/', '#/$defs/')) as Json;
const compiled = (name: string) => z.fromJSONSchema({ $schema: 'https://json-schema.org/draft/2020-12/schema', $ref: `#/$defs/${name}`, $defs: defs } as never);

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 with a bearer scheme and the API base as its server', () => {
    assert.equal(document['openapi'], '3.1.0');
    assert.deepEqual(document['servers'], [{ url: 'https://id.example.com/graph/v1.0' }]);
    assert.deepEqual(document['security'], [{ bearer: [] }]);
  });

  it('declares 400, 401, 403 and 503 for every operation, and only references schemas it has', () => {
    const text = JSON.stringify(document);
    for (const ref of text.matchAll(/"#\/components\/schemas\/([A-Za-z]+)"/g)) assert.ok(ref[1]! in document.components.schemas, ref[1]);
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (method === 'parameters') continue;
        const responses = operation['responses'] as Json;
        for (const status of ['400', '401', '403', '503']) assert.ok(status in responses, `${method} ${path} ${status}`);
        assert.ok(typeof operation['operationId'] === 'string');
      }
    }
  });

  it('has schemas a JSON Schema 2020-12 reader compiles, as strict as the API itself', () => {
    for (const name of Object.keys(document.components.schemas)) assert.ok(compiled(name), name);
    const request = compiled('CreateInvitationRequest');
    const body = {
      invitedUserEmailAddress: 'alice@adatum.com',
      inviteRedirectUrl: 'https://apps.contoso.example/',
      invitedUserMessageInfo: { messageLanguage: 'de', ccRecipients: [{ emailAddress: { address: 'bob@adatum.com' } }] },
    };
    assert.equal(request.safeParse(body).success, true);
    assert.equal(createInvitationRequest.safeParse(body).success, true);
    for (const wrong of [{ ...body, extra: 1 }, { invitedUserEmailAddress: 'a@b.example' }, { ...body, invitedUserType: 'Admin' }]) {
      assert.equal(request.safeParse(wrong).success, false, JSON.stringify(wrong));
      assert.equal(createInvitationRequest.safeParse(wrong).success, false, JSON.stringify(wrong));
    }
    const error = compiled('GraphError');
    assert.equal(error.safeParse({ error: { code: 'Request_BadRequest', message: 'm', innerError: { 'request-id': 'r', date: '2026-11-27T15:27:20Z' } } }).success, true);
    assert.equal(error.safeParse({ error: { code: 'x', message: 'm' } }).success, false);
  });
});
