import { PorticoError } from '../shared/errors.ts';

export { StoreUnavailableError } from '../shared/errors.ts';

/** The record does not exist (or has expired). */
export class NotFoundError extends PorticoError {
  // No id in the message: for provider artefacts the id is the code or token itself.
  constructor(collection: string) {
    super('not_found', `${collection}: record not found`, { status: 404 });
  }
}

/** A record with this id, or a unique index value, is already taken. */
export class AlreadyExistsError extends PorticoError {
  readonly collection: string;
  readonly index: string | undefined;
  constructor(collection: string, what: string, index?: string) {
    super('already_exists', `${collection}: ${what} already exists`, { status: 409 });
    this.collection = collection;
    this.index = index;
  }
}

/** An optimistic update lost every retry against concurrent writers. */
export class ConflictError extends PorticoError {
  constructor(collection: string) {
    super('conflict', `${collection}: record was changed concurrently; try again`, { status: 409 });
  }
}
