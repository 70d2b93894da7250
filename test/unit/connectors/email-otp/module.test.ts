import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { emailOtpConnector } from '../../../../src/connectors/email-otp/index.ts';
import type { ConnectorDeps } from '../../../../src/connectors/registry.ts';
import { createMailer } from '../../../../src/mail/index.ts';
import { ManualClock } from '../../../../src/shared/clock.ts';
import { silentLogger } from '../../../../src/shared/logger.ts';
import { createMemoryStore } from '../../../../src/storage/memory/memory-store.ts';
import { createOneTimeIdStore } from '../../../../src/storage/repositories/one-time-ids.ts';
import { createPasscodeStore } from '../../../../src/storage/repositories/passcodes.ts';

const schema = emailOtpConnector.schema;

describe('email-otp config schema', () => {
  it('fills in the documented defaults', () => {
    assert.deepEqual(schema.parse({ id: 'mail', kind: 'email-otp' }), {
      id: 'mail',
      kind: 'email-otp',
      domains: [],
      codeLifetimeMinutes: 10,
      resendAfterSeconds: 60,
      maxCodesPerAddressPerHour: 5,
      maxCodesPerIpPerHour: 20,
      maxVerifyAttemptsPerIpPerHour: 50,
    });
  });

  it('caps the code lifetime at 30 minutes and refuses unknown keys and nonsense limits', () => {
    assert.equal(schema.parse({ id: 'mail', kind: 'email-otp', codeLifetimeMinutes: 30 }).codeLifetimeMinutes, 30);
    for (const bad of [{ codeLifetimeMinutes: 31 }, { codeLifetimeMinutes: 0 }, { maxCodesPerIpPerHour: 0 }, { resendAfterSeconds: -1 }, { codeLength: 6 }, { kind: 'oidc' }]) {
      assert.equal(schema.safeParse({ id: 'mail', kind: 'email-otp', ...bad }).success, false, JSON.stringify(bad));
    }
  });

  it('describes every key for the generated reference', () => {
    const json = z.toJSONSchema(schema, { io: 'input' }) as { properties: Record<string, { description?: string }> };
    for (const [key, property] of Object.entries(json.properties)) assert.ok(property.description, `${key} has no description`);
  });
});

describe('email-otp connector module', () => {
  it('builds a code connector from the composition root\'s deps, named by default', async () => {
    const clock = new ManualClock();
    const store = createMemoryStore({ clock });
    const mailer = createMailer({ transport: 'outbox', from: 'Portico <no-reply@localhost>', outboxDir: '/nonexistent-never-written' }, { logger: silentLogger(), clock });
    const deps: ConnectorDeps = {
      tenantId: 'contoso',
      tenantDisplayName: 'Contoso',
      configDir: '/config',
      tenantBaseUrl: 'http://localhost:3000/contoso/v2.0',
      clock,
      logger: silentLogger(),
      fetch,
      oneTimeIds: createOneTimeIdStore(store),
      passcodes: createPasscodeStore(store),
      mailer,
    };
    const connector = await emailOtpConnector.create(schema.parse({ id: 'mail', kind: 'email-otp', domains: ['fabrikam.example'] }), deps);
    assert.equal(connector.capability, 'code');
    assert.equal(connector.kind, 'email-otp');
    assert.equal(connector.group, 'emailOtp');
    assert.equal(connector.displayName, 'Email one-time passcode');
    assert.deepEqual(connector.domains, ['fabrikam.example']);
    const named = await emailOtpConnector.create(schema.parse({ id: 'mail', kind: 'email-otp', displayName: 'Sign in with a code' }), deps);
    assert.equal(named.displayName, 'Sign in with a code');
    await mailer.close();
    await store.close();
  });
});
