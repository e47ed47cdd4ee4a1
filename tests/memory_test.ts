// Growth without bound (issue 10, part 6): after an attacker leaves, the server's memory comes
// back near where it started. The real server.ts runs as a subprocess; its RSS is read from
// /proc while a bounded burst goes through it.

import assert from "node:assert/strict";
import { joinAs, type LineClient, rssFallsTo, rssMiB, ServerProcess } from "./helpers.ts";

/** How far above its start the server may stay once the burst is over, in MiB. */
const MARGIN_MIB = 32;

Deno.test({
  name: "rooms made, filled with history and left: their memory comes back",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await using server = ServerProcess.onLoopback("--rate", "0", "--max-per-ip", "0");
    const port = await server.port();
    const pid = server.child.pid;
    const line = "x".repeat(4000);
    /** `rooms` rooms, one after another, each left with 50 lines of 4,000 bytes in it. */
    const fill = async (c: LineClient, tag: string, rooms: number) => {
      for (let r = 0; r < rooms; r++) {
        await c.send(`/join #${tag}-${r}`);
        await c.send(Array.from({ length: 50 }, (_, i) => `${i} ${line}`).join("\r\n"));
        await c.send("/users");
        await c.expect(/^\* 1 (in #|online)/, 10_000);
      }
    };
    {
      await using warm = await joinAs(port, "warm");
      await fill(warm, "warm", 5);
    }
    const start = await rssMiB(pid);
    const attackers = await Promise.all([0, 1, 2, 3].map((i) => joinAs(port, `evil${i}`)));
    try {
      // 240 rooms x 50 lines x 4 KB: about 48 MB of history, kept for good before.
      await Promise.all(attackers.map((c, i) => fill(c, `e${i}`, 60)));
    } finally {
      await Promise.all(attackers.map((c) => c.close()));
    }
    const peak = await rssMiB(pid);
    const now = await rssFallsTo(pid, start + MARGIN_MIB, 20_000);
    assert.ok(
      now <= start + MARGIN_MIB,
      `RSS ${now.toFixed(1)} MiB, start ${start.toFixed(1)}, after the burst ${peak.toFixed(1)}`,
    );
  },
});

Deno.test({
  name: "clients that never read a long replay cost little, and it comes back when they go",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await using server = ServerProcess.onLoopback("--rate", "0", "--max-per-ip", "0");
    const port = await server.port();
    const pid = server.child.pid;
    await using poisoner = await joinAs(port, "poisoner");
    await poisoner.send(
      Array.from({ length: 50 }, (_, i) => `${i} ${'"'.repeat(2000)}`).join("\r\n"),
    );
    await poisoner.send("/users");
    await poisoner.expect("* 1 online");
    const start = await rssMiB(pid);
    // 300 newcomers that name themselves and never read their 50-line replay.
    const silent: Deno.Conn[] = [];
    try {
      for (let i = 0; i < 300; i++) {
        const c = await Deno.connect({ hostname: "127.0.0.1", port });
        silent.push(c);
        await c.write(new TextEncoder().encode(`/proto json\r\nsilent${i}\r\n`));
      }
      await server.expect("(301 online)", 10_000);
    } finally {
      for (const c of silent) c.close();
    }
    const peak = await rssMiB(pid);
    await server.expect(/\(1 online\)$/, 10_000);
    const now = await rssFallsTo(pid, start + MARGIN_MIB, 20_000);
    assert.ok(
      now <= start + MARGIN_MIB,
      `RSS ${now.toFixed(1)} MiB, start ${start.toFixed(1)}, with them ${peak.toFixed(1)}`,
    );
  },
});
