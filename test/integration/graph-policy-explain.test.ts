/**
 * `POST /graph/v1.0/policies/explain` on the seed's contoso tenant: the same answers as
 * `portico policy explain`, behind `Policy.Read.All`, every response checked against the
 * OpenAPI document.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { startTestPortico, type TestPortico } from '../helpers/portico.ts';
import { DAEMON, GraphClient, OpenApiChecker, appToken, errorCode, errorMessage } from './graph-harness.ts';

const SEED_CONTOSO = new URL('../../config/examples/seed/tenants/contoso.yaml', import.meta.url);
const READER = { id: 'seed-reader', secret: 'seed-reader-secret' } as const;

type Json = Record<string, unknown>;
const decision = (body: Json | undefined, key: string) => body?.[key] as { effect: string; denial?: { rule: string }; requirements: unknown[]; trace: { rule: string; effect: string }[] } | undefined;

describe('POST /policies/explain (seed config)', () => {
  let portico: TestPortico;
  let graph: GraphClient;
  let token: string;

  before(async () => {
    const tenant = parse(await readFile(SEED_CONTOSO, 'utf8')) as { apps: unknown[] };
    tenant.apps.push({ id: READER.id, name: 'Reader without Policy.Read.All', type: 'daemon', secret: `\${env:SEED_READER_SECRET:-${READER.secret}}`, graphRoles: ['User.Read.All'] });
    portico = await startTestPortico({ backend: 'sqlite', tenantFiles: { contoso: stringify(tenant) } });
    graph = new GraphClient(portico, await OpenApiChecker.fetch(portico));
    token = await appToken(portico, DAEMON);
  });
  after(async () => {
    await portico.dispose();
  });

  const explain = (body: unknown, options: { token?: string } = {}) => graph.call('POST', '/policies/explain', { token: options.token ?? token, body });

  it('Example 1: invitations to adatum.com are refused by the block list', async () => {
    const response = await explain({ user: 'someone@adatum.com' });
    assert.equal(response.status, 200);
    assert.deepEqual(response.body?.['user'], { found: false, email: 'someone@adatum.com' });
    const invitation = decision(response.body, 'invitation')!;
    assert.equal(invitation.effect, 'deny');
    assert.equal(invitation.denial?.rule, 'externalCollaboration.blockedDomains');
    assert.ok(invitation.trace.some((e) => e.rule === 'externalCollaboration.allowInvitesFrom (adminsAndGuestInviters)' && e.effect === 'allow'), 'the daemon counts as an admin');
    assert.equal(decision(response.body, 'redemption')?.effect, 'deny');
    assert.equal(response.body?.['signIn'], undefined);
  });

  it('Example 2: Fabrikam is refused new invitations but keeps signing in, with MFA for payroll', async () => {
    const withoutMfa = await explain({ user: 'alice@fabrikam.com', app: 'payroll' });
    assert.equal(withoutMfa.status, 200);
    assert.equal((withoutMfa.body?.['organisation'] as Json)['id'], 'fabrikam');
    assert.equal(decision(withoutMfa.body, 'invitation')?.denial?.rule, 'externalCollaboration.blockedDomains');
    const signIn = decision(withoutMfa.body, 'signIn')!;
    assert.equal(signIn.effect, 'challenge');
    assert.deepEqual(signIn.requirements, [{ policyId: 'guests-mfa-payroll', operator: 'OR', controls: ['mfa'] }]);
    const withMfa = await explain({ user: 'alice@fabrikam.com', app: 'payroll', mfa: true });
    assert.equal(decision(withMfa.body, 'signIn')?.effect, 'allow');
  });

  it('without Policy.Read.All: 403', async () => {
    const response = await explain({ user: 'someone@adatum.com' }, { token: await appToken(portico, READER) });
    assert.equal(response.status, 403);
    assert.equal(errorCode(response), 'Authorization_RequestDenied');
  });

  it('malformed bodies, unknown apps and identity providers: 400 naming the problem', async () => {
    const cases: { body: unknown; message: RegExp }[] = [
      { body: {}, message: /user/ },
      { body: { user: 'a@fabrikam.com', mfa: 'yes' }, message: /mfa/ },
      { body: { user: 'a@fabrikam.com', device: 'shiny' }, message: /device/ },
      { body: { user: 'a@fabrikam.com', extra: 1 }, message: /extra/ },
      { body: { user: 'a@fabrikam.com', app: 'nope' }, message: /Unknown app 'nope' \(known: contoso-daemon, payroll, seed-reader\)/ },
      { body: { user: 'a@fabrikam.com', idp: 'nope' }, message: /Unknown identity provider 'nope' \(known: email\)/ },
      { body: { user: 'not-an-object-id' }, message: /No user with object id 'not-an-object-id'/ },
    ];
    for (const c of cases) {
      const response = await explain(c.body);
      assert.equal(response.status, 400, JSON.stringify(c.body));
      assert.equal(errorCode(response), 'Request_BadRequest');
      assert.match(errorMessage(response), c.message);
    }
    const notJson = await graph.call('POST', '/policies/explain', { token, rawBody: '[1]' });
    assert.equal(notJson.status, 400);
  });
});
