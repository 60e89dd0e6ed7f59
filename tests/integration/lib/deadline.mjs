// Bounded waits for the tests: every wait ends, and says what it waited for when it fails.
import { once } from 'node:events';

/** Resolves as `promise` does, or rejects after `timeout` ms naming `what` it waited for. */
export function withDeadline(promise, timeout, what) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeout} ms waiting for ${what}`)), timeout);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** The arguments of `emitter`'s next `event`, or a rejection after `timeout` ms naming `what`. */
export function onceWithin(emitter, event, what = `the '${event}' event`, timeout = 10000) {
  return withDeadline(once(emitter, event), timeout, what);
}
