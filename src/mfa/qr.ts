/**
 * The enrolment QR code as SVG markup, inlined in the page: no image request, no script, and the
 * page's CSP (no inline script or style) holds, since the markup has only paths and presentation
 * attributes. The SVG carries no text of the URI, only the modules that encode it.
 */
import QRCode from 'qrcode';

/** Size the code is drawn at, in CSS pixels; the viewBox lets a stylesheet scale it. */
const SIZE_PX = 200;

export function qrCodeSvg(text: string): Promise<string> {
  // Level M survives a smudged or glare-hit screen and keeps an otpauth URI at a scannable density.
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2, width: SIZE_PX });
}
