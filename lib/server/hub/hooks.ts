// The hooks code embedding the server gives (seed 000): what they are told, and calling them
// synchronously, an exception in one logged and ignored so it cannot break the chat. When
// each is called is the other parts' business.

import type { Command } from "../../protocol/commands.ts";
import { describe } from "./failures.ts";

/** The kinds of chat message, as hooks see them (`action` is `/me`). */
export type MessageKind = "public" | "action" | "private" | "group";

/** A chat message on its way, as the `message` hook sees it. */
export interface MessageInfo {
  from: string;
  kind: MessageKind;
  /** Recipients by name; empty for a public message or action (the room). */
  to: string[];
  text: string;
}

/**
 * Callbacks for code that embeds the server (seed 000). They run synchronously; an
 * exception in a hook is logged and ignored.
 */
export interface ChatHooks {
  connect?(info: { address: string }): void;
  join?(info: { name: string; address: string }): void;
  /** Return a string to rewrite the text, `false` to drop the message. */
  message?(info: MessageInfo): string | false | void;
  /** A command as typed; any password in it reads `(hidden)`. */
  command?(info: { name: string | undefined; address: string; command: Command }): void;
  rename?(info: { from: string; to: string }): void;
  leave?(info: { name: string; reason?: string }): void;
  disconnect?(info: { address: string; name?: string; reason?: string }): void;
}

/** What calling the hooks works with; the hub gives its own. */
export interface HooksContext {
  /** The embedder's hooks, if any. */
  hooks: ChatHooks | undefined;
  log(line: string): void;
}

/** Calls the embedder's hooks. */
export class Hooks {
  readonly #ctx: HooksContext;

  /** Works on `ctx`. */
  constructor(ctx: HooksContext) {
    this.#ctx = ctx;
  }

  /**
   * Calls the hook `name` with `info` and returns what it returned; undefined when there is
   * no such hook or it threw (then the log says so).
   */
  call<K extends keyof ChatHooks>(
    name: K,
    info: Parameters<NonNullable<ChatHooks[K]>>[0],
  ): ReturnType<NonNullable<ChatHooks[K]>> | undefined {
    const fn = this.#ctx.hooks?.[name] as
      | ((i: typeof info) => ReturnType<NonNullable<ChatHooks[K]>>)
      | undefined;
    if (!fn) return undefined;
    try {
      return fn(info);
    } catch (err) {
      this.#ctx.log(`error in ${name} hook: ${describe(err)}`);
      return undefined;
    }
  }
}
