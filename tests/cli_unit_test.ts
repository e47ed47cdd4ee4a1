import assert from "node:assert/strict";
import {
  hostAndPort,
  parseAmount,
  parseFlags,
  parsePort,
  SAME_INTERRUPT_MS,
  twoStageStop,
  UsageError,
} from "../lib/protocol/cli.ts";

Deno.test("twoStageStop() shuts down once and exits 0, a second call exits 130 at once", async () => {
  const exits: number[] = [];
  const log: string[] = [];
  let finish!: () => void;
  let started = 0;
  let clock = 1000;
  const stop = twoStageStop(
    () => {
      started++;
      return new Promise<void>((r) => finish = r);
    },
    (code) => exits.push(code),
    (l) => log.push(l),
    () => clock,
  );
  stop();
  assert.equal(started, 1);
  assert.deepEqual(exits, []);
  clock += 500;
  stop();
  assert.deepEqual(exits, [130]);
  assert.deepEqual(log, ["second interrupt: exiting now"]);
  assert.equal(started, 1);
  finish();
  await Promise.resolve();
  await Promise.resolve();
  assert.deepEqual(exits, [130, 0]);
});

Deno.test("twoStageStop() takes a second interrupt within SAME_INTERRUPT_MS as the same one", () => {
  const exits: number[] = [];
  let clock = 1000;
  let started = 0;
  const stop = twoStageStop(
    () => {
      started++;
      return new Promise<void>(() => {});
    },
    (code) => exits.push(code),
    () => {},
    () => clock,
  );
  stop();
  clock += 5;
  stop(); // npx forwards the same Ctrl+C 5-30 ms later
  clock += SAME_INTERRUPT_MS - 6;
  stop();
  assert.deepEqual(exits, []);
  assert.equal(started, 1);
  clock += 1;
  stop();
  assert.deepEqual(exits, [130]);
});

Deno.test("twoStageStop() exits 1 when the shutdown fails", async () => {
  const exits: number[] = [];
  const stop = twoStageStop(
    () => Promise.reject(new Error("boom")),
    (c) => exits.push(c),
    () => {},
  );
  stop();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(exits, [1]);
});

Deno.test("parsePort() and hostAndPort() take flags or the positional form", () => {
  assert.equal(parsePort("0"), 0);
  assert.equal(parsePort("65535"), 65535);
  assert.throws(() => parsePort("65536"), UsageError);
  assert.throws(() => parsePort("-1"), UsageError);
  assert.throws(() => parsePort("8080x"), UsageError);
  assert.deepEqual(hostAndPort([], "0.0.0.0", "8080"), { host: "0.0.0.0", port: 8080 });
  assert.deepEqual(hostAndPort(["localhost", "7090"], "0.0.0.0", "8080"), {
    host: "localhost",
    port: 7090,
  });
  assert.deepEqual(hostAndPort(["localhost"], "0.0.0.0", "8080"), {
    host: "localhost",
    port: 8080,
  });
});

Deno.test("parsePort(text, 1) refuses port 0 with its own range; hostAndPort() passes minPort", () => {
  assert.equal(parsePort("1", 1), 1);
  assert.throws(
    () => parsePort("0", 1),
    (e) =>
      e instanceof UsageError && e.message === 'invalid port "0": use a number from 1 to 65535',
  );
  assert.throws(() => hostAndPort(["h", "0"], "h", "8080", 1), /from 1 to 65535/);
});

Deno.test("hostAndPort() names an extra argument without its own (try --help)", () => {
  assert.throws(
    () => hostAndPort(["a", "1", "extra"], "h", "8080"),
    (e) => e instanceof UsageError && e.message === 'unexpected argument "extra"',
  );
});

Deno.test("parseAmount() takes whole numbers or seconds in range, else one line of ours", async (t) => {
  const whole = { min: 1, max: 1000, integer: true, zeroOff: false };
  const off = { min: 1, max: 1000, integer: true, zeroOff: true };
  const seconds = { min: 0.1, max: 86400, integer: false, zeroOff: true };
  const cases: [string, typeof whole, number | string][] = [
    ["20", whole, 20],
    ["1000", whole, 1000],
    ["0", off, 0],
    ["1.5", seconds, 1.5],
    ["0", seconds, 0],
    ["0.5", whole, 'invalid --n "0.5": use a whole number from 1 to 1000'],
    ["0", whole, 'invalid --n "0": use a whole number from 1 to 1000'],
    ["1001", off, 'invalid --n "1001": use a whole number from 1 to 1000, or 0 to turn it off'],
    ["-1", whole, 'invalid --n "-1": use a whole number from 1 to 1000'],
    ["1e3", whole, 'invalid --n "1e3": use a whole number from 1 to 1000'],
    [
      "99999999999999999999999",
      whole,
      'invalid --n "99999999999999999999999": use a whole number from 1 to 1000',
    ],
    ["0.01", seconds, 'invalid --n "0.01": use a number from 0.1 to 86400, or 0 to turn it off'],
    ["1e3", seconds, 'invalid --n "1e3": use a number from 0.1 to 86400, or 0 to turn it off'],
    [
      "Infinity",
      seconds,
      'invalid --n "Infinity": use a number from 0.1 to 86400, or 0 to turn it off',
    ],
  ];
  for (const [text, range, want] of cases) {
    await t.step(`${text} ${JSON.stringify(range)}`, () => {
      if (typeof want === "number") assert.equal(parseAmount("n", text, range), want);
      else assert.throws(() => parseAmount("n", text, range), new UsageError(want));
    });
  }
});

Deno.test("parseFlags() reads a negative number as a value, not as a flag", async (t) => {
  const options = { port: { type: "string" }, tls: { type: "boolean" } } as const;
  const cases: [string[], { port?: string; positionals: string[] } | RegExp][] = [
    [["--port", "-1"], { port: "-1", positionals: [] }],
    [["--port=-1"], { port: "-1", positionals: [] }],
    [["--port", "-0.5", "--tls"], { port: "-0.5", positionals: [] }],
    [["host", "-1"], { positionals: ["host", "-1"] }],
    [["-1", "host", "--port", "8"], { port: "8", positionals: ["-1", "host"] }],
    [["--", "-x"], { positionals: ["-x"] }],
    [["--port"], /^Option '--port <value>' argument missing$/],
    [["--port", "--tls"], /^Option '--port' argument is ambiguous/],
    [["-x"], /^Unknown option '-x'$/],
  ];
  for (const [args, want] of cases) {
    await t.step(args.join(" "), () => {
      if (want instanceof RegExp) {
        assert.throws(
          () => parseFlags(args, options),
          (e) => e instanceof UsageError && want.test(e.message),
        );
        return;
      }
      const { values, positionals } = parseFlags(args, options);
      assert.deepEqual({ port: values.port, positionals }, {
        port: want.port,
        positionals: want.positionals,
      });
    });
  }
});
