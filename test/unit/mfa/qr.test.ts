import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import QRCode from 'qrcode';
import { qrCodeSvg } from '../../../src/mfa/qr.ts';
import { totpUri } from '../../../src/mfa/totp.ts';

describe('enrolment QR code', () => {
  it('is inline SVG of the URI: only paths, drawn at 200 px, as many modules as the URI needs', async () => {
    const uri = totpUri({ secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ', tenantDisplayName: 'Contoso', account: 'alice@adatum.com' });
    const svg = await qrCodeSvg(uri);
    const modules = QRCode.create(uri, { errorCorrectionLevel: 'M' }).modules.size;
    assert.match(svg, new RegExp(`^<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200" viewBox="0 0 ${modules + 4} ${modules + 4}"`));
    assert.doesNotMatch(svg, /<script|<text|style=|JBSWY3DP|href/);
    assert.equal(await qrCodeSvg(uri), svg, 'the same URI draws the same code');
    assert.notEqual(await qrCodeSvg(uri.replace('JBSW', 'KBSW')), svg);
  });
});
