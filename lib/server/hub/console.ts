// The server's console (seed 003): a line typed there runs as an operator's and is answered in
// the log; `/quit` or `exit` stops the server and any other plain line goes to everyone.
// Reading the console is server.ts's; the operator commands themselves are operators.ts's.

import { parseInput } from "../../protocol/commands.ts";
import { sanitize } from "../../protocol/sanitize.ts";
import { isStoreError, storeErrorText } from "../store.ts";
import type { Delivery } from "./delivery.ts";
import type { Directory } from "./directory.ts";
import { describe } from "./failures.ts";
import type { Actor, Operators } from "./operators.ts";

/** What the console works with; the hub gives its own parts. */
export interface ConsoleContext {
  names: Directory;
  /** Names online, in the order they connected. */
  online(): string[];
  ops: Pick<Operators, "command" | "purge" | "setMotd" | "motd">;
  out: Delivery;
  log(line: string): void;
}

/** The console's line help, in the log. */
const HELP = "/users, /kick NAME [REASON], /ban NAME|IP|CIDR [DURATION] [REASON], " +
  "/unban, /banned, /mute NAME|IP|CIDR [DURATION] [REASON], /unmute, " +
  "/purge #ROOM [history|topic], /motd [TEXT], /quit or exit; other lines go to everyone";

/** The server's console, always an operator, answered in the log. */
export class ServerConsole {
  readonly #ctx: ConsoleContext;

  /** Works on `ctx`. */
  constructor(ctx: ConsoleContext) {
    this.#ctx = ctx;
  }

  /**
   * Handles a line typed at the console: `/users`, `/kick`, `/ban` and the other operator
   * commands, `/motd TEXT`, `/help`; `/quit` or `exit` returns `"stop"`; anything else goes
   * to everyone. A failure is logged. Never throws.
   */
  line(line: string): "stop" | undefined {
    try {
      return this.#line(line);
    } catch (err) {
      const why = isStoreError(err) ? storeErrorText(err) : describe(err);
      this.#ctx.log(`console: that failed: ${why}`);
      return undefined;
    }
  }

  #line(line: string): "stop" | undefined {
    const { ops } = this.#ctx;
    /** The console's answer: a log line. */
    const reply = (text: string) => this.#ctx.log(`console: ${text}`);
    const input = parseInput(sanitize(line));
    switch (input.kind) {
      case "empty":
        return;
      case "error":
        reply(input.message);
        return;
      case "text":
        this.#announce(input.text);
        return;
    }
    const cmd = input.command;
    const server: Actor = { name: "the server" };
    switch (cmd.name) {
      case "disconnect":
        return "stop";
      case "users":
        reply(`${this.#ctx.names.size} online: ${this.#ctx.online().join(", ")}`);
        return;
      case "sendall":
        if (cmd.text) this.#announce(cmd.text);
        return;
      case "motd":
        if (cmd.text) ops.setMotd(server, cmd.text);
        else reply(`motd: ${(ops.motd ?? ["(none)"]).join(" / ")}`);
        return;
      case "help":
        reply(HELP);
        return;
      case "purge":
        ops.purge(server, cmd);
        return;
      case "kick":
      case "ban":
      case "unban":
      case "banned":
      case "mute":
      case "unmute":
        ops.command(server, cmd);
        return;
      default:
        reply(`/${cmd.name} is not available on the console`);
    }
  }

  /** A line from the server to everyone named. */
  #announce(text: string): void {
    this.#ctx.log(`announce: ${text}`);
    this.#ctx.out.broadcast({ type: "announce", ts: Date.now(), from: "server", text });
  }
}
