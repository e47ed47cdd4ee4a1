// The IRC door's wire over plain data: numerics addressed to the client, and long messages
// split into lines that fit. No socket (tests/irc_fakes.ts).

import assert from "node:assert/strict";
import { IRC_LINE_BYTES, utf8Bytes } from "../lib/server/irc/render.ts";
import { source } from "../lib/server/irc/wire.ts";
import { fakeDoor } from "./irc_fakes.ts";

Deno.test("IrcWire.numeric() addresses `*` before registration, the nick after", () => {
  const door = fakeDoor();
  door.wire.numeric("451", ["You have not registered"]);
  door.state.nick = "alice";
  door.state.registered = true;
  door.wire.numeric("422", ["MOTD File is missing"]);
  assert.deepEqual(door.lines, [
    ":srv 451 * :You have not registered",
    ":srv 422 alice :MOTD File is missing",
  ]);
  assert.deepEqual(door.replies, [true, true]);
});

Deno.test("IrcWire.message() splits long text into lines that fit, losing none of it", async (t) => {
  const text = "word ".repeat(150) + "本".repeat(200);
  for (const action of [false, true]) {
    await t.step(action ? "action" : "message", () => {
      const door = fakeDoor("alice");
      door.state.caps.add("server-time");
      door.wire.message("bob", "#dev", text, { action, ts: 0 });
      assert.ok(door.lines.length > 1);
      const prefix = action ? "\x01ACTION " : "";
      let rest = text;
      for (const line of door.lines) {
        const body = line.replace(/^@time=\S+ /, "");
        assert.ok(utf8Bytes(body) <= IRC_LINE_BYTES, `${utf8Bytes(body)} bytes`);
        assert.ok(line.startsWith("@time=1970-01-01T00:00:00.000Z :bob!bob@linechat PRIVMSG"));
        let said = body.slice(body.indexOf(" :") + 2).replace(prefix, "");
        if (action) said = said.slice(0, -1); // the closing \x01
        assert.ok(rest.startsWith(said.trimEnd()), said);
        rest = rest.slice(said.length).trimStart();
      }
      assert.equal(rest, "");
      assert.ok(door.replies.every((r) => !r), "chat is not a reply");
    });
  }
});

Deno.test("source() is nick!nick@linechat: no address shown", () => {
  assert.equal(source("bob"), "bob!bob@linechat");
});
