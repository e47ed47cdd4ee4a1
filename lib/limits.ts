// Every limit the server enforces, with its default, in one place.
// Flags in server.ts override these; the hub and sessions only read a Limits object.

/** The limits one server runs with. Durations are milliseconds; 0 turns a timeout off. */
export interface Limits {
  /** Longest input line, in bytes, before it is discarded with an error. */
  maxLineBytes: number;
  /** Longest name, in characters. */
  maxNameLength: number;
  /** Bytes queued for one client before it is disconnected as a slow reader. */
  maxOutboxBytes: number;
  /** Time to flush queued output to clients at shutdown. */
  shutdownFlushMs: number;
}

/** The defaults used when no flag says otherwise. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxLineBytes: 4096,
  maxNameLength: 24,
  maxOutboxBytes: 256 * 1024,
  shutdownFlushMs: 2000,
});

/** Size of the buffer each connection reads into. */
export const READ_BUFFER_BYTES = 4096;
