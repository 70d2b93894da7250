import type { UpstreamErrorCode } from '../types.ts';

/**
 * Why a response was refused, raised anywhere in the validation and turned into an UpstreamError
 * (which needs the connector id) at the connector's edge. The message is for the log: it names
 * the check that failed, never the assertion.
 */
export class Refusal extends Error {
  readonly code: Extract<UpstreamErrorCode, 'invalid_response' | 'upstream_denied' | 'incomplete_identity' | 'upstream_unavailable'>;
  constructor(code: Refusal['code'], message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'Refusal';
    this.code = code;
  }
}
