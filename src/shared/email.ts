/**
 * Email addresses as Portico accepts them from people and upstream IdPs: trimmed, NFC, domain
 * lowercased. Refused (undefined): control characters (CR/LF header injection), anything but one
 * `@`, spaces, and domains that are not plain ASCII DNS names (punycode `xn--` labels are fine,
 * raw Unicode look-alikes are not).
 */
const LOCAL_PART = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$/;
const DOMAIN_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export function normaliseEmail(input: string): string | undefined {
  // Control characters are refused even at the ends, before trimming: a trailing CR/LF from an
  // upstream claim is an injection attempt, not a typo.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(input)) return undefined;
  const value = input.normalize('NFC').trim();
  if (value.length > 254 || /\s/.test(value)) return undefined;
  const at = value.indexOf('@');
  if (at <= 0 || at !== value.lastIndexOf('@')) return undefined;
  const local = value.slice(0, at);
  const domain = value.slice(at + 1).toLowerCase();
  if (!LOCAL_PART.test(local) || local.startsWith('.') || local.endsWith('.') || local.includes('..')) return undefined;
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((label) => DOMAIN_LABEL.test(label)) || /^[0-9]+$/.test(labels.at(-1)!)) return undefined;
  return `${local}@${domain}`;
}

/** Case-insensitive equality of two normalised addresses. */
export const sameEmail = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
