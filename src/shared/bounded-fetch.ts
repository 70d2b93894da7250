/**
 * fetch with a deadline: every call to an upstream IdP goes through it, so a slow or dead IdP
 * costs a guest at most `timeoutMs`, never a hung sign-in. Redirects are not followed: an IdP
 * endpoint that redirects is misconfigured, and following it could leave https.
 */
export function boundedFetch(timeoutMs: number, base: typeof fetch = fetch): typeof fetch {
  return (input, init = {}) => {
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    return base(input, { redirect: 'manual', ...init, signal });
  };
}
