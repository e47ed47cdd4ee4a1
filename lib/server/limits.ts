// Every limit the server enforces, with its default, in one place.
// Flags in server.ts override these; the hub and sessions only read a Limits object.

import { DEFAULT_BURST, DEFAULT_NOTICE_COST, DEFAULT_RATE } from "../protocol/token_bucket.ts";

/** The limits one server runs with. Durations are milliseconds; 0 turns a limit off. */
export interface Limits {
  /** Longest input line, in bytes, before it is discarded with an error. */
  maxLineBytes: number;
  /** Longest name, in characters. */
  maxNameLength: number;
  /** Bytes queued for one client before it is disconnected as a slow reader. */
  maxOutboxBytes: number;
  /** Steady input rate per client, in lines per second (0: no flood control). */
  ratePerSecond: number;
  /** Lines a client may send at once before the rate applies (a pasted burst). */
  burst: number;
  /** Lines dropped for flooding, net of the steady rate, before the client is disconnected. */
  floodDisconnectLines: number;
  /** Time for a TLS client to finish its handshake before the connection is closed. */
  tlsHandshakeMs: number;
  /** Time for a web door client to send its request (TLS handshake and headers included). */
  webRequestMs: number;
  /** Time to choose a name before the connection is closed. */
  nameTimeoutMs: number;
  /** Time without input before a client is disconnected. */
  idleTimeoutMs: number;
  /**
   * Time a telnet client may stay silent, a TIMING-MARK probe sent half way, before it is
   * closed as gone (a sleeping laptop, a dropped link).
   */
  deadPeerMs: number;
  /** Connections in total (0: no cap). */
  maxClients: number;
  /** Connections from one IP address (0: no cap). */
  maxPerIp: number;
  /**
   * Wait before answering a password guess once its address or secret has failures: this
   * after one, doubling with each one after (a right answer waits as long as a wrong one).
   */
  authDelayMs: number;
  /** The longest wait before answering a password guess. */
  authMaxDelayMs: number;
  /** Wrong passwords on one connection before it is closed. */
  authTries: number;
  /** Wrong passwords from one address that lock it out of every password (0: never). */
  authLockoutAfter: number;
  /** Wrong passwords for one secret, from anywhere, that lock that secret (0: never). */
  authSecretLockoutAfter: number;
  /** How long a lockout lasts. */
  authLockoutMs: number;
  /** Time without a wrong password after which an address's or a secret's are forgotten. */
  authForgetMs: number;
  /** Password hashes (scrypt, 16 MiB each) computed at once, server-wide; past it "busy". */
  maxHashes: number;
  /** Rooms of up to this many members announce joins and leaves (0: every room). */
  announceUpTo: number;
  /** Messages per room replayed to someone joining it (0: none kept). */
  historyLines: number;
  /** Age after which stored messages are deleted (0: kept forever). */
  retainMs: number;
  /** Stored messages in all rooms together; the oldest go first (0: no cap). */
  retainMessages: number;
  /** Time to flush queued output to clients at shutdown. */
  shutdownFlushMs: number;
  /** Rooms that may exist at once (#lobby included); making one more is refused. */
  maxRooms: number;
  /** Rooms one user may be in at once; joining one more is refused. */
  maxRoomsPerUser: number;
  /** Names one client may ignore. */
  maxIgnore: number;
  /**
   * Tokens of flood control a command costs when others see it (a rename, a room change, a
   * topic): at the default rate, one such change a second after a burst of four.
   */
  noticeCost: number;
}

/** The defaults used when no flag says otherwise. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxLineBytes: 4096,
  maxNameLength: 24,
  maxOutboxBytes: 256 * 1024,
  ratePerSecond: DEFAULT_RATE,
  burst: DEFAULT_BURST,
  floodDisconnectLines: 100,
  tlsHandshakeMs: 10_000,
  webRequestMs: 10_000,
  nameTimeoutMs: 60_000,
  idleTimeoutMs: 0,
  deadPeerMs: 120_000,
  maxClients: 5000,
  maxPerIp: 20,
  authDelayMs: 1000,
  authMaxDelayMs: 8000,
  authTries: 3,
  authLockoutAfter: 10,
  authSecretLockoutAfter: 100,
  authLockoutMs: 10 * 60_000,
  authForgetMs: 60 * 60_000,
  maxHashes: 1,
  announceUpTo: 100,
  historyLines: 50,
  retainMs: 30 * 86_400_000,
  retainMessages: 100_000,
  shutdownFlushMs: 2000,
  maxRooms: 1000,
  maxRoomsPerUser: 20,
  maxIgnore: 100,
  noticeCost: DEFAULT_NOTICE_COST,
});

/** Addresses, and secrets, whose wrong passwords are tracked at most (the oldest go first). */
export const AUTH_KEYS_TRACKED = 10_000;

/**
 * The most a reply the server builds for one client (a history replay, a room or user list)
 * may take, in bytes as sent: a quarter of the outbox, so a reply never looks like a client
 * that stopped reading. What does not fit is left out and counted.
 */
export function replyBudget(limits: Pick<Limits, "maxOutboxBytes">): number {
  return Math.max(1024, Math.floor(limits.maxOutboxBytes / 4));
}

/**
 * Size of the buffer each connection reads into. Every idle connection holds one in its
 * pending read: 1 KiB measured 13.8 KiB RSS per idle client against 17.4 KiB with 4 KiB
 * (`deno task bench --scenario 2`); a 4 KiB line still takes only four reads.
 */
export const READ_BUFFER_BYTES = 1024;

// The IRC door's own bounds (irc/); the limits above apply to IRC users too.

/** The longest topic an IRC client may set, so that its 332 still fits one line (TOPICLEN). */
export const IRC_TOPIC_BYTES = 390;

/** The most targets one PRIVMSG, JOIN, PART or NAMES may name (MAXTARGETS). */
export const IRC_MAX_TARGETS = 4;

/** IRC lines waiting for the flood allowance; one more disconnects ("Excess Flood"). */
export const IRC_QUEUED_LINES = 32;

/**
 * Events held for a client named by SASL that has not finished registering (the lobby's
 * chat goes on meanwhile); past this many it is disconnected.
 */
export const IRC_HELD_EVENTS = 200;

/** The longest SASL PLAIN answer read, in base64 (sent in 400-byte chunks). */
export const IRC_SASL_BYTES = 800;

/** Requests whose answers may come late (a password being checked) that a door remembers. */
export const IRC_CONTEXTS_KEPT = 16;
