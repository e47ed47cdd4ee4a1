// The IRC door over plain data: a real Hub, the door as its Peer, and a fake wire keeping
// the IRC lines the door writes. No sockets; each line in is handled synchronously.

import assert from "node:assert/strict";
import { Hub, type Peer } from "../lib/server/hub.ts";
import { DEFAULT_LIMITS } from "../lib/server/limits.ts";
import { IrcDoor, IrcIdentities } from "../lib/server/irc/door.ts";

const decoder = new TextDecoder();

/** A wire that keeps every IRC line written to it. */
class Wire implements Peer {
  readonly address = "192.0.2.1:6000";
  readonly lines: string[] = [];
  closed: string | undefined;

  write(bytes: Uint8Array): void {
    this.lines.push(...decoder.decode(bytes).split("\r\n").filter((l) => l !== ""));
  }

  close(reason?: string): void {
    this.closed = reason ?? "";
  }

  /** The lines written since the last call. */
  take(): string[] {
    return this.lines.splice(0);
  }
}

function setup() {
  const hub = new Hub({ limits: { ...DEFAULT_LIMITS, ratePerSecond: 0 }, version: "9.9.9" });
  const identities = new IrcIdentities();
  const connect = () => {
    const wire = new Wire();
    const door = new IrcDoor(wire, {
      identities,
      serverName: "srv",
      version: "9.9.9",
      started: new Date(0),
      maxNameLength: 24,
      maxRoomsPerUser: 20,
      rate: 0,
      burst: 0,
      noticeCost: 5,
    });
    door.start(hub, hub.connect(door));
    return { wire, door };
  };
  return { hub, connect };
}

/** Lets the door's welcome (sent at the end of the turn that named it) go out. */
const turn = () => new Promise<void>((r) => queueMicrotask(r));

Deno.test("IrcDoor answers 451 before registration and registers on NICK + USER", async () => {
  const { hub, connect } = setup();
  const { wire, door } = connect();
  door.line("JOIN :");
  assert.deepEqual(wire.take(), [":srv 451 * :You have not registered"]);
  door.line("NICK ivy");
  assert.deepEqual(wire.take(), []);
  door.line("USER ivy 0 * :Ivy Tester");
  await turn();
  const lines = wire.take();
  assert.equal(lines[0], ":srv 001 ivy :Welcome to the linechat IRC door, ivy");
  assert.ok(lines.includes(":srv 422 ivy :MOTD File is missing"));
  assert.ok(lines.includes(":ivy!ivy@linechat JOIN #lobby"));
  assert.equal(lines.at(-1), ":srv 366 ivy #lobby :End of /NAMES list");
  assert.deepEqual(hub.names, ["ivy"]);
});

Deno.test("IrcDoor waits for CAP END before registering", async () => {
  const { hub, connect } = setup();
  const { wire, door } = connect();
  door.line("CAP LS 302");
  door.line("NICK ivy");
  door.line("USER ivy 0 * :Ivy");
  await turn();
  assert.deepEqual(hub.names, []);
  door.line("CAP END");
  await turn();
  assert.deepEqual(hub.names, ["ivy"]);
  assert.ok(wire.take().some((l) => l.startsWith(":srv 001 ivy ")));
});

Deno.test("IrcDoor: WHOIS and WHO show another IRC user's USER details", async () => {
  const { connect } = setup();
  const a = connect();
  a.door.line("NICK ivy");
  a.door.line("USER ivyuser 0 * :Ivy Real");
  const b = connect();
  b.door.line("NICK bob");
  b.door.line("USER bob 0 * :Bob");
  await turn();
  b.wire.take();
  b.door.line("WHOIS ivy");
  assert.equal(b.wire.take()[0], ":srv 311 bob ivy ivyuser linechat * :Ivy Real");
  b.door.line("WHO ivy");
  assert.deepEqual(b.wire.take(), [
    ":srv 352 bob * ivyuser linechat srv ivy H :0 Ivy Real",
    ":srv 315 bob ivy :End of WHO list",
  ]);
});

Deno.test("IrcDoor: a message from another user reaches the IRC client as PRIVMSG", async () => {
  const { connect } = setup();
  const a = connect();
  const b = connect();
  for (const [x, nick] of [[a, "ivy"], [b, "bob"]] as const) {
    x.door.line(`NICK ${nick}`);
    x.door.line(`USER ${nick} 0 * :${nick}`);
  }
  await turn();
  a.wire.take();
  b.door.line("PRIVMSG #lobby :hi ivy");
  b.door.line("PRIVMSG #lobby :\x01ACTION nods\x01");
  b.door.line("PRIVMSG ivy :just you");
  assert.deepEqual(a.wire.take(), [
    ":bob!bob@linechat PRIVMSG #lobby :hi ivy",
    ":bob!bob@linechat PRIVMSG #lobby :\x01ACTION nods\x01",
    ":bob!bob@linechat PRIVMSG ivy :just you",
  ]);
});
