// Input: one line or JSON request from a client to a command, a message, a name or a password,
// after flood control, the prompt the client is at, a two-step command's target and the
// looks-like-a-password check; a command then passes the operator and name-first checks.
// What each command does is handlers.ts's; password prompts and request ids are prompts.ts's.

import type { Client } from "./client.ts";
import {
  type Command,
  type CommandName,
  isOperatorCommand,
  parseInput,
  parseRequest,
  worksBeforeName,
} from "../../protocol/commands.ts";
import type { Limits } from "../limits.ts";
import { sanitize } from "../../protocol/sanitize.ts";
import type { Delivery } from "./delivery.ts";
import type { Directory } from "./directory.ts";
import type { Flood } from "./flood.ts";
import type { Handler, Handlers } from "./handlers.ts";
import type { Messages } from "./messages.ts";
import type { Naming } from "./naming.ts";
import { hold, looksLikeSecret, type PromptMachine } from "./prompts.ts";
import type { Room, Rooms } from "./rooms.ts";

/** What input dispatch works with; the hub gives its own parts. */
export interface InputContext {
  limits: Pick<Limits, "maxLineBytes">;
  names: Directory;
  rooms: Rooms;
  out: Delivery;
  flood: Pick<Flood, "admit">;
  prompts: Pick<PromptMachine, "answering" | "atPasswordPrompt" | "promptCommand" | "askName">;
  messages: Pick<Messages, "deliver">;
  naming: Pick<Naming, "rename">;
  /** One handler per command. */
  handlers: Handlers;
  log(line: string): void;
  /** How the log names a client. */
  who(client: Client): string;
  /** The command hook: a command as typed, any password in it `(hidden)`. */
  commanded(info: { name: string | undefined; address: string; command: Command }): void;
  /** Tells a client `what` failed and logs why. */
  failed(client: Client, err: unknown, what: string): void;
}

/** Turns each line a client sends into what it stands for, and runs it. */
export class Input {
  readonly #ctx: InputContext;

  /** Works on `ctx`. */
  constructor(ctx: InputContext) {
    this.#ctx = ctx;
  }

  /** Handles one input line from a client, past flood control. Never throws. */
  line(client: Client, line: string, now: number): void {
    if (client.closing || !this.#ctx.flood.admit(client, now)) return;
    this.handle(client, line);
  }

  /** Tells a client its line was longer than the limit and was discarded. */
  overlong(client: Client, now: number): void {
    if (client.closing || !this.#ctx.flood.admit(client, now)) return;
    this.#ctx.out.error(
      client,
      "line-too-long",
      `line too long (limit ${this.#ctx.limits.maxLineBytes} bytes); it was discarded`,
    );
  }

  /**
   * Handles an admitted line (or one held and now released), or holds it while a password is
   * being checked. A failure is told to the client alone. Never throws.
   */
  handle(client: Client, line: string): void {
    if (hold(client, line)) return;
    try {
      this.#dispatch(client, sanitize(line));
    } catch (err) {
      this.#ctx.failed(client, err, "that line");
    }
  }

  /**
   * Runs a command after the operator and name-first checks, logged and told to the command
   * hook; `room` is the room a JSON `say` or `me` named.
   */
  command(client: Client, cmd: Command, room?: Room): void {
    const { out } = this.#ctx;
    this.#ctx.log(`command ${this.#ctx.who(client)}: /${cmd.name}`);
    const shown = "password" in cmd && cmd.password !== undefined
      ? { ...cmd, password: "(hidden)" } as Command
      : cmd;
    this.#ctx.commanded({ name: client.name, address: client.peer.address, command: shown });
    if (isOperatorCommand(cmd.name) && !client.operator) {
      out.error(client, "not-allowed", `not allowed: /${cmd.name} is for operators`);
      return;
    }
    if (client.name === undefined && !worksBeforeName(cmd.name)) {
      out.error(client, "no-name", "choose a name first (type a name, or /nick NAME)");
      this.#ctx.prompts.askName(client);
      return;
    }
    (this.#ctx.handlers[cmd.name] as Handler<CommandName>)(client, cmd, room);
  }

  /** A JSON request (in JSON mode, a line starting with `{`) or a plain line. */
  #dispatch(client: Client, line: string): void {
    if (client.mode === "json" && line.trimStart().startsWith("{")) {
      this.#request(client, line);
      return;
    }
    this.#ctx.prompts.answering(client, undefined, () => this.#plain(client, line));
  }

  /**
   * A JSON request: a command whose text is never parsed, with the same checks as the line
   * it stands for (prompts, mutes, operators, flood); every reply carries its id.
   */
  #request(client: Client, line: string): void {
    const { out, prompts } = this.#ctx;
    const request = parseRequest(line, sanitize);
    prompts.answering(client, request.id, () => {
      if (request.kind === "error") {
        out.error(client, request.code, request.message);
        return;
      }
      client.pending = undefined;
      const cmd = request.command;
      const prompt = client.prompt;
      if (prompt.for === "password") {
        prompts.promptCommand(client, prompt, cmd);
      } else if (cmd.name === "sendall" && looksLikeSecret(client, cmd.text!)) {
        out.error(client, "looks-like-password", "that looks like a password; it was not sent");
      } else if (request.room === undefined || client.name === undefined) {
        this.command(client, cmd);
      } else {
        // `say` or `me` in a room the client is in, without switching to it.
        const room = this.#ctx.rooms.of(client, request.room);
        if (room) this.command(client, cmd, room);
        else out.error(client, "not-in-room", `you are not in ${request.room}; join it first`);
      }
    });
  }

  /**
   * A plain line (not a JSON request): at a password prompt the password; else a command, the
   * message a two-step command waits for, a name (before one) or a message to the room.
   */
  #plain(client: Client, line: string): void {
    const { out } = this.#ctx;
    if (client.prompt.for === "password") {
      this.#ctx.prompts.atPasswordPrompt(client, client.prompt, line);
      return;
    }
    // Before a name, a plain line is the name: no `USER:TEXT` form yet.
    const named = client.name !== undefined;
    const input = parseInput(line, {
      isUser: named ? (n) => this.#ctx.names.has(n) : undefined,
    });
    if (input.kind === "text" && looksLikeSecret(client, input.text)) {
      // A password typed again after it was taken (or typed here before): never sent.
      client.pending = undefined;
      out.error(client, "looks-like-password", "that looks like a password; it was not sent");
      if (client.name === undefined) this.#ctx.prompts.askName(client);
      return;
    }
    if (client.pending && (input.kind === "text" || input.kind === "empty")) {
      const pending = client.pending;
      client.pending = undefined;
      if (input.kind === "empty") out.system(client, "nothing sent");
      else this.#ctx.messages.deliver(client, pending, input.text);
      return;
    }
    client.pending = undefined;
    switch (input.kind) {
      case "empty":
        return;
      case "error":
        out.error(client, input.code ?? (input.usage ? "usage" : "unknown-command"), input.message);
        return;
      case "text":
        if (client.name === undefined) this.#ctx.naming.rename(client, input.text);
        else this.#ctx.messages.deliver(client, { kind: "public" }, input.text);
        return;
      case "command":
        this.command(client, input.command);
    }
  }
}
