// The server's console over plain data: the real operator commands with a memory store, a log
// kept in a list, and fake peers for the clients online; no sockets.

import assert from "node:assert/strict";
import type { ServerEvent } from "../lib/protocol/events.ts";
import { Client } from "../lib/server/hub/client.ts";
import { ServerConsole } from "../lib/server/hub/console.ts";
import { Delivery } from "../lib/server/hub/delivery.ts";
import { Directory } from "../lib/server/hub/directory.ts";
import { Operators } from "../lib/server/hub/operators.ts";
import { Rooms } from "../lib/server/hub/rooms.ts";
import { DEFAULT_LIMITS } from "../lib/server/limits.ts";
import { Moderation } from "../lib/server/moderation.ts";
import { MemoryStore } from "../lib/server/store.ts";
import { JsonPeer } from "./hub_fakes.ts";

type Event = ServerEvent & { text?: string; from?: string; reason?: string };

class FakePeer extends JsonPeer<Event> {}

type Fake = Client & { peer: FakePeer };

function setup(motd?: string[]) {
  const limits = DEFAULT_LIMITS;
  const store = new MemoryStore(limits.historyLines, limits);
  const clients = new Set<Client>();
  const names = new Directory();
  const rooms = new Rooms(store, limits, () => {}, () => {});
  const out = new Delivery(0, names.byKey);
  const log: string[] = [];
  const gone: string[] = [];
  const ops = new Operators({
    limits,
    clients,
    names,
    rooms,
    moderation: new Moderation(store),
    out,
    log: (line) => log.push(line),
    storeFailed: () => {},
    kick: (name, reason, by) => {
      const c = names.get(name);
      if (!c) return false;
      gone.push(`${c.name} kicked by ${by} (${reason})`);
      return true;
    },
    disconnect: (c, reason) => gone.push(`${c.name} (${reason})`),
  }, motd);
  const online = () => [...clients].filter((c) => c.name !== undefined).map((c) => c.name!);
  const console = new ServerConsole({ names, online, ops, out, log: (line) => log.push(line) });
  const join = (name?: string): Fake => {
    const c = new Client(new FakePeer(), limits, 0) as Fake;
    c.mode = "json";
    clients.add(c);
    if (name !== undefined) {
      c.name = name;
      names.add(c);
      rooms.enter(c, rooms.lobby);
    }
    return c;
  };
  /** Types lines at the console; returns what each returned and the log lines they made. */
  const type = (...lines: string[]) => {
    log.length = 0;
    return { returned: lines.map((line) => console.line(line)), log: [...log] };
  };
  return { console, ops, join, type, gone };
}

Deno.test("ServerConsole.line() answers each line in the log", async (t) => {
  const cases: [string, string, string[]][] = [
    ["an empty line does nothing", "   ", []],
    ["/users lists who is online, in connection order", "/users", ["console: 2 online: ann, ben"]],
    ["/motd shows it", "/motd", ["console: motd: (none)"]],
    ["/help", "/help", [
      "console: /users, /kick NAME [REASON], /ban NAME|IP|CIDR [DURATION] [REASON], /unban, " +
      "/banned, /mute NAME|IP|CIDR [DURATION] [REASON], /unmute, /purge #ROOM [history|topic], " +
      "/motd [TEXT], /quit or exit; other lines go to everyone",
    ]],
    ["an unknown command", "/fly", ["console: unknown command /fly (try /help)"]],
    ["a client's command", "/nick bob", [
      "console: /changeusername is not available on the console",
    ]],
    ["/banned", "/banned", ["console: nobody is banned"]],
    ["/kick of nobody", "/kick nobody", ["console: no user named nobody is online"]],
  ];
  for (const [what, line, log] of cases) {
    await t.step(what, () => {
      const s = setup();
      s.join("ann");
      s.join();
      s.join("ben");
      assert.deepEqual(s.type(line), { returned: [undefined], log });
    });
  }
});

Deno.test("ServerConsole.line() returns stop for /quit and exit", () => {
  const { type } = setup();
  assert.deepEqual(type("/quit", "exit", "/exit").returned, ["stop", "stop", "stop"]);
});

Deno.test("ServerConsole.line() sends any other line to everyone named, from the server", () => {
  const { join, type } = setup();
  const ann = join("ann");
  const nameless = join();
  assert.deepEqual(type("back in 5 minutes", "/say  ").log, ["announce: back in 5 minutes"]);
  assert.deepEqual(type("/say hello").log, ["announce: hello"]);
  assert.deepEqual(
    ann.peer.events.map((e) => `${e.type} ${e.from}: ${e.text}`),
    ["announce server: back in 5 minutes", "announce server: hello"],
  );
  assert.deepEqual(nameless.peer.events, []);
});

Deno.test("ServerConsole.line() runs operator commands as the server", () => {
  const { join, type, gone, ops } = setup();
  const ann = join("ann");
  type("/kick ann spamming");
  assert.deepEqual(gone, ["ann kicked by the server (spamming)"]);
  assert.deepEqual(type("/motd be nice").log, [
    "motd set by the server: be nice",
    "console: the message of the day is set",
  ]);
  assert.deepEqual(ops.motd, ["be nice"]);
  assert.deepEqual(type("/motd").log, ["console: motd: be nice"]);
  assert.match(
    type("/mute ann 1h").log.at(-1)!,
    /^console: muted ann .*\(the name and 192\.0\.2\.1\)$/,
  );
  assert.match(ann.peer.events.at(-1)!.text!, /^you are muted /);
});

Deno.test("ServerConsole.line() logs a failure and goes on", () => {
  const { console, type, ops } = setup();
  ops.setMotd = () => {
    throw new TypeError("broken");
  };
  assert.deepEqual(type("/motd x"), {
    returned: [undefined],
    log: ["console: that failed: TypeError: broken"],
  });
  assert.equal(console.line("/quit"), "stop");
});
