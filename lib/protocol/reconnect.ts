// When a client tries again after a lost connection: chat-client and the web page wait the
// same way. Pure, and with no imports: the web door ships this function's source too.

/** First wait before reconnecting after a lost connection; it doubles with each attempt. */
export const RECONNECT_MIN_MS = 1_000;

/** Longest wait between reconnect attempts. */
export const RECONNECT_MAX_MS = 30_000;

/**
 * How long to wait before reconnect attempt `attempt` (1, 2, ...): 1 s doubling up to 30 s,
 * each within 20 % either way by `random` (in [0, 1)), so clients dropped together do not
 * come back together.
 */
export function reconnectDelay(attempt: number, random: number): number {
  const base = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** Math.max(0, attempt - 1));
  return Math.min(RECONNECT_MAX_MS, Math.round(base * (0.8 + 0.4 * random)));
}
