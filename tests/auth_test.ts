// Authentication that cannot be bypassed, end to end over real TCP: the throttle holds
// across connections from one address and per secret, lockouts survive reconnecting and
// hanging up, a right answer waits like a wrong one, success resets nothing, a secret typed
// at a password prompt never reaches anyone else in any order, and password hashing is
// bounded server-wide with its memory given back after a burst.

import assert from "node:assert/strict";
import type { Limits } from "../lib/server/limits.ts";
import { joinAs, LineClient, rssFallsTo, rssMiB, ServerProcess, startServer } from "./helpers.ts";

/** Fast throttle settings; each test overrides what it measures. */
const AUTH: Partial<Limits> = {
  authDelayMs: 40,
  authMaxDelayMs: 160,
  authTries: 3,
  authLockoutAfter: 1000,
  authSecretLockoutAfter: 1000,
  authLockoutMs: 60_000,
  maxPerIp: 0,
};

/** Waits until `done()` holds, polling, or fails saying `what` after `ms`. */
async function until(what: string, done: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A server with --data in a temp dir where `owner` registered `password`, then left. */
async function withOwnedName(
  limits: Partial<Limits>,
  owner: string,
  password: string,
  test: (port: number, log: string[]) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const log: string[] = [];
  try {
    await using server = startServer({
      dataFile: `${dir}/chat.db`,
      limits,
      log: (l) => void log.push(l),
    });
    const port = server.addr.port;
    {
      await using c = await joinAs(port, owner);
      await c.send(`/register ${password}`);
      await c.expect(`* ${owner} is yours now`);
      await c.send("/quit");
      await c.expectClosed();
    }
    await test(port, log);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("throttle: guesses spread over many connections from one address are bounded", async () => {
  await using server = startServer({
    password: "the real one",
    limits: { ...AUTH, authLockoutAfter: 5 },
  });
  const port = server.addr.port;
  const checked: string[] = [];
  const locked: string[] = [];
  const deadline = Date.now() + 1500;
  // 20 connections, each guessing until it is closed or the window ends.
  await Promise.all(Array.from({ length: 20 }, async (_, i) => {
    await using c = await LineClient.connect(port);
    await c.expect("password:");
    for (let guess = 0; guess < 10 && Date.now() < deadline; guess++) {
      await c.send(`guess ${i}-${guess}`);
      let answer: string;
      try {
        answer = await c.expect(/wrong password|too many wrong passwords/, 2000);
      } catch {
        return; // closed: too many tries on this connection
      }
      (answer.includes("not checked") ? locked : checked).push(answer);
      if (answer.includes("too many tries")) return;
    }
  }));
  assert.ok(checked.length <= 5, `${checked.length} guesses checked:\n${checked.join("\n")}`);
  assert.ok(locked.length > 0, "the rest were refused unchecked");
});

Deno.test("throttle: a lockout survives reconnecting, even with the right password", async () => {
  await using server = startServer({
    password: "the real one",
    limits: { ...AUTH, authLockoutAfter: 3 },
  });
  const port = server.addr.port;
  {
    await using c = await LineClient.connect(port);
    for (const guess of ["a", "b", "c"]) await c.send(guess);
    await c.expect("* wrong password: too many tries", 5000);
    await c.expectClosed();
  }
  await using again = await LineClient.connect(port);
  await again.expect("password:");
  await again.send("the real one");
  await again.expect(/^! too many wrong passwords; it was not checked: try again in \d+ s$/);
  await again.expect("password:");
});

Deno.test("throttle: hanging up before the answer does not undo a counted failure", async () => {
  await withOwnedName(
    { ...AUTH, authLockoutAfter: 3 },
    "alice",
    "wonderland7",
    async (port, log) => {
      const failures = () => log.filter((l) => l.startsWith("wrong password for alice from"));
      for (let i = 1; i <= 3; i++) {
        const c = await LineClient.connect(port);
        await c.send(`/nick alice wrong${i}`);
        await c.close(); // before scrypt has answered
        await until(`failure ${i} counted after the hang-up`, () => failures().length === i);
      }
      await using owner = await LineClient.connect(port);
      await owner.send("/nick alice wonderland7");
      await owner.expect(/^! too many wrong passwords; it was not checked/);
      await owner.expect("password for alice:");
    },
  );
});

Deno.test("throttle: secrets are counted apart; a locked secret is locked from anywhere", async () => {
  // Addresses never lock here: only the operator password does, after 3 wrong tries.
  await withOwnedName(
    { ...AUTH, authLockoutAfter: 0, authSecretLockoutAfter: 3, authTries: 10 },
    "alice",
    "wonderland7",
    async (port) => {
      const opServer = startServer({
        opPassword: "op-secret",
        limits: { ...AUTH, authLockoutAfter: 0, authSecretLockoutAfter: 3, authTries: 10 },
      });
      try {
        const opPort = opServer.addr.port;
        for (const name of ["x1", "x2", "x3"]) {
          await using c = await joinAs(opPort, name);
          await c.send("/op wrong");
          await c.expect("! wrong operator password; try again");
        }
        await using d = await joinAs(opPort, "x4");
        await d.send("/op op-secret");
        await d.expect(/^! too many wrong passwords; it was not checked/);
      } finally {
        await opServer.shutdown();
      }
      // On the other server, failures for one name do not touch another secret.
      await using e = await LineClient.connect(port);
      await e.send("/nick alice right?");
      await e.expect("! wrong password for alice; try again");
      await e.send("wonderland7");
      await e.expect("* welcome, alice!");
    },
  );
});

Deno.test("throttle: while it holds, a right answer waits as long as a wrong one", async () => {
  await using server = startServer({
    password: "the real one",
    limits: { ...AUTH, authDelayMs: 100, authMaxDelayMs: 300, authTries: 10 },
  });
  const port = server.addr.port;
  await using c = await LineClient.connect(port);
  await c.expect("password:");
  for (let i = 0; i < 3; i++) {
    await c.send(`wrong ${i}`);
    await c.expect("! wrong password; try again", 5000);
  }
  // Three failures: every answer now waits the cap, 300 ms.
  let started = performance.now();
  await c.send("wrong again");
  await c.expect("! wrong password; try again", 5000);
  const wrong = performance.now() - started;
  await c.expect("password:");
  started = performance.now();
  await c.send("the real one");
  await c.expect("choose a name:", 5000);
  const right = performance.now() - started;
  assert.ok(wrong >= 290, `the wrong answer waited ${wrong} ms`);
  assert.ok(right >= 290, `the right answer waited ${right} ms, as long as a wrong one`);
  assert.ok(Math.abs(right - wrong) < 150, `right ${right} ms, wrong ${wrong} ms`);
});

Deno.test("throttle: a correct password resets no count (per connection)", async () => {
  // Flood control off: five renames would spend the burst (a rename costs 5 lines).
  const limits = { ...AUTH, authTries: 3, ratePerSecond: 0 };
  await withOwnedName(limits, "alice", "wonderland7", async (port) => {
    await using c = await joinAs(port, "guesser");
    await c.send("/nick alice wrong1");
    await c.expect("! wrong password for alice; try again");
    await c.send("/nick alice wrong2");
    await c.expect("! wrong password for alice; try again");
    await c.send("/nick alice wonderland7");
    await c.expect("* you are now alice");
    await c.send("/op nothing-here");
    await c.expect("! this server has no operator password");
    await c.send("/nick guesser");
    await c.expect("* you are now guesser");
    await c.send("/nick alice wrong3");
    await c.expect("* wrong password for alice: too many tries", 5000);
    await c.expectClosed();
  });
});

Deno.test("prompt: a secret typed at a password prompt reaches no one, in any order", async (t) => {
  const secret = "wonderland7"; // a valid name, so a leak as a name would show
  await withOwnedName({ ...AUTH, authTries: 10 }, "alice", secret, async (port, log) => {
    await using watcher = await joinAs(port, "watcher");
    const leaks = () => [
      ...watcher.received.filter((l) => l.includes(secret)),
      ...log.filter((l) => l.includes(secret)),
    ];

    /** Leaves as alice, so the next step can claim the name again. */
    const release = async (c: LineClient) => {
      await c.send("/quit");
      await c.expectClosed();
      await watcher.expect("* alice left");
    };

    await t.step("wrong, then right typed while the check is pending", async () => {
      await using c = await LineClient.connect(port);
      await c.send("alice");
      await c.expect("password for alice:");
      await c.send("not it");
      await c.send(secret); // held until the wrong answer; then it is a password again
      await c.expect("! wrong password for alice; try again");
      await c.expect("password for alice:");
      await c.expect("* welcome, alice!");
      await release(c);
    });
    await t.step("right, typed twice fast", async () => {
      await using c = await LineClient.connect(port);
      await c.send("alice");
      await c.expect("password for alice:");
      await c.sendRaw(new TextEncoder().encode(`${secret}\r\n${secret}\r\n`));
      await c.expect("* welcome, alice!");
      await c.expect("! that looks like a password; it was not sent");
      await release(c);
    });
    await t.step("wrong, then right typed after the re-prompt, then again", async () => {
      await using c = await LineClient.connect(port);
      await c.send("alice");
      await c.expect("password for alice:");
      await c.send("not it either");
      await c.expect("! wrong password for alice; try again");
      await c.expect("password for alice:");
      await c.send(secret);
      await c.expect("* welcome, alice!");
      await c.send(secret);
      await c.expect("! that looks like a password; it was not sent");
      await c.send(`/nick ${secret}`);
      await c.expect("! that looks like a password; it was not sent");
      await release(c);
    });
    await t.step("a named user: wrong, then right, then the same line again", async () => {
      await using c = await joinAs(port, "bob");
      await c.send("/nick alice");
      await c.expect("password for alice:");
      await c.send("still not it");
      await c.send(secret);
      await c.send(secret);
      await c.expect("* you are now alice");
      await c.expect("! that looks like a password; it was not sent");
      await release(c);
    });
    await t.step(
      "an empty line leaves the prompt: back to chat, the secret never typed",
      async () => {
        await using c = await joinAs(port, "carol");
        await c.send("/nick alice");
        await c.expect("password for alice:");
        await c.send("");
        await c.expect("* back to chat as carol");
        await c.send("hello after the prompt");
        await watcher.expect("carol: hello after the prompt");
      },
    );
    await t.step("nothing leaked to others, the log or the history", async () => {
      await using late = await joinAs(port, "late");
      await late.expect("[history");
      await late.send("/quit");
      await late.expectClosed();
      assert.deepEqual(leaks(), []);
      assert.ok(!late.received.some((l) => l.includes(secret)), late.received.join("\n"));
    });
  });
});

Deno.test("/register: hashes in flight are bounded server-wide; past it, busy", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using server = startServer({
      dataFile: `${dir}/chat.db`,
      limits: { ...AUTH, maxHashes: 2 },
    });
    const port = server.addr.port;
    const clients = await Promise.all(Array.from({ length: 8 }, (_, i) => joinAs(port, `u${i}`)));
    try {
      await Promise.all(clients.map((c, i) => c.send(`/register pw-${i}`)));
      const answers = await Promise.all(
        clients.map((c) => c.expect(/is yours now|busy, try again in a moment/, 5000)),
      );
      const busy = answers.filter((a) => a.includes("busy")).length;
      assert.ok(busy >= 1, answers.join("\n"));
      assert.ok(answers.length - busy >= 2, answers.join("\n"));
      // Busy is not final: once the burst is over, the same command works.
      const refused = clients[answers.findIndex((a) => a.includes("busy"))];
      await refused.send("/register again");
      await refused.expect("is yours now");
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "/register spam: the server's memory comes back near its start after the burst",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      await using server = ServerProcess.onLoopback(
        "--data",
        `${dir}/chat.db`,
        "--max-per-ip",
        "0",
      );
      const port = await server.port();
      const pid = server.child.pid;
      {
        // Warm up the paths the burst takes, then measure the start.
        await using w = await joinAs(port, "warm");
        await w.send("/register warm-up");
        await w.expect("is yours now");
      }
      const start = await rssMiB(pid);
      let peak = start;
      const clients: LineClient[] = [];
      try {
        for (let i = 0; i < 60; i++) clients.push(await joinAs(port, `spam${i}`));
        // Three rounds of 60 at once; a name registered in an earlier round says so.
        for (let round = 0; round < 3; round++) {
          await Promise.all(clients.map((c, i) => c.send(`/register pw-${i}`)));
          await Promise.all(
            clients.map((c) => c.expect(/is yours now|busy, try again|registered already/, 20_000)),
          );
          peak = Math.max(peak, await rssMiB(pid));
        }
      } finally {
        await Promise.all(clients.map((c) => c.close()));
      }
      // Measured: 2 hashes in flight end 37-41 MiB above the start (glibc keeps the freed
      // 16 MiB scrypt buffers); 60 unbounded hashes took ~1 GiB and kept it.
      const margin = 64;
      const now = await rssFallsTo(pid, start + margin, 15_000);
      assert.ok(
        now <= start + margin,
        `RSS ${now.toFixed(1)} MiB, start ${start.toFixed(1)}, peak ${peak.toFixed(1)}`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("names back: a registered name's password takes it over from an older connection", async () => {
  await withOwnedName(AUTH, "ivan", "ivans-pw", async (port, log) => {
    await using old = await LineClient.connect(port);
    await old.expect("choose a name:");
    await old.send("ivan");
    await old.expect("password for ivan:");
    await old.send("ivans-pw");
    await old.expect("* welcome, ivan!");
    await using bob = await joinAs(port, "bob");
    await using back = await LineClient.connect(port);
    await back.expect("choose a name:");
    await back.send("ivan");
    await back.expect("ivan is registered and in use: its password takes it over");
    await back.expect("password for ivan:");
    await back.send("not it");
    await back.expect("wrong password for ivan");
    await back.send("ivans-pw");
    await back.expect("* welcome, ivan!");
    await old.expect("ivan was taken over with its password from elsewhere");
    await old.expectClosed();
    await bob.expect("* ivan left: name taken over by its owner");
    await bob.expect("* ivan joined");
    assert.ok(log.some((l) => l.startsWith("regain ivan: ")), log.join("\n"));
    await back.send("/users");
    await back.expect("2 online");
  });
});
