// Test helpers: start the real server on port 0 and talk to it over real TCP as a line
// client that waits on expected lines (never a fixed sleep). Used by every e2e test.

import { LineFramer } from "../lib/protocol/framing.ts";
import { ChatServer, type ChatServerOptions } from "../lib/server/server.ts";
import type { ServerEvent } from "../lib/protocol/events.ts";

/** Starts the real server on 127.0.0.1 and a free port. Dispose it with `await using`. */
export function startServer(options: ChatServerOptions = {}): ChatServer {
  return ChatServer.listen({ hostname: "127.0.0.1", port: 0, ...options });
}

/**
 * Anything a terminal acts on: C0 controls but tab, DEL, C1, ESC, bidi controls and line
 * separators. Written out here, apart from lib/protocol/sanitize.ts, as the tests' own oracle.
 */
// deno-lint-ignore no-control-regex
export const UNSAFE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

/** What `expect` looks for: a substring, a pattern or a predicate over one line. */
export type LineMatch = string | RegExp | ((line: string) => boolean);

function matches(m: LineMatch, line: string): boolean {
  if (typeof m === "string") return line.includes(m);
  if (m instanceof RegExp) return m.test(line);
  return m(line);
}

const encoder = new TextEncoder();

/** Lines arriving from somewhere (a socket, a process), consumed by waiting for matches. */
export class LineQueue {
  /** Lines received and not yet consumed. */
  readonly #lines: string[] = [];
  /** Every line received, for assertions and error messages. */
  readonly received: string[] = [];
  #wake: (() => void) | undefined;
  #ended = false;

  /** Whether the source has ended (every line is in by then). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Adds a received line. */
  push(line: string): void {
    this.#lines.push(line);
    this.received.push(line);
    this.#wake?.();
  }

  /** Marks the source as ended. */
  end(): void {
    this.#ended = true;
    this.#wake?.();
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
        const why = this.#ended ? "before the end" : `within ${timeoutMs} ms`;
        throw new Error(
          `expected a line matching ${String(m)} ${why}; got:\n  ${seen.join("\n  ")}`,
        );
      }
      await this.#waitForData(left);
    }
  }

  /** Waits for a JSON event satisfying `pred` (lines that are not JSON are skipped). */
  async expectEvent(pred: (e: ServerEvent) => boolean, timeoutMs = 3000): Promise<ServerEvent> {
    const line = await this.expect((l) => l.startsWith("{") && pred(JSON.parse(l)), timeoutMs);
    return JSON.parse(line);
  }

  /** Waits until the source ends; returns the lines not yet consumed. */
  async expectEnd(timeoutMs = 3000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected the end within ${timeoutMs} ms`);
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
}

/** The chunks a connection reads until it ends. */
async function* reads(conn: Deno.Conn): AsyncGenerator<Uint8Array> {
  const buf = new Uint8Array(16384);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) return;
    yield buf.subarray(0, n);
  }
}

/** Feeds `chunks` into `queue` line by line (any line ending), then ends the queue. */
export async function pump(chunks: AsyncIterable<Uint8Array>, queue: LineQueue): Promise<void> {
  const framer = new LineFramer(1 << 20, {
    line: (l) => queue.push(l),
    overlong: () => queue.push("<test reader: line over 1 MiB>"),
  });
  try {
    for await (const chunk of chunks) framer.push(chunk);
  } catch {
    // Reset or closed by us: the stream is over either way.
  }
  queue.end();
}

/** A raw TCP client that reads lines in the background and waits for expected ones. */
export class LineClient extends LineQueue implements AsyncDisposable {
  readonly #conn: Deno.Conn;
  readonly #reader: Promise<void>;

  private constructor(conn: Deno.Conn) {
    super();
    this.#conn = conn;
    this.#reader = pump(reads(conn), this);
  }

  /** Connects to `port` on loopback. */
  static async connect(port: number, hostname = "127.0.0.1"): Promise<LineClient> {
    return new LineClient(await Deno.connect({ hostname, port }));
  }

  /** Talks over a connection opened elsewhere (a TLS one, say). */
  static over(conn: Deno.Conn): LineClient {
    return new LineClient(conn);
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

  /** Waits until the server closes the connection; returns the lines not yet consumed. */
  expectClosed(timeoutMs = 3000): Promise<string[]> {
    return this.expectEnd(timeoutMs);
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

/** A script of this repository run by Deno with `permissions`, all pipes open, no colour. */
export function denoProcess(
  script: string,
  permissions: string[],
  args: string[],
  env: Record<string, string>,
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, new URL(`../${script}`, import.meta.url).pathname, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).spawn();
}

/** client.ts as a subprocess, the way the tests run it: the permissions it uses, no colour. */
export function clientProcess(args: string[], env: Record<string, string> = {}): Deno.ChildProcess {
  return denoProcess("client.ts", ["--allow-net", "--allow-read", "--allow-env"], args, env);
}

/** client.ts as a subprocess on pipes, its stdout as lines. */
export class PipedClient extends LineQueue implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #stdout: Promise<void>;
  readonly #stderr: Promise<string>;

  constructor(args: string[]) {
    super();
    this.#child = clientProcess(args);
    this.#stdin = this.#child.stdin.getWriter();
    this.#stdout = pump(this.#child.stdout, this);
    this.#stderr = new Response(this.#child.stderr).text();
  }

  /** Writes text to the client's stdin. */
  async write(text: string): Promise<void> {
    await this.#stdin.write(encoder.encode(text));
  }

  /** Writes one line (and a newline) to the client's stdin. */
  async send(line: string): Promise<void> {
    await this.write(line + "\n");
  }

  /** How many lines so far contain `text`. */
  count(text: string): number {
    return this.received.filter((l) => l.includes(text)).length;
  }

  /** Ends the client's stdin. */
  async closeStdin(): Promise<void> {
    try {
      await this.#stdin.close();
    } catch {
      // Already closed, or the client has exited.
    }
  }

  /** Waits for the client to exit. */
  async exit(): Promise<{ code: number; stdout: string; stderr: string }> {
    const { code } = await this.#child.status;
    await this.#stdout;
    return { code, stdout: this.received.join("\n"), stderr: await this.#stderr };
  }

  /** Sends the client a signal. */
  kill(signal: Deno.Signal): void {
    this.#child.kill(signal);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.closeStdin();
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await this.exit();
  }
}

/** `server.ts` running as a subprocess, its stdout as lines. */
export class ServerProcess extends LineQueue implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #stdout: Promise<void>;
  readonly stderr: Promise<string>;

  constructor(args: string[], env: Record<string, string> = {}) {
    super();
    this.child = denoProcess(
      "server.ts",
      [
        "--allow-net",
        "--allow-read",
        "--allow-write",
        "--allow-env=LINECHAT_PASSWORD,LINECHAT_OP_PASSWORD,LINECHAT_REDIS_PASSWORD,REDIS_DEBUG_MAINTENANCE,REDIS_EMIT_DIAGNOSTICS",
      ],
      args,
      env,
    );
    this.#stdin = this.child.stdin.getWriter();
    this.#stdout = pump(this.child.stdout, this);
    this.stderr = new Response(this.child.stderr).text();
  }

  /** server.ts on 127.0.0.1 and a free port, with `args` after. */
  static onLoopback(...args: string[]): ServerProcess {
    return new ServerProcess(["--host", "127.0.0.1", "--port", "0", ...args]);
  }

  /**
   * Waits for the `listening on HOST:PORT` line (or, with `door`, `irc on ...`, `web on ...`)
   * and returns the port.
   */
  async port(door: "listening" | "irc" | "ircs" | "tls" | "web" = "listening"): Promise<number> {
    return portOf(await this.expect(new RegExp(`^${door} on `), 10_000));
  }

  /** Types a line at the server's console. */
  async type(line: string): Promise<void> {
    await this.#stdin.write(encoder.encode(line + "\n"));
  }

  /** Closes the console's stdin. */
  async closeStdin(): Promise<void> {
    await this.#stdin.close();
  }

  /** Waits for the process to exit; returns its status and stderr. */
  async exit(): Promise<{ code: number; stderr: string }> {
    const status = await this.child.status;
    await this.#stdout;
    return { code: status.code, stderr: await this.stderr };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    try {
      await this.#stdin.close();
    } catch {
      // Already closed.
    }
    await this.exit();
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

/** Resident memory of a process, in MiB, from /proc (read by `cat`: Deno guards /proc). */
export async function rssMiB(pid: number): Promise<number> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/status`], stdout: "piped" })
    .output();
  const status = new TextDecoder().decode(out.stdout);
  const kib = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)![1]);
  return kib / 1024;
}

/**
 * Polls a process's RSS until it is at most `limit` MiB or `timeoutMs` passes (memory is
 * no event to wait on); returns the last reading.
 */
export async function rssFallsTo(pid: number, limit: number, timeoutMs: number): Promise<number> {
  let now = await rssMiB(pid);
  const deadline = Date.now() + timeoutMs;
  while (now > limit && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    now = await rssMiB(pid);
  }
  return now;
}

/** The port at the end of a `... on HOST:PORT` line the server printed. */
export function portOf(line: string): number {
  return Number(line.slice(line.lastIndexOf(":") + 1));
}

/** Whether a program is on PATH (for tests of real clients that may not be installed). */
export function installed(program: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${program}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/**
 * Waits until `file` holds a line matching `pattern` and returns it: for programs that write
 * what they receive to files (ii, WeeChat's logs). Fails with the file's text after `timeoutMs`.
 */
export async function lineInFile(
  file: string,
  pattern: RegExp,
  timeoutMs = 10_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let text = "";
    try {
      text = await Deno.readTextFile(file);
    } catch {
      // Not made yet.
    }
    const line = text.split("\n").find((l) => pattern.test(l));
    if (line !== undefined) return line;
    if (Date.now() > deadline) throw new Error(`no line matching ${pattern} in ${file}:\n${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
