// Every limit and timeout the chat client works with, in one place. The server's
// limits live in limits.ts; these only bound what the client waits for and keeps.

/** Longest wait for a TCP connection to be set up before giving up. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** Longest wait, after sending /quit, for the server to say bye and close. */
export const QUIT_TIMEOUT_MS = 3_000;

/** Longest line read from the server (a JSON event); longer ones are dropped. */
export const MAX_EVENT_LINE_BYTES = 1 << 20;

/** Longest line read from stdin in plain mode; longer ones are discarded with a notice. */
export const MAX_INPUT_LINE_BYTES = 64 * 1024;

/** Piped input lines waiting their turn to be sent before the client stops reading stdin. */
export const MAX_WAITING_INPUT_LINES = 1000;
