// Test helpers: start the real server on port 0 and talk to it over real TCP as a line
// client that waits on expected lines (never a fixed sleep). Used by every e2e test.

import { LineFramer } from "../lib/framing.ts";
import { ChatServer, type ChatServerOptions } from "../lib/server.ts";
import type { ServerEvent } from "../lib/events.ts";

/** Starts the real server on 127.0.0.1 and a free port. Dispose it with `await using`. */
export function startServer(options: ChatServerOptions = {}): ChatServer {
  return ChatServer.listen({ hostname: "127.0.0.1", port: 0, ...options });
}

/** What `expect` looks for: a substring, a pattern or a predicate over one line. */
export type LineMatch = string | RegExp | ((line: string) => boolean);

function matches(m: LineMatch, line: string): boolean {
  if (typeof m === "string") return line.includes(m);
  if (m instanceof RegExp) return m.test(line);
  return m(line);
}

const encoder = new TextEncoder();

/** A raw TCP client that reads lines in the background and waits for expected ones. */
export class LineClient implements AsyncDisposable {
  readonly #conn: Deno.TcpConn;
  /** Lines received and not yet consumed by expect(). */
  readonly #lines: string[] = [];
  /** Every line received, for error messages. */
  readonly received: string[] = [];
  #wake: (() => void) | undefined;
  #ended = false;
  readonly #reader: Promise<void>;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    this.#reader = this.#read();
  }

  /** Connects to `port` on loopback. */
  static async connect(port: number, hostname = "127.0.0.1"): Promise<LineClient> {
    return new LineClient(await Deno.connect({ hostname, port }));
  }

  /** Whether the server has closed the connection (all lines are read by then). */
  get ended(): boolean {
    return this.#ended;
  }

  async #read(): Promise<void> {
    const framer = new LineFramer(1 << 20, {
      line: (l) => {
        this.#lines.push(l);
        this.received.push(l);
      },
      overlong: () => {
        throw new Error("test client: line over 1 MiB");
      },
    });
    const buf = new Uint8Array(16384);
    try {
      for (;;) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        framer.push(buf.subarray(0, n));
        this.#wake?.();
      }
    } catch {
      // Reset or closed by us: the stream is over either way.
    }
    this.#ended = true;
    this.#wake?.();
  }

  /** Sends one line with CRLF (or the given ending). */
  async send(line: string, ending = "\r\n"): Promise<void> {
    await this.sendRaw(encoder.encode(line + ending));
  }

  /** Sends bytes as they are. */
  async sendRaw(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) offset += await this.#conn.write(bytes.subarray(offset));
  }

  /**
   * Waits for a line matching `m`, consuming it and every line before it; returns the
   * matching line. Fails with the lines seen if it does not come within `timeoutMs`.
   */
  async expect(m: LineMatch, timeoutMs = 3000): Promise<string> {
    const skipped = await this.collectUntil(m, timeoutMs);
    return skipped.pop()!;
  }

  /**
   * Consumes lines up to and including the first one matching `m`; returns them all,
   * the match last. Use it to check what did (not) arrive before a marker line.
   */
  async collectUntil(m: LineMatch, timeoutMs = 3000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    const seen: string[] = [];
    for (;;) {
      while (this.#lines.length > 0) {
        const line = this.#lines.shift()!;
        seen.push(line);
        if (matches(m, line)) return seen;
      }
      const left = deadline - Date.now();
      if (this.#ended || left <= 0) {
        throw new Error(
          `expected a line matching ${String(m)}${
            this.#ended ? " before the connection closed" : ` within ${timeoutMs} ms`
          }; got:\n  ${seen.join("\n  ")}`,
        );
      }
      await this.#waitForData(left);
    }
  }

  /** Waits for a JSON event satisfying `pred` (lines that are not JSON are skipped). */
  async expectEvent(
    pred: (e: ServerEvent) => boolean,
    timeoutMs = 3000,
  ): Promise<ServerEvent> {
    const line = await this.expect((l) => {
      if (!l.startsWith("{")) return false;
      return pred(JSON.parse(l));
    }, timeoutMs);
    return JSON.parse(line);
  }

  /** Waits until the server closes the connection; returns the lines not yet consumed. */
  async expectClosed(timeoutMs = 3000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected the server to close within ${timeoutMs} ms`);
      await this.#waitForData(left);
    }
    return this.#lines.splice(0);
  }

  #waitForData(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
    });
  }

  /** Closes the connection and waits for the reader to finish. */
  async close(): Promise<void> {
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
    await this.#reader;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Connects and takes `name`, waiting until the server confirms it. */
export async function joinAs(port: number, name: string): Promise<LineClient> {
  const c = await LineClient.connect(port);
  await c.expect("choose a name:");
  await c.send(name);
  await c.expect(`welcome, ${name}!`);
  return c;
}
