import type { Clock } from '../../shared/clock.ts';

/**
 * A value loaded on first use and kept for `ttlMs`. Concurrent callers share one load; a failed
 * load is not remembered, so the next caller tries again (an IdP that was down for a minute must
 * not stay "down" in Portico).
 */
export class Cached<T> {
  readonly #load: () => Promise<T>;
  readonly #ttlMs: number;
  readonly #clock: Clock;
  #value: { readonly value: T; readonly loadedAt: number } | undefined;
  #loading: Promise<T> | undefined;

  constructor(load: () => Promise<T>, ttlMs: number, clock: Clock) {
    this.#load = load;
    this.#ttlMs = ttlMs;
    this.#clock = clock;
  }

  get(): Promise<T> {
    if (this.#value && this.#clock.now() - this.#value.loadedAt < this.#ttlMs) return Promise.resolve(this.#value.value);
    return this.refresh();
  }

  /** Loads again now (joining a load already under way). */
  refresh(): Promise<T> {
    this.#loading ??= this.#load()
      .then((value) => {
        this.#value = { value, loadedAt: this.#clock.now() };
        return value;
      })
      .finally(() => {
        this.#loading = undefined;
      });
    return this.#loading;
  }

  /** When the current value was loaded (undefined before the first load). */
  get loadedAt(): number | undefined {
    return this.#value?.loadedAt;
  }
}
