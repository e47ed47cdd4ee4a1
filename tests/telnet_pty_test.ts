// Debian's real `telnet` (and `nc`) in a real terminal (tmux), against the real server
// in-process: what the screen shows is read back with tmux capture-pane. Ignored, with a
// printed "skipped: no X", where telnet, nc or tmux is missing.

import assert from "node:assert/strict";
import { installed, joinAs, startServer } from "./helpers.ts";

const missing = ["tmux", "telnet", "nc"].filter((p) => !installed(p));
if (missing.length > 0) console.log(`skipped: no ${missing.join(", ")} (telnet_pty_test.ts)`);

let sessions = 0;

/** One program in its own tmux server (so tests never share one), on an 80x24 screen. */
class Tmux implements AsyncDisposable {
  readonly #socket = `linechat-test-${Deno.pid}-${++sessions}`;

  private constructor() {}

  /** Debian's telnet in a new terminal, named `name` at the server on `port`. */
  static async telnetAs(port: number, name: string, width = 80, height = 24): Promise<Tmux> {
    const t = await Tmux.start(`telnet 127.0.0.1 ${port}`, width, height);
    await t.waitFor("choose a name:");
    await t.keys(name, "Enter");
    await t.waitFor(`welcome, ${name}`);
    return t;
  }

  /** Starts `command` (a shell command line) in a new terminal. */
  static async start(command: string, width = 80, height = 24): Promise<Tmux> {
    const t = new Tmux();
    await t.#tmux("new-session", "-d", "-s", "t", "-x", `${width}`, "-y", `${height}`, command);
    return t;
  }

  async #tmux(...args: string[]): Promise<string> {
    const out = await new Deno.Command("tmux", { args: ["-L", this.#socket, ...args] }).output();
    if (!out.success) throw new Error(`tmux ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
    return new TextDecoder().decode(out.stdout);
  }

  /** Types text (tmux key names, e.g. "Enter", "C-c", "BSpace", are separate keys). */
  async keys(...keys: string[]): Promise<void> {
    await this.#tmux("send-keys", "-t", "t", ...keys);
  }

  /** Types literal text. */
  async type(text: string): Promise<void> {
    await this.#tmux("send-keys", "-t", "t", "-l", text);
  }

  /** Where the cursor is, as `column,row`. */
  async cursor(): Promise<string> {
    return (await this.#tmux("display", "-p", "-t", "t", "#{cursor_x},#{cursor_y}")).trim();
  }

  /** The text of the row the cursor is on (the input line in character mode). */
  async inputRow(): Promise<string> {
    const y = Number((await this.cursor()).split(",")[1]);
    return (await this.#tmux("capture-pane", "-p", "-t", "t")).split("\n")[y].trimEnd();
  }

  /** Waits until the cursor's row is `text`. */
  async untilInput(text: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const row = await this.inputRow();
      if (row === text) return;
      if (Date.now() > deadline) throw new Error(`input row is ${JSON.stringify(row)}`);
      // Polls the terminal: tmux has no event to wait on.
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Resizes the terminal (telnet sends the new size with NAWS). */
  async resize(width: number, height: number): Promise<void> {
    await this.#tmux("resize-window", "-t", "t", "-x", `${width}`, "-y", `${height}`);
  }

  /** What the screen shows now, trailing blank lines removed. */
  async screen(): Promise<string> {
    return (await this.#tmux("capture-pane", "-p", "-t", "t")).trimEnd();
  }

  /** Waits until the screen satisfies `pred`; fails with the screen after `timeoutMs`. */
  async until(pred: (screen: string) => boolean, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = await this.screen();
      if (pred(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`screen not as expected:\n${screen}`);
      // Polls the terminal: tmux has no event to wait on.
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits until the screen shows `text`. */
  waitFor(text: string, timeoutMs?: number): Promise<string> {
    return this.until((s) => s.includes(text), timeoutMs);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#tmux("kill-server").catch(() => {});
  }
}

const ignore = missing.length > 0;

Deno.test({
  name: "telnet: Ctrl+C clears the line, and /users is still answered after it",
  ignore,
  async fn() {
    await using server = startServer();
    await using bob = await joinAs(server.addr.port, "bob");
    await using t = await Tmux.start(`telnet 127.0.0.1 ${server.addr.port}`);
    await t.waitFor("choose a name:");
    // Still telnet's line mode: Ctrl+C sends IAC IP IAC DO TIMING-MARK, and telnet shows
    // nothing more until the TIMING-MARK is answered.
    await t.type("half");
    await t.keys("C-c");
    await t.keys("carol", "Enter");
    await bob.expect("* carol joined");
    await t.waitFor("welcome, carol");
    // Character mode by now: Ctrl+C clears the line the server edits.
    await t.type("half typed");
    await t.keys("C-c");
    await t.keys("/users", "Enter");
    await t.waitFor("2 online: bob, carol");
    await bob.send("still talking");
    await t.waitFor("bob: still talking");
    await t.keys("said after", "Enter");
    const line = await bob.expect("carol:");
    assert.equal(line, "carol: said after", "the half-typed text went nowhere");
  },
});

Deno.test({
  name: "telnet: the server's password is not echoed, and what follows is",
  ignore,
  async fn() {
    await using server = startServer({ password: "pw123" });
    await using t = await Tmux.start(`telnet 127.0.0.1 ${server.addr.port}`);
    await t.waitFor("password:");
    const prompt = await t.screen();
    assert.ok(!prompt.includes("shows as you type"), prompt);
    await t.type("wrong1");
    await t.keys("Enter");
    await t.waitFor("wrong password");
    await t.until((s) => s.split("password:").length === 3);
    await t.type("pw12");
    await t.keys("BSpace");
    await t.type("23");
    await t.keys("Enter");
    await t.waitFor("choose a name:");
    await t.keys("carol", "Enter");
    const screen = await t.waitFor("welcome, carol");
    assert.ok(!/wrong1|pw1|pw123|23/.test(screen), screen);
    assert.match(screen, /^carol$/m, "the name was echoed");
    assert.equal(screen.split("wrong password").length, 2, "one wrong password, then right");
  },
});

Deno.test({
  name: "telnet: AYT is answered (telnet's 'send ayt')",
  ignore,
  async fn() {
    await using server = startServer();
    await using t = await Tmux.start(`telnet 127.0.0.1 ${server.addr.port}`);
    await t.waitFor("choose a name:");
    await t.keys("C-]");
    await t.waitFor("telnet>");
    await t.keys("send ayt", "Enter");
    await t.waitFor("[yes]");
  },
});

Deno.test({
  name: "nc: the password prompt says it shows, and no negotiation is visible",
  ignore,
  async fn() {
    await using server = startServer({ password: "pw123" });
    await using t = await Tmux.start(`nc 127.0.0.1 ${server.addr.port}`);
    await t.waitFor("password:");
    await t.type("wrong1");
    await t.keys("Enter");
    const screen = await t.waitFor("password: (it shows as you type)");
    const lines = screen.split("\n");
    assert.match(lines[0], /^welcome to linechat/);
    // The one proposal (before the first prompt) is a line of its own that shows nothing.
    assert.deepEqual(lines.slice(1, 3), ["", "password:"]);
    assert.ok(!/\ufffd/.test(screen), screen);
  },
});

Deno.test({
  name: "telnet: a live telnet answers the dead-peer probes and stays; a silent peer goes",
  ignore,
  async fn() {
    await using server = startServer({ limits: { deadPeerMs: 300 } });
    const port = server.addr.port;
    await using bob = await joinAs(port, "bob");
    await using t = await Tmux.start(`telnet 127.0.0.1 ${port}`);
    await t.waitFor("choose a name:");
    await t.keys("carol", "Enter");
    await bob.expect("* carol joined");
    // A peer that speaks telnet, then never answers: gone after one period, while carol,
    // silent as long and longer, answers telnet's way and stays.
    const dead = await Deno.connect({ hostname: "127.0.0.1", port });
    await dead.write(Uint8Array.of(0xff, 0xfb, 31, ...new TextEncoder().encode("dead\r\n")));
    await bob.expect("* dead joined");
    const drained = dead.readable.pipeTo(new WritableStream()).catch(() => {});
    await bob.expect("* dead left: not responding");
    await drained;
    await bob.send("/users");
    await bob.expect("2 online: bob, carol");
    await t.keys("still here", "Enter");
    await bob.expect("carol: still here");
  },
});

Deno.test({
  name: "telnet character mode: a half-typed line stays intact while messages arrive",
  ignore,
  async fn() {
    await using server = startServer();
    await using bob = await joinAs(server.addr.port, "bob");
    await using t = await Tmux.telnetAs(server.addr.port, "carol");
    await t.type("I am typing a long sen");
    await t.until((s) => s.endsWith("I am typing a long sen"));
    await bob.send("/msg carol psst");
    await bob.send("in the room");
    const screen = await t.waitFor("bob: in the room");
    const lines = screen.split("\n");
    assert.equal(lines.at(-1), "#lobby> I am typing a long sen", screen);
    assert.ok(lines.includes("[pm from bob] psst"), screen);
    assert.equal(await t.cursor(), [30, lines.length - 1].join(","));
    await t.keys("Left", "Left", "Left");
    await t.type("X");
    await t.keys("End");
    await t.type("tence");
    await t.keys("Enter");
    await bob.expect("carol: I am typing a long Xsentence");
  },
});

Deno.test({
  name: "telnet character mode: Tab completes commands and names, Up recalls history",
  ignore,
  async fn() {
    await using server = startServer();
    await using bob = await joinAs(server.addr.port, "bobby");
    await using t = await Tmux.telnetAs(server.addr.port, "carol");
    await t.type("/us");
    await t.keys("Tab");
    await t.untilInput("#lobby> /users");
    await t.keys("Enter");
    await t.waitFor("2 online: bobby, carol");
    await t.type("hi bo");
    await t.keys("Tab");
    await t.untilInput("#lobby> hi bobby");
    await t.keys("Enter");
    await bob.expect("carol: hi bobby");
    await t.untilInput("#lobby>");
    await t.keys("Up");
    await t.untilInput("#lobby> hi bobby");
    await t.keys("C-u");
    await t.untilInput("#lobby>");
    await t.type("again");
    await t.keys("C-w");
    await t.untilInput("#lobby>");
    await t.type("once more");
    await t.keys("Home");
    await t.type(">");
    await t.untilInput("#lobby> >once more");
    await t.keys("Enter");
    await bob.expect("carol: >once more");
  },
});

Deno.test({
  name: "telnet character mode: a resize (NAWS) lays the input line out again",
  ignore,
  async fn() {
    await using server = startServer();
    await using bob = await joinAs(server.addr.port, "bob");
    await using t = await Tmux.telnetAs(server.addr.port, "carol", 60, 20);
    const typed = "0123456789".repeat(5);
    await t.type(typed);
    await t.until((s) => s.endsWith(typed));
    await t.resize(30, 20);
    // Narrower than the line: the input scrolls so the cursor stays on its row.
    const tail = `#lobby> ${typed.slice(-21)}`;
    await t.until((s) => s.split("\n").at(-1) === tail);
    await bob.send("after the resize");
    await t.until((s) => s.split("\n").at(-1) === tail);
    await t.keys("Enter");
    await bob.expect(`carol: ${typed}`);
  },
});

Deno.test({
  name: "telnet character mode: a registered name's password is not shown",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await using server = startServer({ dataFile: `${dir}/chat.db` });
      {
        await using c = await joinAs(server.addr.port, "ivan");
        await c.send("/register ivans-pw");
        await c.expect("is yours now");
      }
      await using t = await Tmux.start(`telnet 127.0.0.1 ${server.addr.port}`);
      await t.waitFor("choose a name:");
      await t.keys("carol", "Enter");
      await t.waitFor("welcome, carol");
      await t.keys("/nick ivan", "Enter");
      await t.waitFor("password for ivan:");
      await t.type("ivans-pw");
      await t.until((s) => s.endsWith("********"));
      await t.keys("Enter");
      const screen = await t.waitFor("you are now ivan");
      assert.ok(!screen.includes("ivans-pw"), screen);
      await t.type("visible again");
      await t.until((s) => s.endsWith("visible again"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "telnet with piped input (printf ... | telnet) still sends its lines",
  ignore,
  async fn() {
    await using server = startServer();
    await using bob = await joinAs(server.addr.port, "bob");
    const script =
      `(printf 'dave\\nhi from a pipe\\n'; sleep 2) | telnet 127.0.0.1 ${server.addr.port}`;
    const child = new Deno.Command("sh", { args: ["-c", script], stdout: "null", stderr: "null" })
      .spawn();
    try {
      await bob.expect("* dave joined");
      await bob.expect("dave: hi from a pipe");
    } finally {
      await child.status;
    }
  },
});

Deno.test({
  name: "telnet character mode: wide characters and emoji keep the cursor right",
  ignore,
  async fn() {
    await using server = startServer();
    await using bob = await joinAs(server.addr.port, "bob");
    await using t = await Tmux.telnetAs(server.addr.port, "carol");
    await t.type("本日👍ok");
    await t.untilInput("#lobby> 本日👍ok");
    await t.keys("Left", "Left");
    await t.type("X");
    await t.untilInput("#lobby> 本日👍Xok");
    assert.equal((await t.cursor()).split(",")[0], "15", "after #lobby> 本日👍X: 8+2+2+2+1");
    await bob.send("meanwhile");
    await t.waitFor("bob: meanwhile");
    await t.untilInput("#lobby> 本日👍Xok");
    assert.equal((await t.cursor()).split(",")[0], "15", "redrawn with the cursor where it was");
    await t.keys("Enter");
    await bob.expect("carol: 本日👍Xok");
  },
});

Deno.test({
  name: "telnet character mode: the prompt names the active room; Ctrl+X switches to the next",
  ignore,
  async fn() {
    await using server = startServer();
    await using bob = await joinAs(server.addr.port, "bob");
    await using t = await Tmux.telnetAs(server.addr.port, "carol");
    await t.untilInput("#lobby>");
    await t.type("/join #dev");
    await t.keys("Enter");
    await t.untilInput("#dev>");
    await t.type("half");
    await t.keys("C-x");
    await t.waitFor("now talking in #lobby");
    await t.untilInput("#lobby> half");
    await t.keys("C-u");
    await t.type("in the lobby");
    await t.keys("Enter");
    await bob.expect("carol: in the lobby");
    await bob.send("/join #dev");
    await bob.send("/msg #dev over here");
    await t.waitFor("[#dev] bob: over here");
    await t.keys("C-x");
    await t.untilInput("#dev>");
  },
});
