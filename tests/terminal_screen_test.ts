// Tests for lib/protocol/terminal/screen.ts and editor.ts: keys in; buffer, cursor and screen
// operations out. A tiny model of a terminal applies the operations so each case can
// say what a person would see.

import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { Line, ScreenOp } from "../lib/protocol/ansi.ts";
import { type Key, KeyDecoder } from "../lib/protocol/terminal/keys.ts";
import { Screen } from "../lib/protocol/terminal/screen.ts";
import { LineEditor } from "../lib/protocol/terminal/editor.ts";
import { HISTORY_SIZE } from "../lib/protocol/terminal/editor.ts";
import { columns } from "../lib/protocol/width.ts";

/** The keys in typed input (these tests paste nothing). */
function keysOf(input: string): Key[] {
  return new KeyDecoder().feed(input).filter((k): k is Key => k.name !== "paste");
}

/** What a terminal shows after screen operations: rows printed above, the cursor's row. */
class Model {
  above: string[] = [];
  row = "";
  col = 0;
  bells = 0;

  apply(ops: ScreenOp[]): void {
    for (const o of ops) {
      switch (o.op) {
        case "clear":
          this.row = "";
          this.col = 0;
          break;
        case "write":
          assert(columns(this.row) === this.col, "writes only append in these tests");
          this.row += o.text;
          this.col += columns(o.text);
          break;
        case "newline":
          this.above.push(this.row);
          this.row = "";
          this.col = 0;
          break;
        case "column":
          this.col = o.col;
          break;
        case "bell":
          this.bells++;
          break;
      }
    }
  }
}

const LEFT = "\x1b[D";
const RIGHT = "\x1b[C";
const UP = "\x1b[A";
const DOWN = "\x1b[B";
const HOME = "\x1b[H";
const END = "\x1b[F";
const DEL = "\x1b[3~";
const BS = "\x7f";

interface Case {
  name: string;
  /** Raw terminal input, decoded with KeyDecoder. */
  keys: string;
  cols?: number;
  prompt?: string;
  names?: string[];
  /** The editor's buffer afterwards. */
  text: string;
  /** The cursor, in characters (grapheme clusters). */
  cursor: number;
  /** The input row as drawn, when the case checks it. */
  row?: string;
  /** The cursor's terminal column, when the case checks it. */
  col?: number;
  /** Lines submitted with Enter. */
  submitted?: string[];
  quit?: boolean;
  bells?: number;
  /** Lines shown above the input (completion lists). */
  above?: string[];
}

function run(c: Case) {
  const screen = new Screen({
    cols: c.cols ?? 80,
    prompt: c.prompt ?? "> ",
    names: () => c.names ?? [],
  });
  const model = new Model();
  model.apply(screen.redraw());
  const submitted: string[] = [];
  let quit = false;
  for (const key of keysOf(c.keys)) {
    const r = screen.key(key);
    model.apply(r.ops);
    if (r.submit !== undefined) submitted.push(r.submit);
    if (r.quit) quit = true;
  }
  return { screen, model, submitted, quit };
}

const CASES: Case[] = [
  {
    name: "typing inserts at the end",
    keys: "hello",
    text: "hello",
    cursor: 5,
    row: "> hello",
    col: 7,
  },
  { name: "left moves back one character", keys: `abc${LEFT}`, text: "abc", cursor: 2, col: 4 },
  {
    name: "left at the start rings the bell",
    keys: `a${LEFT}${LEFT}`,
    text: "a",
    cursor: 0,
    bells: 1,
  },
  { name: "right moves forward", keys: `abc${HOME}${RIGHT}`, text: "abc", cursor: 1, col: 3 },
  { name: "right at the end rings the bell", keys: `ab${RIGHT}`, text: "ab", cursor: 2, bells: 1 },
  {
    name: "typing in the middle inserts there",
    keys: `ac${LEFT}b`,
    text: "abc",
    cursor: 2,
    row: "> abc",
  },
  { name: "home goes to the start", keys: `abc${HOME}`, text: "abc", cursor: 0, col: 2 },
  { name: "end goes to the end", keys: `abc${HOME}${END}`, text: "abc", cursor: 3, col: 5 },
  { name: "Ctrl+A and Ctrl+E", keys: "abc\x01x\x05y", text: "xabcy", cursor: 5 },
  { name: "backspace deletes before the cursor", keys: `abc${LEFT}${BS}`, text: "ac", cursor: 1 },
  {
    name: "backspace at the start rings the bell",
    keys: `ab${HOME}${BS}`,
    text: "ab",
    cursor: 0,
    bells: 1,
  },
  { name: "delete deletes under the cursor", keys: `abc${HOME}${DEL}`, text: "bc", cursor: 0 },
  { name: "delete at the end rings the bell", keys: `ab${DEL}`, text: "ab", cursor: 2, bells: 1 },
  {
    name: "Ctrl+W deletes the word before the cursor",
    keys: "say hello\x17",
    text: "say ",
    cursor: 4,
  },
  {
    name: "Ctrl+W also takes the spaces after the word",
    keys: "say hello  \x17",
    text: "say ",
    cursor: 4,
  },
  {
    name: "Ctrl+W in the middle keeps the rest",
    keys: `one two three${LEFT.repeat(6)}\x17`,
    text: "one  three",
    cursor: 4,
  },
  {
    name: "Ctrl+U deletes the whole line from the end",
    keys: "some text\x15",
    text: "",
    cursor: 0,
    row: "> ",
  },
  {
    name: "Ctrl+U in the middle deletes up to the cursor",
    keys: `abcdef${LEFT.repeat(2)}\x15`,
    text: "ef",
    cursor: 0,
  },
  {
    name: "Enter submits and empties the line",
    keys: "hi there\r",
    text: "",
    cursor: 0,
    submitted: ["hi there"],
    row: "> ",
  },
  {
    name: "Enter on an empty line submits an empty line",
    keys: "\r",
    text: "",
    cursor: 0,
    submitted: [""],
  },
  {
    name: "up recalls the previous line",
    keys: `one\rtwo\r${UP}`,
    text: "two",
    cursor: 3,
    submitted: ["one", "two"],
  },
  { name: "up twice recalls the one before", keys: `one\rtwo\r${UP}${UP}`, text: "one", cursor: 3 },
  {
    name: "up past the oldest rings the bell",
    keys: `one\r${UP}${UP}`,
    text: "one",
    cursor: 3,
    bells: 1,
  },
  {
    name: "down comes back to the draft",
    keys: `one\rdraft${UP}${DOWN}`,
    text: "draft",
    cursor: 5,
  },
  {
    name: "down without browsing rings the bell",
    keys: `x${DOWN}`,
    text: "x",
    cursor: 1,
    bells: 1,
  },
  {
    name: "history skips blank lines and repeats",
    keys: `a\ra\r \r${UP}${UP}`,
    text: "a",
    cursor: 1,
    bells: 1,
  },
  { name: "Ctrl+C on an empty line quits", keys: "\x03", text: "", cursor: 0, quit: true },
  {
    name: "Ctrl+C on a typed line clears it",
    keys: "oops\x03",
    text: "",
    cursor: 0,
    quit: false,
    row: "> ",
  },
  { name: "Ctrl+D on an empty line quits", keys: "\x04", text: "", cursor: 0, quit: true },
  {
    name: "Ctrl+D on a typed line deletes forward",
    keys: `ab${HOME}\x04`,
    text: "b",
    cursor: 0,
    quit: false,
  },
  { name: "Tab completes a command", keys: "/us\t", text: "/users ", cursor: 7 },
  { name: "Tab completes an alias", keys: "/ni\t", text: "/nick ", cursor: 6 },
  {
    name: "Tab completes a name online",
    keys: "/pm al\t",
    names: ["alice", "bob"],
    text: "/pm alice ",
    cursor: 10,
  },
  {
    name: "Tab completes a name in plain text, any case",
    keys: "hi AL\t",
    names: ["alice"],
    text: "hi alice ",
    cursor: 9,
  },
  {
    name: "Tab extends to the common prefix",
    keys: "/pr\t",
    text: "/pr",
    cursor: 3,
    above: ["/private  /proto"],
  },
  {
    name: "Tab lists names that share no longer prefix",
    keys: "an\t",
    names: ["ann", "anna", "andy"],
    text: "an",
    cursor: 2,
    above: ["andy  ann  anna"],
  },
  {
    name: "Tab with a longer common prefix extends the word",
    keys: "ann\t",
    names: ["annabel", "annalise"],
    text: "anna",
    cursor: 4,
  },
  {
    name: "Tab with no match rings the bell",
    keys: "zz\t",
    names: ["alice"],
    text: "zz",
    cursor: 2,
    bells: 1,
  },
  {
    name: "Tab on a command word later in the line completes names",
    keys: "x /us\t",
    names: ["user"],
    text: "x /us",
    cursor: 5,
    bells: 1,
  },
  {
    name: "Tab in the middle completes the word before the cursor",
    keys: `hi bo!${LEFT}\t`,
    names: ["bob"],
    text: "hi bob !",
    cursor: 7,
  },
  {
    name: "CJK characters take two columns each",
    keys: "你好",
    text: "你好",
    cursor: 2,
    row: "> 你好",
    col: 6,
  },
  {
    name: "left over a wide character moves two columns",
    keys: `a你b${LEFT}${LEFT}`,
    text: "a你b",
    cursor: 1,
    col: 3,
  },
  { name: "emoji take two columns", keys: `😀x${LEFT}`, text: "😀x", cursor: 1, col: 4 },
  {
    name: "a family emoji is one character of two columns",
    keys: `👩‍👩‍👧${BS}`,
    text: "",
    cursor: 0,
    col: 2,
  },
  {
    name: "a combining mark joins the letter before it",
    keys: `e\u0301${LEFT}`,
    text: "e\u0301",
    cursor: 0,
    col: 2,
  },
  {
    name: "a combining mark typed after a move joins that letter",
    keys: `ab${LEFT}\u0301`,
    text: "a\u0301b",
    cursor: 1,
    col: 3,
  },
  {
    name: "backspace removes a letter with its combining mark",
    keys: `ae\u0301${BS}`,
    text: "a",
    cursor: 1,
    col: 3,
  },
  {
    name: "a line longer than the terminal scrolls to keep the cursor",
    keys: "abcdefghijklmnop",
    cols: 10,
    text: "abcdefghijklmnop",
    cursor: 16,
    row: "> jklmnop",
    col: 9,
  },
  {
    name: "home on a scrolled line shows its start",
    keys: `abcdefghijklmnop${HOME}`,
    cols: 10,
    text: "abcdefghijklmnop",
    cursor: 0,
    row: "> abcdefg",
    col: 2,
  },
  {
    name: "moving left past the window scrolls back",
    keys: `abcdefghijklmnop${LEFT.repeat(9)}`,
    cols: 10,
    text: "abcdefghijklmnop",
    cursor: 7,
    row: "> hijklmn",
    col: 2,
  },
  {
    name: "wide characters never straddle the edge",
    keys: "你好世界和平",
    cols: 10,
    text: "你好世界和平",
    cursor: 6,
    row: "> 界和平",
    col: 8,
  },
  {
    name: "a terminal narrower than the prompt drops it",
    keys: "abc",
    cols: 3,
    prompt: "long> ",
    text: "abc",
    cursor: 3,
    row: "bc",
    col: 2,
  },
];

Deno.test("Screen.key() edits, moves and draws the input line", async (t) => {
  for (const c of CASES) {
    await t.step(c.name, () => {
      const { screen, model, submitted, quit } = run(c);
      assertEquals(screen.editor.text, c.text, "buffer");
      assertEquals(screen.editor.cursor, c.cursor, "cursor");
      assertEquals(model.row, screen.inputRow, "the drawn row is the screen's input row");
      assertEquals(model.col, screen.cursorColumn, "the drawn cursor is the screen's cursor");
      if (c.row !== undefined) assertEquals(model.row, c.row, "row");
      if (c.col !== undefined) assertEquals(model.col, c.col, "column");
      if (c.submitted !== undefined) assertEquals(submitted, c.submitted, "submitted");
      if (c.quit !== undefined) assertEquals(quit, c.quit, "quit");
      assertEquals(model.bells, c.bells ?? 0, "bells");
      assertEquals(model.above, c.above ?? [], "lines above");
      assert(model.col < screen.cols, "the cursor stays on the row");
      assert(columns(model.row) < screen.cols, "the row never fills the last column");
    });
  }
});

const message: Line = [{ text: "12:00 " }, { text: "<bob>", style: { bold: true } }, {
  text: " hi there",
}];

Deno.test("Screen.print() puts a message above a half-typed line and redraws it intact", async (t) => {
  const cases: {
    name: string;
    keys: string;
    cols?: number;
    row: string;
    col: number;
    above?: string[];
  }[] = [
    { name: "cursor at the end", keys: "hello wor", row: "> hello wor", col: 11 },
    {
      name: "cursor in the middle",
      keys: `hello wor${LEFT.repeat(3)}`,
      row: "> hello wor",
      col: 8,
    },
    { name: "wide characters", keys: `你好 wor${LEFT}`, row: "> 你好 wor", col: 9 },
    {
      name: "scrolled long line (the message wraps, indented)",
      keys: "abcdefghijklmnop",
      cols: 10,
      row: "> jklmnop",
      col: 9,
      above: ["12:00 <bob", "      > hi", "      ther", "      e"],
    },
    { name: "empty line", keys: "", row: "> ", col: 2 },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const { screen, model } = run({
        name: c.name,
        keys: c.keys,
        cols: c.cols,
        text: "",
        cursor: 0,
      });
      const before = { text: screen.editor.text, cursor: screen.editor.cursor };
      const ops = screen.print([message]);
      assertEquals(ops[0], { op: "clear" }, "the input row is cleared first");
      model.apply(ops);
      const above = c.above ?? ["12:00 <bob> hi there"];
      assertEquals(model.above.slice(-above.length), above);
      assertEquals(model.row, c.row);
      assertEquals(model.col, c.col);
      assertEquals({ text: screen.editor.text, cursor: screen.editor.cursor }, before);
    });
  }
});

Deno.test("Screen.print() prints several lines in order", () => {
  const screen = new Screen({ cols: 40, prompt: "> " });
  const model = new Model();
  model.apply(screen.print([[{ text: "one" }], [{ text: "two" }]]));
  assertEquals(model.above, ["one", "two"]);
  assertEquals(model.row, "> ");
});

Deno.test("Screen.resize() lays the input out again for the new width", async (t) => {
  const cases = [
    { name: "narrower: scrolls to keep the cursor", cols: 10, row: "> jklmnop", col: 9 },
    { name: "wider: shows the whole line", cols: 40, row: "> abcdefghijklmnop", col: 18 },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const { screen, model } = run({
        name: c.name,
        keys: "abcdefghijklmnop",
        cols: 20,
        text: "",
        cursor: 0,
      });
      model.apply(screen.resize(c.cols));
      assertEquals(model.row, c.row);
      assertEquals(model.col, c.col);
    });
  }
});

Deno.test("Screen.setPrompt() redraws with the new prompt and keeps the input", () => {
  const { screen, model } = run({
    name: "",
    keys: "ali",
    prompt: "choose a name: ",
    text: "",
    cursor: 0,
  });
  assertEquals(model.row, "choose a name: ali");
  model.apply(screen.setPrompt("alice> "));
  assertEquals(model.row, "alice> ali");
  assertEquals(model.col, 10);
});

Deno.test("Screen.setPrompt(..., secret) shows * and keeps the text out of history", () => {
  const screen = new Screen({ cols: 80, prompt: "> ", names: () => ["alice"] });
  const model = new Model();
  model.apply(screen.setPrompt("password: ", true));
  const submitted: string[] = [];
  for (const key of keysOf(`s3 cr\x1b[D\x7fret\t\r${UP}`)) {
    const r = screen.key(key);
    model.apply(r.ops);
    if (r.submit !== undefined) submitted.push(r.submit);
    if (submitted.length === 0) {
      assertEquals(model.row.replace("password: ", "").replace(/\*/g, ""), "");
    }
  }
  assertEquals(submitted, ["s3 retr"]); // Left, Backspace took the "c"; "ret" went before the "r"
  assertEquals(model.bells, 2, "no completion, no history");
  assertEquals(screen.editor.history, []);
  model.apply(screen.setPrompt("alice> "));
  for (const key of keysOf("hi")) model.apply(screen.key(key).ops);
  assertEquals(model.row, "alice> hi");
});

Deno.test("Screen.key() Ctrl+X asks for the next room and leaves the input as typed", () => {
  const screen = new Screen({ cols: 80, prompt: "#lobby> " });
  const model = new Model();
  model.apply(screen.redraw());
  for (const key of keysOf("half\x1b[D")) model.apply(screen.key(key).ops);
  const r = screen.key({ name: "ctrl-x" });
  assertEquals(r.nextRoom, true);
  model.apply(r.ops);
  assertEquals([model.row, model.col, screen.editor.text], ["#lobby> half", 11, "half"]);
  // The prompt moves when the server says the room changed.
  model.apply(screen.setPrompt("#dev> "));
  assertEquals([model.row, model.col], ["#dev> half", 9]);
  // Not while a password is typed.
  model.apply(screen.setPrompt("password: ", true));
  const secret = screen.key({ name: "ctrl-x" });
  model.apply(secret.ops);
  assertEquals([secret.nextRoom, model.bells], [undefined, 1]);
});

Deno.test("Screen.finish() clears the input row", () => {
  const { screen, model } = run({ name: "", keys: "half", text: "", cursor: 0 });
  model.apply(screen.finish());
  assertEquals(model.row, "");
  assertEquals(model.col, 0);
});

Deno.test("LineEditor.submit() keeps at most HISTORY_SIZE lines", () => {
  const e = new LineEditor();
  for (let i = 0; i <= HISTORY_SIZE; i++) {
    e.insert(`line ${i}`);
    e.submit();
  }
  assertEquals(e.history.length, HISTORY_SIZE);
  assertEquals(e.history[0], "line 1");
});

/**
 * A terminal that reflows on a resize, as tmux and most emulators do: the cursor's row, if
 * wider than the new width, is split over several rows, the cursor on the one holding its
 * column. Rows are plain text (one column per character).
 */
class ReflowingTerminal {
  rows: string[] = ["12:00 <bob> above", ""];
  r = 1;
  c = 0;

  resize(cols: number): void {
    const row = this.rows[this.r];
    if (row.length <= cols) return;
    const pieces: string[] = [];
    for (let i = 0; i < row.length; i += cols) pieces.push(row.slice(i, i + cols));
    this.rows.splice(this.r, 1, ...pieces);
    this.r += Math.floor(this.c / cols);
    this.c %= cols;
  }

  apply(ops: ScreenOp[]): void {
    for (const o of ops) {
      switch (o.op) {
        case "clearBelow":
          this.r -= o.up;
          this.rows.length = this.r;
          this.rows.push("");
          this.c = 0;
          break;
        case "clear":
          this.rows[this.r] = "";
          this.c = 0;
          break;
        case "write":
          this.rows[this.r] = this.rows[this.r].slice(0, this.c) + o.text;
          this.c += o.text.length;
          break;
        case "newline":
          this.r++;
          this.rows[this.r] ??= "";
          this.c = 0;
          break;
        case "column":
          this.c = o.col;
          break;
      }
    }
  }
}

Deno.test("Screen.resize() narrower leaves no piece of the old input row on a reflowing terminal", async (t) => {
  const line = "x".repeat(30) + "y".repeat(30);
  const cases = [
    {
      name: "cursor at the end",
      keys: line,
      cols: 50,
      row: "> " + "x".repeat(17) + "y".repeat(30),
    },
    {
      name: "cursor at the start",
      keys: line + HOME,
      cols: 40,
      row: "> " + "x".repeat(30) + "y".repeat(7),
    },
    { name: "a row that still fits", keys: "short", cols: 40, row: "> short" },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const screen = new Screen({ cols: 80, prompt: "> " });
      const term = new ReflowingTerminal();
      term.apply(screen.redraw());
      for (const key of keysOf(c.keys)) term.apply(screen.key(key).ops);
      term.resize(c.cols);
      term.apply(screen.resize(c.cols));
      assertEquals(term.rows, ["12:00 <bob> above", c.row]);
      assertEquals(term.r, 1);
    });
  }
});
