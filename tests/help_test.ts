// /help fits one 80x24 screen: helpLines() in lines of at most HELP_COLUMNS (room for the
// client's time prefix), broken between words, and /help aliases names every other form.

import assert from "node:assert/strict";
import {
  COMMAND_NAMES,
  COMMANDS,
  HELP_COLUMNS,
  helpLines,
  lookupCommand,
  parseInput,
} from "../lib/protocol/commands.ts";
import { joinAs, startServer } from "./helpers.ts";

/** The client prefixes a line with `HH:MM `; a terminal of 80x24 keeps ~22 rows for output. */
const SCREEN = { columns: 80 - "HH:MM ".length, rows: 22 };

function assertFits(lines: string[], what: string): void {
  assert.ok(lines.length <= SCREEN.rows, `${what}: ${lines.length} lines`);
  for (const line of lines) {
    assert.ok(line.length <= HELP_COLUMNS && HELP_COLUMNS <= SCREEN.columns, `${what}: ${line}`);
  }
}

Deno.test("helpLines() fits one 80x24 screen and lists every command's usage", () => {
  const lines = helpLines();
  assertFits(lines, "/help");
  const text = lines.join("\n");
  for (const name of COMMAND_NAMES) assert.ok(text.includes(COMMANDS[name].usage), name);
  assert.match(text, /\/help COMMAND/);
  assert.match(text, /\/help aliases/);
});

Deno.test("helpLines(COMMAND) breaks between words, never inside one", async (t) => {
  for (const name of COMMAND_NAMES) {
    await t.step(name, () => {
      const lines = helpLines(name);
      assertFits(lines, name);
      const spec = COMMANDS[name];
      const body = lines.filter((l) => !l.startsWith("  also: ") && !l.startsWith("    "));
      assert.equal(body.map((l) => l.trim()).join(" "), `${spec.usage}: ${spec.help}`);
    });
  }
});

Deno.test("helpLines('aliases') lists every alias and seed form, each running its command", () => {
  const lines = helpLines("aliases");
  assertFits(lines, "/help aliases");
  const text = lines.join("\n");
  for (const name of COMMAND_NAMES) {
    for (const alias of COMMANDS[name].aliases) {
      assert.match(text, new RegExp(`/${alias}\\b`), alias);
      assert.equal(lookupCommand(alias), name);
    }
  }
  const seeds: [string, string][] = [
    ["who", "users"],
    ["server: who", "users"],
    ["exit", "disconnect"],
    ["server: exit", "disconnect"],
    ["server: register NAME", "changeusername"],
  ];
  for (const [form, name] of seeds) {
    const line = lines.find((l) => l.includes(`, ${form}`));
    assert.ok(line?.startsWith(`  /${name}: `), `${form} under /${name}`);
    const input = parseInput(form.replace("NAME", "bob"));
    assert.equal(input.kind === "command" && input.command.name, name, form);
  }
  const bob = lines.find((l) => l.includes("Bob:Hi"));
  assert.ok(bob?.startsWith("  /pm: "));
  const input = parseInput("Bob:Hi", { isUser: (n) => n === "Bob" });
  assert.equal(input.kind === "command" && input.command.name, "pm");
});

Deno.test("/help and /help aliases reach a telnet user within 80 columns", async () => {
  await using server = startServer();
  await using a = await joinAs(server.addr.port, "alice");
  await a.send("/help");
  await a.expect("operators only:");
  await a.send("/help aliases");
  await a.expect("/disconnect: /quit, /exit, /bye, exit, server: exit");
  for (const line of a.received) assert.ok(line.length <= 80, line);
});
