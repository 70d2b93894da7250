import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeOrganisation, organisationId, resolveOrganisation } from '../../../src/policy/organisation.ts';
import { homeOrganisationOf } from '../../../src/policy/subject.ts';
import type { HomeOrganisation, Organisation } from '../../../src/policy/types.ts';
import { FABRIKAM_ENTITY, FABRIKAM_ISSUER, FABRIKAM_TID, policy } from './helpers.ts';

const contoso = policy();

describe('resolveOrganisation: the most specific evidence wins', () => {
  const cases: { name: string; home: HomeOrganisation; expected: Partial<Organisation> & { kind: Organisation['kind'] } }[] = [
    { name: 'this tenant itself is home', home: { porticoTenantId: 'contoso', emailDomain: 'fabrikam.com' }, expected: { kind: 'home', id: 'contoso' } },
    {
      name: 'another Portico tenant beats a connector partner',
      home: { porticoTenantId: 'northwind', partnerId: 'fabrikam', emailDomain: 'fabrikam.com' },
      expected: { kind: 'tenant', id: 'northwind', via: "tenant 'northwind' of this Portico" },
    },
    {
      name: "the connector's partner beats an Entra tenant id of another partner",
      home: { partnerId: 'tailspin', entraTenantId: FABRIKAM_TID, emailDomain: 'fabrikam.com' },
      expected: { kind: 'partner', id: 'tailspin', via: "identity provider of partner 'tailspin'" },
    },
    {
      name: 'an Entra tid beats a SAML entity id',
      home: { entraTenantId: FABRIKAM_TID, samlEntityId: 'https://sts.tailspin.com' },
      expected: { kind: 'partner', id: 'fabrikam', via: `Entra tenant ${FABRIKAM_TID}` },
    },
    {
      name: 'a SAML entity id beats an OIDC issuer',
      home: { samlEntityId: 'https://sts.tailspin.com', oidcIssuer: FABRIKAM_ISSUER },
      expected: { kind: 'partner', id: 'tailspin', via: 'SAML entity id https://sts.tailspin.com' },
    },
    {
      name: 'an OIDC issuer beats the email domain',
      home: { oidcIssuer: FABRIKAM_ISSUER, emailDomain: 'tailspin.com' },
      expected: { kind: 'partner', id: 'fabrikam', via: `OIDC issuer ${FABRIKAM_ISSUER}` },
    },
    { name: 'the email domain alone', home: { emailDomain: 'tailspin.com' }, expected: { kind: 'partner', id: 'tailspin', via: 'email domain tailspin.com' } },
    {
      name: 'unknown evidence falls through to the email domain',
      home: { partnerId: 'nobody', entraTenantId: '00000000-0000-4000-8000-000000000000', samlEntityId: FABRIKAM_ENTITY + '/other', emailDomain: 'fabrikam.com' },
      expected: { kind: 'partner', id: 'fabrikam', via: 'email domain fabrikam.com' },
    },
    { name: 'a domain of no partner', home: { emailDomain: 'adatum.com' }, expected: { kind: 'other', via: 'email domain adatum.com belongs to no partner' } },
    { name: 'no evidence at all', home: {}, expected: { kind: 'other', via: 'no partner recognised' } },
    { name: 'a subdomain is not the partner domain', home: { emailDomain: 'eu.fabrikam.com' }, expected: { kind: 'other' } },
  ];
  for (const { name, home, expected } of cases) {
    it(name, () => {
      const organisation = resolveOrganisation(contoso, home);
      for (const [key, value] of Object.entries(expected)) assert.equal((organisation as Record<string, unknown>)[key], value, key);
    });
  }

  it('never takes the consumers tenant id (every personal Microsoft account) as a partner’s Entra tenant', () => {
    const consumers = '9188040d-6c67-4c5b-b112-36a304b66dad';
    // The config refuses this id in entraTenantIds; the engine must not honour it either.
    const listing = { ...policy(), partners: [{ id: 'live', displayName: 'Live', domains: ['live.example'], entraTenantIds: [consumers], samlEntityIds: [], oidcIssuers: [] }] };
    assert.deepEqual(resolveOrganisation(listing, { entraTenantId: consumers, emailDomain: 'outlook.com' }), { kind: 'other', via: 'email domain outlook.com belongs to no partner' });
  });

  it('names partners by their display name and ids for externalTenants', () => {
    const fabrikam = resolveOrganisation(contoso, { samlEntityId: FABRIKAM_ENTITY });
    assert.deepEqual(fabrikam, { kind: 'partner', id: 'fabrikam', displayName: 'Fabrikam', via: `SAML entity id ${FABRIKAM_ENTITY}` });
    assert.equal(organisationId(fabrikam), 'fabrikam');
    assert.equal(organisationId({ kind: 'other', via: 'x' }), undefined);
    assert.equal(describeOrganisation(fabrikam), `partner 'fabrikam' (SAML entity id ${FABRIKAM_ENTITY})`);
    assert.equal(describeOrganisation({ kind: 'home', id: 'contoso' }), "this tenant ('contoso')");
    assert.match(describeOrganisation({ kind: 'other', via: 'no partner recognised' }), /no settings of its own \(no partner recognised\)/);
  });
});

describe("resolveOrganisation: the tenant's own domains, and only verified addresses", () => {
  const withDomains = { ...contoso, domains: ['contoso.example'] };

  it("a verified address in the tenant's own domains is the tenant's own person", () => {
    assert.deepEqual(resolveOrganisation(withDomains, { emailDomain: 'contoso.example' }), { kind: 'home', id: 'contoso' });
  });

  it("an identity provider of a partner wins over an own-domain address (the partner's IdP said so)", () => {
    assert.equal(resolveOrganisation(withDomains, { partnerId: 'fabrikam', emailDomain: 'contoso.example' }).kind, 'partner');
  });

  it('an unverified email names no organisation', () => {
    const home = homeOrganisationOf({ kind: 'oidc', issuer: 'https://idp.example', email: 'mallory@fabrikam.com', emailVerified: false }, {});
    assert.equal(home.emailDomain, undefined);
    assert.equal(resolveOrganisation(contoso, home).kind, 'other');
    const verified = homeOrganisationOf({ kind: 'oidc', issuer: 'https://idp.example', email: 'alice@fabrikam.com', emailVerified: true }, {});
    assert.deepEqual(resolveOrganisation(contoso, verified), { kind: 'partner', id: 'fabrikam', displayName: 'Fabrikam', via: 'email domain fabrikam.com' });
  });
});
