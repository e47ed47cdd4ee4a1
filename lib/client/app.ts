// The chat client's edges: the TCP connection (read, framed, written in order, opened
// again after a wait when ChatCore says reconnect), the user's side (the terminal screen,
// or plain lines on a pipe) and the exit. Decisions are left to ChatCore, looks to
// render.ts, the line editor to protocol/terminal/.

import { readStdin, writeStdoutSync } from "../protocol/cli.ts";
import { ChatCore, type ClientAction } from "./core.ts";
import {
  MAX_EVENT_LINE_BYTES,
  MAX_INPUT_LINE_BYTES,
  MAX_WAITING_INPUT_LINES,
  QUIT_TIMEOUT_MS,
} from "./limits.ts";
import { Pacer } from "./pace.ts";
import { renderEvent } from "./render.ts";
import { LineFramer } from "../protocol/framing.ts";
import { type Line, plainText } from "../protocol/ansi.ts";
import { Tty, type TtyHandlers } from "./terminal/tty.ts";

/** How to run the client once connected. */
export interface ClientAppOptions {
  /** The name to take at once. */
  name?: string;
  /** The server's password, sent when it asks. */
  password?: string;
  /** Draw the terminal screen (stdin and stdout are TTYs); otherwise plain lines. */
  terminal: boolean;
  /** Colours on the terminal screen. */
  color: boolean;
  /**
   * Opens a new connection to the same server, to reconnect after one is lost; without it,
   * a lost connection ends the client with exit code 1.
   */
  reconnect?: () => Promise<Deno.Conn>;
}

/** The user's side: a terminal screen or plain lines. */
interface Frontend {
  show(lines: readonly Line[]): void;
  askName(text: string): void;
  askPassword(text: string): void;
  /** Chatting in `room` (none: in no room): the prompt says where. */
  chatPrompt(room: string | undefined): void;
  read(handlers: TtyHandlers): Promise<void>;
  restore(): void;
}

const encoder = new TextEncoder();

/**
 * Plain line mode: no escape sequences, one line per event, input read line by line; reading
 * waits while `sent()` (lines still to be sent) says there is plenty.
 */
class PlainFrontend implements Frontend {
  readonly #sent: () => Promise<void>;

  constructor(sent: () => Promise<void>) {
    this.#sent = sent;
  }

  show(lines: readonly Line[]): void {
    try {
      writeStdoutSync(lines.map((l) => plainText(l) + "\n").join(""));
    } catch {
      // stdout closed (a pipe reader left): nothing to show to.
    }
  }

  askName(text: string): void {
    this.show(
      renderEvent({ type: "prompt", ts: Date.now(), for: "name", text }, { me: undefined }),
    );
  }

  askPassword(text: string): void {
    this.askName(text);
  }

  chatPrompt(): void {}

  async read(handlers: TtyHandlers): Promise<void> {
    const framer = new LineFramer(MAX_INPUT_LINE_BYTES, {
      line: (text) => handlers.line(text),
      overlong: () =>
        this.show([[{ text: `! input line over ${MAX_INPUT_LINE_BYTES} bytes; discarded` }]]),
    });
    const buf = new Uint8Array(16384);
    for (;;) {
      const n = await readStdin(buf);
      if (n === null) break;
      framer.push(buf.subarray(0, n));
      await this.#sent();
    }
    // A last line without a newline still counts.
    if (framer.buffered > 0) framer.push(encoder.encode("\n"));
    handlers.end();
  }

  restore(): void {}
}

/** The terminal screen: input line at the bottom, events printed above it. */
class TerminalFrontend implements Frontend {
  readonly #tty: Tty;

  constructor(color: boolean, names: () => Iterable<string>) {
    this.#tty = Tty.open({ color, names });
  }

  show(lines: readonly Line[]): void {
    this.#tty.print(lines);
  }

  askName(text: string): void {
    this.#tty.setPrompt(`${text} `);
  }

  askPassword(text: string): void {
    this.#tty.setPrompt(`${text} `, true);
  }

  chatPrompt(room: string | undefined): void {
    this.#tty.setPrompt(`${room ?? ""}> `);
  }

  read(handlers: TtyHandlers): Promise<void> {
    return this.#tty.read(handlers);
  }

  restore(): void {
    this.#tty.restore();
  }
}

/** Why the socket stopped giving lines. */
function lostReason(err: unknown): string {
  if (err === undefined) return "connection closed by the server";
  const message = err instanceof Error ? err.message.replace(/\s*\(os error \d+\)$/, "") : "";
  return `connection lost${message ? ` (${message.toLowerCase()})` : ""}`;
}

/**
 * Runs the chat over an open connection (and the ones `options.reconnect` opens after it)
 * until it ends; resolves with the exit code. The terminal (if used) is restored and the
 * connection closed by then; an error line, if any, has been printed on stderr.
 */
export function runClient(first: Deno.Conn, options: ClientAppOptions): Promise<number> {
  const core = new ChatCore({
    name: options.name,
    password: options.password,
    piped: !options.terminal,
    reconnect: options.reconnect !== undefined,
  });
  const frontend: Frontend = options.terminal
    ? new TerminalFrontend(options.color, () => core.names)
    : new PlainFrontend(() =>
      pacer.waiting > MAX_WAITING_INPUT_LINES ? pacer.idle() : Promise.resolve()
    );
  /** The open connection; none while waiting to reconnect. */
  let conn: Deno.Conn | undefined = first;
  let writing: Promise<unknown> = Promise.resolve();
  let quitTimer: ReturnType<typeof setTimeout> | undefined;
  let quitArmed = false;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let finished = false;
  let resolveExit: (code: number) => void;
  const exited = new Promise<number>((resolve) => resolveExit = resolve);

  const write = (line: string) => {
    const to = conn;
    if (!to) return;
    const bytes = encoder.encode(line + "\r\n");
    writing = writing.then(async () => {
      let offset = 0;
      while (offset < bytes.length) offset += await to.write(bytes.subarray(offset));
    }).catch(() => {
      // A failed write shows up as a lost connection on the read side.
    });
  };
  // Lines go out no faster than the server takes them: a paste or piped file loses none.
  const pacer = new Pacer(write);

  /** Closes the connection (its read loop ends unheard); the next one starts afresh. */
  const drop = () => {
    try {
      conn?.close();
    } catch {
      // Already closed.
    }
    conn = undefined;
    writing = Promise.resolve();
  };

  /** Opens the next connection, or tells the core why it could not. */
  const reconnect = async () => {
    reconnectTimer = undefined;
    let next: Deno.Conn;
    try {
      next = await options.reconnect!();
    } catch (err) {
      if (!finished) apply(core.closed(err instanceof Error ? err.message : String(err)));
      return;
    }
    if (finished) {
      next.close();
      return;
    }
    conn = next;
    apply(core.start());
    readServer(next);
  };

  const finish = async (code: number, error?: string) => {
    if (finished) return;
    finished = true;
    clearTimeout(quitTimer);
    pacer.close();
    clearTimeout(reconnectTimer);
    for (const signal of SIGNALS) {
      try {
        Deno.removeSignalListener(signal, onQuit);
      } catch {
        // Not available on this platform.
      }
    }
    await Promise.race([writing, new Promise((r) => setTimeout(r, 500))]);
    drop();
    frontend.restore();
    if (error) console.error(`chat-client: ${error}`);
    resolveExit(code);
  };

  const apply = (actions: ClientAction[]) => {
    for (const a of actions) {
      if (finished) return;
      switch (a.type) {
        case "send":
          pacer.send(a.line, a.lines);
          break;
        case "pace":
          pacer.limit(a.rate, a.burst);
          break;
        case "show":
          frontend.show(renderEvent(a.event, { me: core.me }, a.mark));
          break;
        case "ask-name":
          frontend.askName(a.text);
          break;
        case "ask-password":
          frontend.askPassword(a.text);
          break;
        case "named":
        case "room":
          frontend.chatPrompt(core.room);
          break;
        case "reconnect":
          drop();
          reconnectTimer = setTimeout(reconnect, a.delayMs);
          break;
        case "exit":
          finish(a.code, a.error);
          return;
      }
    }
    if (core.state === "quitting" && !quitArmed) {
      quitArmed = true;
      // A server that never closes does not keep us: once /quit is out, leave cleanly anyway.
      pacer.idle().then(() => {
        if (!finished) quitTimer = setTimeout(() => finish(0), QUIT_TIMEOUT_MS);
      });
    }
  };

  /** Ctrl+C, Ctrl+D or a signal: leave cleanly; asked again while leaving, leave now. */
  const onQuit = () => {
    if (core.state === "quitting") finish(0);
    else apply(core.quit());
  };
  for (const signal of SIGNALS) {
    try {
      Deno.addSignalListener(signal, onQuit);
    } catch {
      // Not available on this platform.
    }
  }

  /** Reads `from` until it ends; once it is no longer the open connection, unheard. */
  const readServer = async (from: Deno.Conn) => {
    const framer = new LineFramer(MAX_EVENT_LINE_BYTES, {
      line: (text) => {
        if (from === conn) apply(core.serverLine(text));
      },
      overlong: () => {},
    });
    const buf = new Uint8Array(16384);
    let failure: unknown;
    try {
      for (;;) {
        const n = await from.read(buf);
        if (n === null) break;
        framer.push(buf.subarray(0, n));
      }
    } catch (err) {
      failure = err;
    }
    if (!finished && from === conn) apply(core.closed(lostReason(failure)));
  };

  apply(core.start());
  readServer(first);
  frontend.read({
    line: (text) => apply(core.userLine(text)),
    quit: onQuit,
    nextRoom: () => apply(core.nextRoom()),
    end: () => apply(core.endOfInput()),
  });
  return exited;
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
