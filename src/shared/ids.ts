import { randomBytes, randomUUID } from 'node:crypto';

/** Object ids look like Entra's: a random UUID. */
export const newObjectId = (): string => randomUUID();

/** Correlation and request ids: short enough to read out over the phone, unique enough to grep. */
export const newRequestId = (): string => randomBytes(9).toString('base64url');

/** An opaque, unguessable token (256 bits). */
export const newSecretToken = (): string => randomBytes(32).toString('base64url');
