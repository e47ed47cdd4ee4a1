// Tests for lib/protocol/terminal/complete.ts: what Tab does with the word before the cursor,
// over the command table and a list of names online.

import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { COMMAND_WORDS, complete, type Completion } from "../lib/protocol/terminal/complete.ts";
import { COMMAND_NAMES, isOperatorCommand } from "../lib/protocol/commands.ts";

const NAMES = ["alice", "Alfred", "bob"];

const CASES: [string, string, Completion][] = [
  ["a unique command completes with a space", "/he", { kind: "replace", before: "/help " }],
  ["command matching ignores case", "/HE", { kind: "replace", before: "/help " }],
  ["an alias completes too", "/whi", { kind: "replace", before: "/whisper " }],
  ["leading spaces still make the first word", "  /us", { kind: "replace", before: "  /users " }],
  ["ambiguous commands extend to the common prefix", "/gr", {
    kind: "replace",
    before: "/group",
  }],
  ["ambiguous commands with nothing to add are listed", "/p", {
    kind: "list",
    options: ["/part", "/pass", "/password", "/pm", "/private", "/proto"],
  }],
  ["operator commands are not offered", "/ki", { kind: "none" }],
  ["an unknown command rings the bell", "/zz", { kind: "none" }],
  ["a name completes as the first word", "bo", { kind: "replace", before: "bob " }],
  ["a name after a command", "/pm b", { kind: "replace", before: "/pm bob " }],
  ["names match ignoring case, the name keeps its case", "ALF", {
    kind: "replace",
    before: "Alfred ",
  }],
  ["ambiguous names extend to the common prefix", "a", { kind: "replace", before: "al" }],
  ["ambiguous names with nothing to add are listed", "al", {
    kind: "list",
    options: ["Alfred", "alice"],
  }],
  ["names after a comma in a group list", "/gm bob,al", {
    kind: "list",
    options: ["Alfred", "alice"],
  }],
  ["nothing to complete after a space", "/pm ", { kind: "none" }],
  ["an empty line", "", { kind: "none" }],
  ["a slash word later in the line is a name, not a command", "hi /he", { kind: "none" }],
];

Deno.test("complete() completes the word before the cursor", async (t) => {
  for (const [name, before, want] of CASES) {
    await t.step(name, () => assertEquals(complete(before, NAMES), want));
  }
});

Deno.test("COMMAND_WORDS has every command but the operators' ones, with a slash", () => {
  for (const n of COMMAND_NAMES) {
    assertEquals(COMMAND_WORDS.includes(`/${n}`), !isOperatorCommand(n), n);
  }
  assert(COMMAND_WORDS.every((w) => w.startsWith("/")));
});
