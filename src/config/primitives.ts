/**
 * Value checks and schema building blocks shared by the config schema and the connectors' own
 * config schemas (which the tenant schema includes). Kept apart from schema.ts so connectors can
 * use them without an import cycle.
 */
import { z } from 'zod';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
export const HTTPS_ONLY = 'must use https (http is allowed only for localhost, 127.0.0.1 and [::1])';

export const isLoopbackHost = (hostname: string): boolean => LOOPBACK_HOSTS.has(hostname.toLowerCase());

export function publicUrlProblem(value: string): string | undefined {
  if (!URL.canParse(value)) return 'must be an absolute URL (like https://id.example.com)';
  const url = new URL(value);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http or https URL';
  if (value.includes('?')) return 'must not contain a query (?...)';
  if (value.includes('#')) return 'must not contain a fragment (#...)';
  if (url.username !== '' || url.password !== '') return 'must not contain a user name or password';
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) return HTTPS_ONLY;
  return undefined;
}

export const DNS_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function domainProblem(value: string): string | undefined {
  if (value !== value.toLowerCase()) return 'must be lowercase';
  return DNS_NAME.test(value) ? undefined : 'must be a DNS name like contoso.com';
}

export const checked = (problem: (value: string) => string | undefined) =>
  z.string().superRefine((value, ctx) => {
    const message = problem(value);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message });
  });

export const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const slug = () =>
  z.string().regex(SLUG, 'must be 1-63 lowercase letters, digits or hyphens, starting with a letter or digit');

