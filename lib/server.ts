// ChatServer: the embeddable server. It listens, gives each connection a Session wired
// to the Hub, and shuts down gracefully. Command-line parsing and the console's stdin
// live in server.ts; the chat itself lives in hub.ts.

import { type ChatHooks, describe, Hub } from "./hub.ts";
import { DEFAULT_LIMITS, type Limits } from "./limits.ts";
import { Session } from "./session.ts";
import { VERSION } from "./version.ts";

/** How to start a {@link ChatServer}. */
export interface ChatServerOptions {
  /** Address to listen on; default `0.0.0.0`. */
  hostname?: string;
  /** Port to listen on; 0 (the default here) picks a free one. */
  port?: number;
  /** Limits to override; the rest keep their defaults. */
  limits?: Partial<Limits>;
  /** Give each newcomer a free `guest-N` name at once (seed 001). */
  autoName?: boolean;
  hooks?: ChatHooks;
  /** Receives each server log line (no timestamp); silent when absent. */
  log?: (line: string) => void;
}

/**
 * A running chat server.
 *
 * @example
 * ```ts
 * await using server = ChatServer.listen({ port: 0, hooks: { join: ({ name }) => console.log(name) } });
 * console.log(server.addr.port);
 * ```
 */
export class ChatServer implements AsyncDisposable {
  /** Where the server listens (the real port when 0 was asked for). */
  readonly addr: Deno.NetAddr;
  /** The limits in force. */
  readonly limits: Readonly<Limits>;
  readonly #listener: Deno.Listener;
  readonly #hub: Hub;
  readonly #log: (line: string) => void;
  readonly #sessions = new Set<Promise<void>>();
  readonly #accepting: Promise<void>;
  #stopping: Promise<void> | undefined;

  private constructor(listener: Deno.Listener, options: ChatServerOptions) {
    this.#listener = listener;
    this.addr = listener.addr as Deno.NetAddr;
    this.limits = Object.freeze({ ...DEFAULT_LIMITS, ...options.limits });
    this.#log = options.log ?? (() => {});
    this.#hub = new Hub({
      limits: this.limits,
      autoName: options.autoName,
      hooks: options.hooks,
      log: this.#log,
      version: VERSION,
    });
    this.#accepting = this.#acceptLoop();
  }

  /** Starts listening; throws Deno's error (AddrInUse, PermissionDenied, ...) if it cannot. */
  static listen(options: ChatServerOptions = {}): ChatServer {
    const listener = Deno.listen({
      hostname: options.hostname ?? "0.0.0.0",
      port: options.port ?? 0,
      transport: "tcp",
    });
    return new ChatServer(listener, options);
  }

  /** Names online, in join order. */
  get names(): string[] {
    return this.#hub.names;
  }

  /** Open connections, named or not. */
  get connectionCount(): number {
    return this.#hub.connectionCount;
  }

  /** Handles a line typed at the operator console; `"stop"` means the operator asked to stop. */
  console(line: string): "stop" | undefined {
    return this.#hub.console(line);
  }

  /** Disconnects a user with a reason; false when nobody has that name. */
  kick(name: string, reason?: string): boolean {
    return this.#hub.kick(name, reason);
  }

  /**
   * Tells every client, flushes their queued output (bounded by `shutdownFlushMs`),
   * closes the listener and every connection. Safe to call more than once.
   */
  shutdown(reason = "server shutting down"): Promise<void> {
    return this.#stopping ??= this.#shutdown(reason);
  }

  async #shutdown(reason: string): Promise<void> {
    this.#log(`shutdown: ${reason}`);
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    await this.#accepting;
    this.#hub.shutdown(reason);
    await Promise.all(this.#sessions);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (err) {
        if (this.#stopping || err instanceof Deno.errors.BadResource) return;
        // Out of file descriptors and the like: log, back off briefly, keep serving.
        this.#log(`accept failed: ${describe(err)}`);
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (this.#stopping) {
        conn.close();
        continue;
      }
      this.#serve(conn);
    }
  }

  #serve(conn: Deno.Conn): void {
    const session = new Session(conn, {
      maxLineBytes: this.limits.maxLineBytes,
      maxOutboxBytes: this.limits.maxOutboxBytes,
      flushMs: this.limits.shutdownFlushMs,
    });
    const client = this.#hub.connect(session);
    const done = session.run({
      line: (text) => this.#hub.input(client, text),
      overlong: () => this.#hub.overlong(client),
    }).then(() => this.#hub.disconnect(client, session.reason));
    this.#sessions.add(done);
    done.finally(() => this.#sessions.delete(done));
  }
}
