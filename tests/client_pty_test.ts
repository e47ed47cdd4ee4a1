// client.ts end to end on a real pseudo-terminal (python3's pty module), against the
// real server in-process: what the screen shows is rebuilt by a small terminal model
// from the bytes the client writes, and the tty's settings are compared after exit.

import assert from "node:assert/strict";
import { joinAs, ServerProcess, startServer } from "./helpers.ts";
import { columns, graphemes } from "../lib/protocol/width.ts";

/**
 * Runs a command on a new pty of the given size. Reads JSON commands on stdin:
 * {"write": text} types text, {"resize": [rows, cols]} resizes (the kernel sends
 * SIGWINCH). Copies everything the pty shows to stdout; exits with the command's code.
 */
const PTY_DRIVER = `
import fcntl, json, os, pty, select, struct, sys, termios
rows, cols = int(sys.argv[1]), int(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    os.execvp(sys.argv[3], sys.argv[3:])
pending, stdin_open = b"", True
while True:
    ready, _, _ = select.select([fd] + ([0] if stdin_open else []), [], [])
    if fd in ready:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b""
        if not data:
            break
        os.write(1, data)
    if 0 in ready:
        chunk = os.read(0, 65536)
        if not chunk:
            stdin_open = False
        pending += chunk
        while b"\\n" in pending:
            line, pending = pending.split(b"\\n", 1)
            cmd = json.loads(line)
            if "write" in cmd:
                os.write(fd, cmd["write"].encode())
            if "resize" in cmd:
                fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", cmd["resize"][0], cmd["resize"][1], 0, 0))
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
`;

/**
 * Runs the client, then says whether the tty's settings are what they were before.
 * With PIPE_STDOUT set, the client's stdout and stderr are a pipe (to cat), not the pty.
 */
const RESTORE_CHECK = `saved=$(stty -g)
if [ -n "$PIPE_STDOUT" ]; then "$@" 2>&1 | cat; else "$@"; fi
code=$?
if [ "$(stty -g)" = "$saved" ]; then echo "[tty restored]"; else echo "[tty NOT restored]"; fi
exit $code`;

/** A CSI sequence: parameters and final byte. */
const CSI = new RegExp(String.raw`^\x1b\[([?0-9;]*)[ -/]*([@-~])`);
/** The start of one, cut off at the end of a chunk. */
const PARTIAL_CSI = new RegExp(String.raw`^\x1b(\[[?0-9;]*)?$`);

/** Enough of a terminal to see what the client draws: text, CR/LF, CSI moves and erases. */
class TerminalModel {
  cols: number;
  readonly rows: number;
  #cells: string[][];
  row = 0;
  col = 0;
  cursorVisible = true;
  #wrapPending = false;
  #pending = "";

  constructor(rows: number, cols: number) {
    this.rows = rows;
    this.cols = cols;
    this.#cells = Array.from({ length: rows }, () => this.#blank());
  }

  /** Resizes the model (the client redraws; old rows are kept as they are). */
  resize(rows: number, cols: number): void {
    this.cols = cols;
    this.#cells = this.#cells.map((r) => [...r, ...this.#blank()].slice(0, cols));
    while (this.#cells.length < rows) this.#cells.push(this.#blank());
    this.col = Math.min(this.col, cols - 1);
  }

  #blank(): string[] {
    return Array(this.cols).fill(" ");
  }

  /** The text of row `r`, trailing blanks removed. */
  line(r: number): string {
    return this.#cells[r].join("").trimEnd();
  }

  /** The row the cursor is on. */
  get cursorLine(): string {
    return this.line(this.row);
  }

  /** Every row, top to bottom. */
  get screen(): string {
    return this.#cells.map((_, r) => this.line(r)).join("\n");
  }

  feed(text: string): void {
    const s = this.#pending + text;
    this.#pending = "";
    let i = 0;
    let run = "";
    const flush = () => {
      for (const g of graphemes(run)) this.#put(g);
      run = "";
    };
    while (i < s.length) {
      const ch = s[i];
      if (ch === "\x1b") {
        flush();
        const csi = CSI.exec(s.slice(i));
        if (csi) {
          this.#csi(csi[1], csi[2]);
          i += csi[0].length;
        } else if (PARTIAL_CSI.test(s.slice(i))) {
          this.#pending = s.slice(i);
          return;
        } else {
          i += 2;
        }
        continue;
      }
      const code = ch.charCodeAt(0);
      if (code < 0x20) {
        flush();
        if (ch === "\r") this.#move(this.row, 0);
        if (ch === "\n") this.#lineFeed();
        if (ch === "\b") this.#move(this.row, this.col - 1);
      } else {
        run += ch;
      }
      i++;
    }
    flush();
  }

  #put(g: string): void {
    const w = columns(g);
    if (w === 0) {
      if (this.col > 0) this.#cells[this.row][this.col - 1] += g;
      return;
    }
    if (this.#wrapPending || this.col + w > this.cols) {
      this.#lineFeed();
      this.col = 0;
    }
    this.#cells[this.row][this.col] = g;
    if (w === 2) this.#cells[this.row][this.col + 1] = "";
    this.col += w;
    this.#wrapPending = this.col >= this.cols;
    if (this.#wrapPending) this.col = this.cols - 1;
  }

  #lineFeed(): void {
    this.#wrapPending = false;
    if (this.row < this.rows - 1) {
      this.row++;
    } else {
      this.#cells.shift();
      this.#cells.push(this.#blank());
    }
  }

  #move(row: number, col: number): void {
    this.#wrapPending = false;
    this.row = Math.max(0, Math.min(this.rows - 1, row));
    this.col = Math.max(0, Math.min(this.cols - 1, col));
  }

  #csi(params: string, final: string): void {
    if (params.startsWith("?")) {
      if (params === "?25") this.cursorVisible = final === "h";
      return;
    }
    const p = params.split(";").map((x) => Number(x) || 0);
    const n = Math.max(1, p[0]);
    const cells = this.#cells[this.row];
    switch (final) {
      case "K":
        if (p[0] === 0) cells.fill(" ", this.col);
        if (p[0] === 1) cells.fill(" ", 0, this.col + 1);
        if (p[0] === 2) cells.fill(" ");
        this.#wrapPending = false;
        break;
      case "J":
        if (p[0] === 2) this.#cells = this.#cells.map(() => this.#blank());
        break;
      case "G":
        this.#move(this.row, n - 1);
        break;
      case "C":
        this.#move(this.row, this.col + n);
        break;
      case "D":
        this.#move(this.row, this.col - n);
        break;
      case "A":
        this.#move(this.row - n, this.col);
        break;
      case "B":
        this.#move(this.row + n, this.col);
        break;
      case "H":
        this.#move(Math.max(1, p[0]) - 1, Math.max(1, p[1] ?? 1) - 1);
        break;
    }
  }
}

const encoder = new TextEncoder();

/** How to run a {@link PtyClient}. */
interface PtyOptions {
  rows?: number;
  cols?: number;
  /** Arguments for env(1) before the client: `["NO_COLOR=1"]`, `["-u", "NO_COLOR"]`. */
  env?: string[];
  /** Send the client's stdout through a pipe, so only stdin is a terminal. */
  pipeStdout?: boolean;
}

/** The client on a pty, its screen rebuilt by a TerminalModel. */
class PtyClient implements AsyncDisposable {
  readonly term: TerminalModel;
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reader: Promise<void>;
  readonly #stderr: Promise<string>;
  /** Everything the pty showed, as text. */
  output = "";
  #wake: (() => void) | undefined;
  #ended = false;

  constructor(args: string[], options: PtyOptions = {}) {
    const size = { rows: options.rows ?? 20, cols: options.cols ?? 60 };
    this.term = new TerminalModel(size.rows, size.cols);
    this.#child = new Deno.Command("python3", {
      args: [
        "-c",
        PTY_DRIVER,
        String(size.rows),
        String(size.cols),
        "sh",
        "-c",
        RESTORE_CHECK,
        "sh",
        "env",
        ...(options.env ?? []),
        Deno.execPath(),
        "run",
        "--allow-net",
        "--allow-env",
        new URL("../client.ts", import.meta.url).pathname,
        ...args,
      ],
      env: { TERM: "xterm-256color", PIPE_STDOUT: options.pipeStdout ? "1" : "" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.#stderr = new Response(this.#child.stderr).text();
    this.#reader = this.#read();
  }

  async #read(): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of this.#child.stdout) {
      const text = decoder.decode(chunk, { stream: true });
      this.output += text;
      this.term.feed(text);
      this.#wake?.();
    }
    this.#ended = true;
    this.#wake?.();
  }

  /** Types text (keys as the bytes a terminal sends). */
  async type(text: string): Promise<void> {
    await this.#stdin.write(encoder.encode(JSON.stringify({ write: text }) + "\n"));
  }

  /** Resizes the pty; the client gets SIGWINCH. */
  async resize(rows: number, cols: number): Promise<void> {
    this.term.resize(rows, cols);
    await this.#stdin.write(encoder.encode(JSON.stringify({ resize: [rows, cols] }) + "\n"));
  }

  /** Waits until `check` holds for the screen; fails with the screen if it does not. */
  async waitFor(what: string, check: (t: TerminalModel) => boolean, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    while (!check(this.term)) {
      const left = deadline - Date.now();
      if (left <= 0 || this.#ended) {
        throw new Error(`screen never showed ${what}; it shows:\n${this.term.screen}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Waits for a row containing `text`. */
  waitForText(text: string, timeoutMs?: number): Promise<void> {
    return this.waitFor(JSON.stringify(text), (t) => t.screen.includes(text), timeoutMs);
  }

  /** Waits for the client to exit; returns its exit code. */
  async exit(): Promise<number> {
    const { code } = await this.#child.status;
    await this.#reader;
    await this.#stderr;
    return code;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.#stdin.close();
    } catch {
      // Already closed.
    }
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await this.exit();
  }
}

/** Plays a server up to the switch to JSON mode (for tests that then drop the connection). */
async function acceptJsonMode(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(1024);
  let seen = "";
  while (!seen.includes("/proto json\r\n")) {
    const n = await conn.read(buf);
    if (n === null) throw new Error(`the client closed; it sent ${JSON.stringify(seen)}`);
    seen += new TextDecoder().decode(buf.subarray(0, n));
  }
  await conn.write(encoder.encode('{"type":"mode","ts":0,"mode":"json","name":null}\r\n'));
}

/** Row of the screen holding `text`, or -1. */
function rowOf(t: TerminalModel, text: string): number {
  return t.screen.split("\n").findIndex((l) => l.includes(text));
}

/** Asserts the client left the terminal as it found it. */
async function assertExitsRestored(client: PtyClient, code: number): Promise<void> {
  assert.equal(await client.exit(), code);
  assert.match(client.output, /\[tty restored\]/);
  assert.ok(client.term.cursorVisible, "the cursor is visible");
}

Deno.test("client.ts on a terminal: a message arrives while the other user is mid-line", async () => {
  await using server = startServer();
  const port = String(server.addr.port);
  await using alice = new PtyClient(["--name", "alice", "--port", port]);
  await alice.waitForText("welcome, alice!");
  await using bob = new PtyClient(["--name", "bob", "--port", port]);
  await bob.waitForText("welcome, bob!");
  await alice.waitForText("bob joined");

  await alice.type("hello wor");
  await alice.waitFor("the half-typed line", (t) => t.cursorLine === "#lobby> hello wor");
  await bob.type("hi alice, how are you?\r");
  await alice.waitFor(
    "the message above the redrawn half-typed line",
    (t) =>
      t.screen.includes("<bob> hi alice, how are you?") && t.cursorLine === "#lobby> hello wor",
  );

  const t = alice.term;
  assert.equal(t.cursorLine, "#lobby> hello wor", "the half-typed line is intact");
  assert.equal(t.col, "#lobby> hello wor".length, "the cursor is where it was");
  assert.ok(rowOf(t, "<bob> hi alice") < t.row, "the message is above the input line");
  assert.equal(rowOf(t, "hello wor"), t.row, "the half-typed text is only on the input line");
  assert.match(t.screen, /^\d\d:\d\d <bob> hi alice, how are you\?$/m, "timestamped");

  await alice.type("ld\r");
  await bob.waitForText("<alice> hello world");
  await alice.waitForText("<alice> hello world");
  await alice.waitFor("an empty input line", (t) => t.cursorLine === "#lobby>");

  await alice.type("\x04");
  await assertExitsRestored(alice, 0);
  await bob.waitForText("alice left");
  await bob.type("/quit\r");
  await assertExitsRestored(bob, 0);
});

Deno.test("client.ts on a terminal: wide characters, editing keys, long lines and a resize", async () => {
  await using server = startServer();
  await using alice = new PtyClient(["--name", "alice", "--port", String(server.addr.port)], {
    rows: 12,
    cols: 30,
  });
  await alice.waitForText("welcome, alice!");
  await using bob = await joinAs(server.addr.port, "bob");

  await alice.type("你好 wor😀\x1b[D");
  // The cursor counts wide characters as two columns: 8 + 4 + 1 + 3.
  await alice.waitFor(
    "the wide line",
    (t) => t.cursorLine === "#lobby> 你好 wor😀" && t.col === 16,
  );
  await bob.send("hello 世界");
  await alice.waitFor(
    "the message above the wide line",
    (t) => t.screen.includes("<bob> hello 世界") && t.cursorLine === "#lobby> 你好 wor😀",
  );
  assert.equal(alice.term.cursorLine, "#lobby> 你好 wor😀");
  assert.equal(alice.term.col, 16);

  // Ctrl+A, Ctrl+E, Ctrl+W, Ctrl+U, backspace, delete, history.
  await alice.type("\x01\x1b[3~\x05\x7f\x17");
  await alice.waitFor("the edited line", (t) => t.cursorLine === "#lobby> 好");
  await alice.type("\x15one two\r");
  await bob.expect("alice: one two");
  await alice.type("\x1b[A");
  await alice.waitFor("the recalled line", (t) => t.cursorLine === "#lobby> one two");
  await alice.type("\x15");

  // A line longer than the terminal scrolls; a resize lays it out again.
  const long = "abcdefghijklmnopqrstuvwxyz0123456789";
  await alice.type(long);
  await alice.waitFor("the end of the long line", (t) => t.cursorLine.endsWith("0123456789"));
  assert.ok(columns(alice.term.cursorLine) < 30, "the input stays on one row");
  assert.equal(alice.term.col, columns(alice.term.cursorLine));
  await alice.resize(12, 60);
  await alice.waitFor("the whole line after a resize", (t) => t.cursorLine === `#lobby> ${long}`);
  await alice.resize(12, 20);
  await alice.waitFor(
    "the line scrolled to the narrower width",
    (t) => t.cursorLine === "#lobby> z0123456789" && t.col === 19,
  );
  await bob.send("ok");
  await alice.waitFor(
    "the message above the scrolled line",
    (t) => t.screen.includes("<bob> ok") && t.cursorLine === "#lobby> z0123456789",
  );
  assert.equal(alice.term.col, 19);

  await alice.type("\x03"); // clears the line
  await alice.waitFor("a cleared line", (t) => t.cursorLine === "#lobby>");
  await alice.type("\x03"); // quits
  await assertExitsRestored(alice, 0);
});

Deno.test("client.ts on a terminal: a bracketed paste of 60 lines all arrives, kept out of history", async () => {
  await using server = startServer();
  await using alice = new PtyClient(["--name", "alice", "--port", String(server.addr.port)]);
  await alice.waitForText("welcome, alice!");
  assert.ok(alice.output.includes("\x1b[?2004h"), "bracketed paste is turned on");
  await using bob = await joinAs(server.addr.port, "bob");
  await alice.type("typed\r");
  await bob.expect("alice: typed");
  // A terminal sends a paste's line ends as CR, between the paste markers.
  const lines = Array.from({ length: 60 }, (_, i) => `pasted line ${i + 1}`);
  await alice.type(`before: \x1b[200~${lines.join("\r")}\r/he\x1b[201~`);
  // 18 at once, then 4.5 a second: about 9 s under the server's 5 a second after 20.
  const got = await bob.collectUntil("alice: pasted line 60", 30_000);
  assert.deepEqual(
    got.filter((l) => l.startsWith("alice: ")),
    ["alice: before: pasted line 1", ...lines.slice(1).map((l) => `alice: ${l}`)],
  );
  assert.ok(!alice.output.includes("slow down"), "the server dropped nothing");
  // The text after the last line end waits in the input line, not completed.
  await alice.waitFor("the rest of the paste", (t) => t.cursorLine === "#lobby> /he");
  await alice.type("\x15\x1b[A");
  await alice.waitFor("the last typed line in history", (t) => t.cursorLine === "#lobby> typed");
  await alice.type("\x15\x03");
  await assertExitsRestored(alice, 0);
  assert.ok(alice.output.includes("\x1b[?2004l"), "bracketed paste is turned off");
});

Deno.test("client.ts on a terminal: asks for a name again when it is taken; Tab completes", async () => {
  await using server = startServer();
  await using bob = await joinAs(server.addr.port, "bob");
  await using c = new PtyClient(["--port", String(server.addr.port)]);
  await c.waitFor("the name prompt", (t) => t.cursorLine === "choose a name:");
  await c.type("bob\r");
  await c.waitForText("the name bob is taken");
  await c.waitFor("the prompt again", (t) => t.cursorLine === "choose a name:");
  await c.type("carol\r");
  await c.waitForText("welcome, carol!");
  await c.waitFor("the chat prompt", (t) => t.cursorLine === "#lobby>");

  await c.type("/us\t");
  await c.waitFor("the completed command", (t) => t.cursorLine === "#lobby> /users");
  await c.type("\r");
  await c.waitForText("2 online: bob, carol");
  await c.type("/pm b\t");
  await c.waitFor("the completed name", (t) => t.cursorLine === "#lobby> /pm bob");
  await c.type("psst\r");
  await bob.expect("[pm from carol] psst");
  await c.waitForText("[pm to bob] psst");

  await c.type("/pm\r");
  await c.waitForText("usage: /pm USER|#ROOM [TEXT]");
  await c.type("/help\r");
  await c.waitForText("/kick NAME [REASON]"); // the last line of the local help
  await c.type("/quit\r");
  await c.waitForText("goodbye");
  await assertExitsRestored(c, 0);
});

Deno.test("client.ts --no-reconnect on a terminal: the server shuts down", async () => {
  await using server = startServer();
  await using c = new PtyClient([
    "--name",
    "alice",
    "--port",
    String(server.addr.port),
    "--no-reconnect",
  ]);
  await c.waitForText("welcome, alice!");
  await c.type("half a line");
  await c.waitFor("the half line", (t) => t.cursorLine === "#lobby> half a line");
  await server.shutdown();
  await c.waitForText("server shutting down");
  await assertExitsRestored(c, 0);
});

Deno.test("client.ts on a terminal: kicked by the server", async () => {
  await using server = startServer();
  await using c = new PtyClient(["--name", "alice", "--port", String(server.addr.port)]);
  await c.waitForText("welcome, alice!");
  assert.ok(server.kick("alice", "spam"));
  await c.waitForText("kicked by the server: spam");
  await assertExitsRestored(c, 0);
});

Deno.test("client.ts on a terminal: a lost connection exits 1 and restores the terminal", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  await using c = new PtyClient(["--port", String((listener.addr as Deno.NetAddr).port)]);
  {
    using conn = await listener.accept();
    await acceptJsonMode(conn);
    await c.waitFor("the name prompt", (t) => t.cursorLine === "choose a name:");
  }
  await c.waitForText("chat-client: connection closed by the server");
  await assertExitsRestored(c, 1);
});

/** An SGR sequence that sets an attribute or colour (a bare reset does not count). */
const SGR_ON = new RegExp(String.raw`\x1b\[(?!0?m)[0-9;]*m`);

Deno.test("client.ts on a terminal: colours by default, none with --no-color or NO_COLOR", async (t) => {
  await using server = startServer();
  const port = String(server.addr.port);
  const cases: [string, string[], string[], boolean][] = [
    ["colours by default", [], ["-u", "NO_COLOR"], true],
    ["--no-color", ["--no-color"], ["-u", "NO_COLOR"], false],
    ["NO_COLOR", [], ["NO_COLOR=1"], false],
  ];
  for (const [name, flags, env, coloured] of cases) {
    await t.step(name, async () => {
      await using bob = await joinAs(server.addr.port, "bob");
      await using c = new PtyClient(["--name", "alice", "--port", port, ...flags], { env });
      await c.waitForText("welcome, alice!");
      await bob.send("hi alice");
      await c.waitForText("<bob> hi alice");
      assert.equal(SGR_ON.test(c.output), coloured, JSON.stringify(c.output));
      // The mention is highlighted in reverse video when colours are on.
      assert.equal(c.output.includes("\x1b[1;7mhi alice"), coloured);
      await c.type("\x04");
      await assertExitsRestored(c, 0);
    });
  }
});

Deno.test("client.ts with a terminal on stdin but stdout piped runs in plain mode", async () => {
  await using server = startServer();
  await using c = new PtyClient(["--name", "alice", "--port", String(server.addr.port)], {
    pipeStdout: true,
  });
  await c.waitForText("welcome, alice!");
  await c.type("/users\r");
  await c.waitForText("1 online: alice");
  await c.type("/quit\r");
  await c.waitForText("[tty restored]");
  assert.ok(!c.output.includes("\x1b"), JSON.stringify(c.output));
  await c.exit();
});

Deno.test("client.ts on a terminal: a half-typed line survives a reconnect to a restarted server", async () => {
  await using first = ServerProcess.onLoopback();
  const port = String(await first.port());
  await using alice = new PtyClient(["--name", "alice", "--port", port]);
  await alice.waitForText("welcome, alice!");
  await alice.type("half typed");
  await alice.waitFor("the typed text", (t) => t.cursorLine === "#lobby> half typed");
  first.child.kill("SIGKILL");
  await first.exit();
  await alice.waitForText("reconnecting");
  await using second = new ServerProcess(["--host", "127.0.0.1", "--port", port]);
  await second.port();
  await alice.waitFor("the reconnect", (t) => t.screen.includes("reconnected as alice"), 15_000);
  await alice.waitFor("the typed line intact", (t) => t.cursorLine === "#lobby> half typed");
  await using bob = await joinAs(Number(port), "bob");
  await alice.type(" line\r");
  await bob.expect("alice: half typed line");
  await alice.type("\x03");
  await assertExitsRestored(alice, 0);
});

Deno.test("client.ts on a terminal: the prompt follows /join and /part, Ctrl+X cycles, other rooms' lines are marked", async () => {
  await using server = startServer();
  await using alice = new PtyClient(["--name", "alice", "--port", String(server.addr.port)], {
    rows: 30,
  });
  await alice.waitFor("the lobby prompt", (t) => t.cursorLine === "#lobby>");
  await using bob = await joinAs(server.addr.port, "bob");

  await alice.type("/join #dev\r");
  await alice.waitFor("the #dev prompt", (t) => t.cursorLine === "#dev>");
  await alice.type("/join music\r");
  await alice.waitFor("the #music prompt", (t) => t.cursorLine === "#music>");
  await bob.send("anyone in the lobby?");
  await alice.waitForText("[#lobby] <bob> anyone in the lobby?");

  // Ctrl+X: the next room in the order joined, cycling; what is typed stays.
  await alice.type("draft\x18");
  await alice.waitFor("#lobby after #music", (t) => t.cursorLine === "#lobby> draft");
  await alice.waitForText("now talking in #lobby");
  await alice.type("\x18");
  await alice.waitFor("#dev after #lobby", (t) => t.cursorLine === "#dev> draft");
  await alice.type("\x15/msg #lobby from dev\r");
  await bob.expect("alice: from dev");
  await alice.waitForText("[#lobby] <alice> from dev");
  await bob.send("/join #dev");
  await alice.waitFor(
    "bob's join, unmarked",
    (t) => /^\d\d:\d\d \* bob joined #dev \(2 here\)$/m.test(t.screen),
  );
  await bob.send("in dev now");
  await alice.waitFor(
    "a line from the active room, unmarked",
    (t) => /^\d\d:\d\d <bob> in dev now$/m.test(t.screen),
  );

  // /part leaves the active room: the one used last among those left is active.
  await alice.type("/part\r");
  await alice.waitFor("#lobby, used last", (t) => t.cursorLine === "#lobby>");
  await alice.type("/part #lobby\r");
  await alice.waitFor("#music, the one left", (t) => t.cursorLine === "#music>");
  await alice.type("/part\r");
  await alice.waitFor("no room", (t) => t.cursorLine === ">");
  await alice.type("\x18");
  await alice.waitForText("no other room to switch to");
  await alice.type("still here?\r");
  await alice.waitForText("you are in no room");
  assert.ok(!alice.term.screen.includes("<alice> still here?"), "not shown as said");

  await alice.type("\x04");
  await assertExitsRestored(alice, 0);
});

Deno.test("client.ts on a terminal: after a reconnect it is back in every room, the active one active", async () => {
  await using first = ServerProcess.onLoopback();
  const port = String(await first.port());
  await using alice = new PtyClient(["--name", "alice", "--port", port], { rows: 40 });
  await alice.waitForText("welcome, alice!");
  // More room changes than the server's burst allows at once: the client paces them.
  const rooms = ["#dev", "#music", "#art", "#ops", "#web"];
  for (const room of rooms) {
    await alice.type(`/join ${room}\r`);
    await alice.waitFor(`the ${room} prompt`, (t) => t.cursorLine === `${room}>`);
  }
  await alice.type("/join #dev\r");
  await alice.waitFor("back to #dev", (t) => t.cursorLine === "#dev>");
  await alice.type("/part #lobby\r");
  await alice.waitForText("alice left #lobby");

  first.child.kill("SIGKILL");
  await first.exit();
  await alice.waitForText("reconnecting");
  await using second = new ServerProcess(["--host", "127.0.0.1", "--port", port]);
  await second.port();
  await alice.waitFor("the reconnect", (t) => t.screen.includes("reconnected as alice"), 15_000);
  await using bob = await joinAs(Number(port), "bob");
  await alice.type("/rooms\r");
  const listed = [
    /^ +> #dev \(1\)$/m,
    ...rooms.slice(1).map((r) => new RegExp(`^ +\\+ ${r} \\(1\\)$`, "m")),
    /^ +#lobby \(1\)$/m,
  ];
  await alice.waitFor(
    "#dev active, the others joined, #lobby parted",
    (t) => listed.every((r) => r.test(t.screen)),
  );
  await alice.waitFor("the #dev prompt", (t) => t.cursorLine === "#dev>");
  await bob.send("/join #music");
  await bob.expect("you are in #music");
  await bob.send("in music");
  await alice.waitForText("[#music] <bob> in music");
  assert.ok(!alice.output.includes("slow down"), "the server dropped no room change");
  await alice.type("\x03");
  await assertExitsRestored(alice, 0);
});
