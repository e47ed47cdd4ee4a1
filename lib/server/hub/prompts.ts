// The name and password prompts: what a client's next plain line is, what a password prompt
// says and which commands work at it, lines held while a password is checked, digests of
// secrets typed, the throttle on wrong guesses, the bound on password hashes running, and
// PromptMachine, which drives them. Naming a client is naming.ts's, running commands input.ts's.

import type { Client } from "./client.ts";
import { type Command, parseInput, type RequestId } from "../../protocol/commands.ts";
import { sourceKey } from "../../protocol/address.ts";
import { sameSecret, secretDigest } from "../passwords.ts";
import type { Delivery } from "./delivery.ts";
import type { ServerEvent } from "../../protocol/events.ts";
import { AUTH_KEYS_TRACKED, type Limits } from "../limits.ts";

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

/** What the prompt machine works with; the hub gives its own parts and steps. */
export interface PromptsContext {
  limits: Limits;
  out: Delivery;
  /** The password every client must give before choosing a name, if any. */
  password: string | undefined;
  log(line: string): void;
  /** Logs `what` went wrong, with the error. */
  logError(what: string, err: unknown): void;
  /** How the log names a client. */
  who(client: Client): string;
  /** Called each time the last password hash running finishes. */
  reclaim(): void;
  /** Handles one line as if it had just come in (a held line, released). */
  handle(client: Client, line: string): void;
  /** Runs a command for a client. */
  command(client: Client, cmd: Command): void;
  /** Takes `name` for a client, with the password a registered name needs. */
  rename(client: Client, name: string, password?: string): void;
  /** Gives up a registered name's password prompt. */
  back(client: Client): void;
  /** Lets a client on past the server's password. */
  admitted(client: Client): void;
  /** Forgets a connection that has closed, with the reason. */
  disconnect(client: Client, reason?: string): void;
  /** Tells a client `what` failed and logs why. */
  failed(client: Client, err: unknown, what: string): void;
}

/**
 * The prompt state machine: a line or command at a password prompt, guesses through the
 * throttle, bounded hashing, and the input held meanwhile and released in order after.
 */
export class PromptMachine {
  readonly #ctx: PromptsContext;
  readonly #guesses: Guesses;
  readonly #hashes: Hashes;

  /** Works on `ctx`, with throttles and a hash bound from its limits. */
  constructor(ctx: PromptsContext) {
    this.#ctx = ctx;
    this.#guesses = new Guesses(ctx.limits);
    // When the last hash running finishes, memory is reclaimed.
    this.#hashes = new Hashes(ctx.limits.maxHashes, () => ctx.reclaim());
  }

  /**
   * Runs `fn` answering the JSON request `id` (or none): each reply to the client carries
   * the id, and a request nothing answered (and no password check still running) gets `ok`.
   */
  answering(client: Client, id: RequestId | undefined, fn: () => void): void {
    const outer = client.request;
    client.request = id === undefined ? undefined : { id, answered: false };
    try {
      fn();
      const request = client.request;
      if (request && !request.answered && !client.held && !client.closing) {
        this.#ctx.out.send(client, { type: "ok", ts: Date.now() });
      }
    } finally {
      client.request = outer;
    }
  }

  /**
   * A line at a password prompt. A plain line is the password, never a message or a name,
   * and so is `/pass PASSWORD`. An empty line gives up a registered name's prompt (back to
   * the name prompt, or to chat). `/help`, `/proto` and `/quit` work, `/nick` picks another
   * name (not at the server's prompt); any other command is refused and goes nowhere.
   */
  atPasswordPrompt(client: Client, prompt: PasswordPrompt, line: string): void {
    const text = line.trim();
    if (text === "") {
      if (prompt.about === "name") this.#ctx.back(client);
      return;
    }
    if (!text.startsWith("/")) {
      this.#password(client, prompt, text);
      return;
    }
    const input = parseInput(text);
    if (input.kind === "error") {
      this.#ctx.out.error(client, input.usage ? "usage" : "unknown-command", input.message);
      return;
    }
    if (input.kind === "command") this.promptCommand(client, prompt, input.command);
  }

  /** A command (typed or requested) at a password prompt: only a few work there. */
  promptCommand(client: Client, prompt: PasswordPrompt, cmd: Command): void {
    const action = atPasswordPrompt(prompt, cmd);
    if (action.do === "password") this.#password(client, prompt, action.password);
    else if (action.do === "run") this.#ctx.command(client, cmd);
    else this.#ctx.out.error(client, "no-password", action.text);
  }

  /** A password given at a prompt: the server's, or a registered name's. */
  #password(client: Client, prompt: PasswordPrompt, given: string): void {
    if (prompt.about === "name") {
      this.#ctx.rename(client, prompt.name, given);
      return;
    }
    remember(client, given);
    const expected = this.#ctx.password!;
    this.guess(client, "server", "wrong password", () => sameSecret(given, expected), (right) => {
      if (!right) {
        this.askPassword(client);
        return;
      }
      this.#ctx.log(`password accepted from ${client.peer.address}`);
      this.#ctx.admitted(client);
    });
  }

  /**
   * One password guess for `secret` (`server`, `op`, `name:KEY`), through the throttle.
   * While the address or the secret is locked out the guess is refused unchecked. Otherwise
   * `check` runs; a wrong guess is counted against both as soon as it is checked (hanging up
   * undoes nothing), and once either has failures the answer, right or wrong, waits the
   * throttle's delay from the guess, input meanwhile held. Then `then(right)` runs, after a
   * wrong guess (or `check` returning undefined: busy, nothing checked) to ask again;
   * `authTries` wrong guesses close the connection instead.
   */
  guess(
    client: Client,
    secret: string,
    what: string,
    check: () => boolean | Promise<boolean> | undefined,
    then: (right: boolean) => void,
  ): void {
    const now = Date.now();
    const id = client.request?.id;
    const address = sourceKey(client.peer.address);
    const locked = this.#guesses.lockedUntil(address, secret, now);
    if (locked > 0) {
      client.authFailures++;
      this.#ctx.log(`locked out: ${what} from ${this.#ctx.who(client)} not checked`);
      if (this.#tooManyTries(client, "locked out")) return;
      this.#ctx.out.error(
        client,
        "locked-out",
        `too many wrong passwords; it was not checked: try again in ${inTime(locked - now)}`,
      );
      then(false);
      return;
    }
    const before = this.#guesses.failures(address, secret, now);
    const answer = (right: boolean) => {
      const checked = Date.now();
      // A right answer waits as long as a wrong one would: the count a failure would make.
      let failures = before + 1;
      if (!right) {
        failures = this.#guesses.fail(address, secret, checked);
        client.authFailures++;
        this.#ctx.log(
          `${what} from ${
            this.#ctx.who(client)
          } (${client.authFailures} here, ${failures} counted)`,
        );
      }
      if (client.closing) return;
      const reply = () =>
        this.answering(client, id, () => {
          client.timer = undefined;
          if (client.closing || (!right && this.#tooManyTries(client, what))) return;
          if (!right) this.#ctx.out.error(client, "wrong-password", `${what}; try again`);
          then(right);
          this.release(client);
        });
      const wait = right && before === 0 ? 0 : this.#guesses.delayMs(failures);
      const left = now + wait - checked;
      if (left <= 0) {
        reply();
        return;
      }
      client.held ??= [];
      client.timer = setTimeout(reply, left);
    };
    const checking = check();
    if (checking === undefined) {
      then(false);
    } else if (typeof checking === "boolean") {
      answer(checking);
    } else {
      client.held ??= [];
      checking.then(answer, (err) => {
        this.#ctx.logError(`error checking a password for ${this.#ctx.who(client)}`, err);
        if (client.closing) return;
        this.answering(client, id, () => {
          this.#ctx.out.error(client, "internal", "the server could not check that password");
          then(false);
          this.release(client);
        });
      });
    }
  }

  /** Closes the connection after `authTries` wrong passwords on it, saying `why`; true if so. */
  #tooManyTries(client: Client, why: string): boolean {
    if (client.authFailures < this.#ctx.limits.authTries) return false;
    this.#ctx.out.bye(client, `${why}: too many tries`);
    this.#ctx.disconnect(client, "too many wrong passwords");
    return true;
  }

  /**
   * Starts a password hash (scrypt: 16 MiB and tens of ms each) unless `maxHashes` run
   * already: then the client is told the server is busy and nothing starts. When the last
   * one running finishes, memory is reclaimed.
   */
  hash<T>(client: Client, work: () => Promise<T>): Promise<T> | undefined {
    const hashing = this.#hashes.start(work);
    if (!hashing) {
      const running = this.#hashes.running;
      this.#ctx.log(`busy: ${running} password hashes running, ${this.#ctx.who(client)} refused`);
      this.#ctx.out.error(client, "busy", "busy, try again in a moment");
    }
    return hashing;
  }

  /** Handles the lines held while a password was checked, in order. */
  release(client: Client): void {
    const held = client.held ?? [];
    client.held = undefined;
    while (held.length > 0 && !client.closing) {
      this.#ctx.handle(client, held.shift()!);
      // A held line may have started another check: the rest wait for it, in order.
      const again = client.held as string[] | undefined;
      if (again) {
        again.push(...held);
        return;
      }
    }
  }

  /**
   * Runs async work for a client (a password hash) while holding its input; `then` runs
   * after, unless the client left meanwhile.
   */
  async<T>(client: Client, work: Promise<T>, then: (value: T) => void): void {
    client.held ??= [];
    const id = client.request?.id;
    work.then((value) => {
      if (client.closing) return;
      this.answering(client, id, () => {
        try {
          then(value);
        } catch (err) {
          this.#ctx.failed(client, err, "that");
        }
        this.release(client);
      });
    }, (err) => {
      this.answering(client, id, () => {
        this.#ctx.failed(client, err, "that");
        this.release(client);
      });
    });
  }

  /** Asks for a name. */
  askName(client: Client): void {
    this.#ctx.out.send(client, {
      type: "prompt",
      ts: Date.now(),
      for: "name",
      text: "choose a name:",
    });
  }

  /** Asks for the password the client's prompt is for (nothing when it is not one). */
  askPassword(client: Client): void {
    const prompt = client.prompt;
    if (prompt.for === "password") {
      this.#ctx.out.send(client, passwordPromptEvent(prompt, Date.now()));
    }
  }
}

/** A wait in whole seconds under two minutes, else in whole minutes. */
function inTime(ms: number): string {
  return ms < 120_000 ? `${Math.ceil(ms / 1000)} s` : `${Math.ceil(ms / 60_000)} min`;
}
