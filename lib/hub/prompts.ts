// The name and password prompts: what a client's next plain line is, what a password prompt
// says and which commands work at it, lines held while a password is checked, digests of
// secrets typed, the throttle on wrong guesses and the bound on password hashes running.
// Checking a password, naming a client and replying are the hub's.

import type { Client } from "./client.ts";
import type { Command } from "../commands.ts";
import type { ServerEvent } from "../events.ts";
import { AUTH_KEYS_TRACKED, type Limits } from "../limits.ts";
import { secretDigest } from "../passwords.ts";
import { Throttle } from "../throttle.ts";

/** Lines held while a password is being checked, at most; more are dropped. */
export const MAX_HELD_LINES = 64;

/** Secrets typed on one connection whose digests it keeps, to refuse them as chat or names. */
export const SECRETS_REMEMBERED = 4;

/**
 * What a client's next plain line is: a name, a password (the server's, or a registered
 * name's), or chat. At a password prompt no plain line is ever a message or a name.
 */
export type Prompt =
  | { for: "name" }
  | { for: "password"; about: "server" }
  | { for: "password"; about: "name"; name: string }
  | { for: "ready" };

/** A password prompt. */
export type PasswordPrompt = Extract<Prompt, { for: "password" }>;

/** The event asking for the password `prompt` is for. */
export function passwordPromptEvent(prompt: PasswordPrompt, ts: number): ServerEvent {
  return prompt.about === "server"
    ? { type: "prompt", ts, for: "password", about: "server", text: "password:" }
    : {
      type: "prompt",
      ts,
      for: "password",
      about: "name",
      name: prompt.name,
      text: `password for ${prompt.name}:`,
    };
}

/**
 * What a command (typed or requested) does at a password prompt: `/pass` gives the password;
 * `/help`, `/proto`, `/quit` run, and `/nick` at a registered name's prompt; any other is
 * refused with the text to say.
 */
export function atPasswordPrompt(
  prompt: PasswordPrompt,
  cmd: Command,
): { do: "password"; password: string } | { do: "run" } | { do: "refuse"; text: string } {
  if (cmd.name === "pass") return { do: "password", password: cmd.password };
  if (
    cmd.name === "help" || cmd.name === "proto" || cmd.name === "disconnect" ||
    (cmd.name === "changeusername" && prompt.about === "name")
  ) {
    return { do: "run" };
  }
  return {
    do: "refuse",
    text: prompt.about === "server"
      ? "give the server password first (/pass PASSWORD)"
      : `give the password for ${prompt.name}, /nick another name, or an empty line to go back`,
  };
}

/** Keeps the digest of a secret typed on this connection (the last few). */
export function remember(client: Client, secret: string): void {
  const secrets = client.secrets ??= [];
  secrets.push(secretDigest(secret));
  if (secrets.length > SECRETS_REMEMBERED) secrets.shift();
}

/** Whether `text` is a secret typed on this connection. */
export function looksLikeSecret(client: Client, text: string): boolean {
  return client.secrets !== undefined && client.secrets.includes(secretDigest(text));
}

/**
 * Holds a line while a password is being checked (dropped past `MAX_HELD_LINES`); false
 * when nothing is being checked and the line is to be handled now.
 */
export function hold(client: Client, line: string): boolean {
  if (!client.held) return false;
  if (client.held.length < MAX_HELD_LINES) client.held.push(line);
  return true;
}

/** Wrong passwords counted by source address and by secret (`server`, `op`, `name:KEY`). */
export class Guesses {
  readonly #byAddress: Throttle;
  readonly #bySecret: Throttle;

  /** Throttles with the `auth*` limits. */
  constructor(limits: Limits) {
    const throttle = {
      delayMs: limits.authDelayMs,
      maxDelayMs: limits.authMaxDelayMs,
      lockoutMs: limits.authLockoutMs,
      forgetMs: limits.authForgetMs,
      maxKeys: AUTH_KEYS_TRACKED,
    };
    this.#byAddress = new Throttle({ ...throttle, lockoutAfter: limits.authLockoutAfter });
    this.#bySecret = new Throttle({ ...throttle, lockoutAfter: limits.authSecretLockoutAfter });
  }

  /** Until when a guess from `address` at `secret` is refused unchecked; 0 when it is not. */
  lockedUntil(address: string, secret: string, now: number): number {
    return Math.max(
      this.#byAddress.lockedUntil(address, now) ?? 0,
      this.#bySecret.lockedUntil(secret, now) ?? 0,
    );
  }

  /** Wrong guesses counted so far against the address or the secret, whichever has more. */
  failures(address: string, secret: string, now: number): number {
    return Math.max(this.#byAddress.failures(address, now), this.#bySecret.failures(secret, now));
  }

  /** Counts a wrong guess against both; returns the larger count. */
  fail(address: string, secret: string, now: number): number {
    return Math.max(this.#byAddress.fail(address, now), this.#bySecret.fail(secret, now));
  }

  /** How long an answer waits after `failures` wrong guesses. */
  delayMs(failures: number): number {
    return this.#byAddress.delayMs(failures);
  }
}

/**
 * Password hashes (scrypt: 16 MiB and tens of ms each) running at once, server-wide, at most
 * `max` (0: any number).
 */
export class Hashes {
  readonly #max: number;
  readonly #idle: () => void;
  #running = 0;

  /** `idle` is called each time the last hash running finishes. */
  constructor(max: number, idle: () => void) {
    this.#max = max;
    this.#idle = idle;
  }

  /** Hashes running now. */
  get running(): number {
    return this.#running;
  }

  /** Starts `work` unless `max` hashes run already (then undefined, and nothing starts). */
  start<T>(work: () => Promise<T>): Promise<T> | undefined {
    if (this.#max > 0 && this.#running >= this.#max) return undefined;
    this.#running++;
    return work().finally(() => {
      if (--this.#running === 0) this.#idle();
    });
  }
}
