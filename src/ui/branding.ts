/** Colours and images of an organisation, as validated config (colours are strict #rrggbb). */
export interface BrandingInput {
  readonly logoUrl?: string | undefined;
  readonly backgroundImageUrl?: string | undefined;
  readonly primaryColor?: string | undefined;
  readonly backgroundColor?: string | undefined;
  readonly textColor?: string | undefined;
  readonly signInText?: string | undefined;
}

const COLOUR = /^#[0-9a-fA-F]{6}$/;
const cssUrl = (url: string): string => `url("${encodeURI(url).replace(/["\\]/g, (c) => `\\${c}`)}")`;

/**
 * The stylesheet that gives sign-in pages an organisation's look. Served as a file, never
 * inlined, so the pages keep a CSP without 'unsafe-inline'; every value is re-checked here even
 * though the config schema validated it, because it is written into CSS.
 */
export function brandingStylesheet(branding: BrandingInput): string {
  const rules: string[] = [];
  const vars: string[] = [];
  if (branding.primaryColor && COLOUR.test(branding.primaryColor)) vars.push(`--brand: ${branding.primaryColor};`);
  if (branding.backgroundColor && COLOUR.test(branding.backgroundColor)) vars.push(`--background: ${branding.backgroundColor};`);
  if (branding.textColor && COLOUR.test(branding.textColor)) vars.push(`--text: ${branding.textColor};`);
  if (vars.length) rules.push(`:root { ${vars.join(' ')} }`);
  if (branding.backgroundImageUrl && URL.canParse(branding.backgroundImageUrl)) {
    rules.push(`body { background-image: ${cssUrl(branding.backgroundImageUrl)}; }`);
  }
  return `${rules.join('\n')}\n`;
}

/** Origins the page must be allowed to load images from (CSP img-src). */
export function brandingImageOrigins(brandings: readonly (BrandingInput | undefined)[]): string[] {
  const origins = new Set<string>();
  for (const branding of brandings) {
    for (const url of [branding?.logoUrl, branding?.backgroundImageUrl]) {
      if (url && URL.canParse(url)) origins.add(new URL(url).origin);
    }
  }
  return [...origins];
}
