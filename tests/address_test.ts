import assert from "node:assert/strict";
import {
  AddressError,
  canonicalIp,
  contains,
  formatIp,
  hostAddress,
  meantAsAddress,
  parseIp,
  sourceKey,
} from "../lib/protocol/address.ts";

Deno.test("canonicalIp() gives one spelling for every way of writing an address", async (t) => {
  const cases: [string, string][] = [
    ["127.0.0.1", "127.0.0.1"],
    ["0.0.0.0", "0.0.0.0"],
    ["255.255.255.255", "255.255.255.255"],
    ["::1", "::1"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["0000:0000:0000:0000:0000:0000:0000:0001", "::1"],
    ["::", "::"],
    ["[::1]", "::1"],
    ["2001:DB8::1", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
    ["1::", "1::"],
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["::FFFF:7F00:1", "127.0.0.1"],
    ["0:0:0:0:0:ffff:127.0.0.1", "127.0.0.1"],
    ["::1.2.3.4", "::102:304"],
    ["10.0.0.0/24", "10.0.0.0/24"],
    ["10.0.0.5/24", "10.0.0.0/24"],
    ["10.0.0.5/32", "10.0.0.5"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["::ffff:10.0.0.0/104", "10.0.0.0/8"],
    ["2001:db8::/48", "2001:db8::/48"],
    ["2001:db8:0:0:ffff::/48", "2001:db8::/48"],
    ["::1/128", "::1"],
    ["::/0", "::/0"],
  ];
  for (const [text, want] of cases) {
    await t.step(`${text} -> ${want}`, () => assert.equal(canonicalIp(text), want));
  }
});

Deno.test("parseIp() refuses what is not an address, saying why", async (t) => {
  const cases: [string, RegExp][] = [
    ["127.000.000.005", /^"000" has a leading zero, which some tools read as octal$/],
    ["127.0.0.05", /^"05" has a leading zero/],
    ["010.0.0.1", /^"010" has a leading zero/],
    ["256.0.0.1", /^"256" is more than 255$/],
    ["1.2.3", /^an IPv4 address is four numbers from 0 to 255 separated by dots$/],
    ["1.2.3.4.5", /^an IPv4 address is four numbers/],
    ["1.2.3.", /^an IPv4 address is four numbers/],
    ["1.2.3.-4", /^an IPv4 address is four numbers/],
    ["1.2.3.0x4", /^an IPv4 address is four numbers/],
    ["1::2::3", /^:: may appear only once/],
    ["1:2:3:4:5:6:7:8:9", /^an IPv6 address is up to eight groups/],
    ["1:2:3:4:5:6:7", /^an IPv6 address is up to eight groups/],
    ["1:2:3:4:5:6:7::8", /^an IPv6 address is up to eight groups/],
    ["12345::", /^an IPv6 address is up to eight groups/],
    ["g::1", /^an IPv6 address is up to eight groups/],
    [":1:2:3:4:5:6:7", /^an IPv6 address is up to eight groups/],
    ["1.2.3.4::", /^an IPv6 address is up to eight groups/],
    ["1.2.3.4:5::", /^an IPv6 address is up to eight groups/],
    ["::ffff:1.2.3.04", /^"04" has a leading zero/],
    ["fe80::1%eth0", /^a zone/],
    ["10.0.0.0/33", /^the prefix length must be a whole number from 0 to 32$/],
    ["10.0.0.0/024", /^the prefix length must be/],
    ["10.0.0.0/", /^the prefix length must be/],
    ["10.0.0.0/-1", /^the prefix length must be/],
    ["::/129", /^the prefix length must be a whole number from 0 to 128$/],
    ["10/8", /^an IPv4 address is four numbers/],
    ["", /^an IPv4 address is four numbers/],
  ];
  for (const [text, want] of cases) {
    await t.step(JSON.stringify(text), () => {
      assert.throws(
        () => parseIp(text),
        (err) => err instanceof AddressError && want.test(err.message),
      );
    });
  }
});

Deno.test("contains() matches an address or narrower range inside a range", async (t) => {
  const cases: [string, string, boolean][] = [
    ["127.0.0.1", "127.0.0.1", true],
    ["127.0.0.1", "::ffff:127.0.0.1", true],
    ["127.0.0.1", "127.0.0.2", false],
    ["127.0.0.0/24", "127.0.0.255", true],
    ["127.0.0.0/24", "127.0.1.0", false],
    ["10.0.0.0/8", "10.0.0.0/24", true],
    ["10.0.0.0/24", "10.0.0.0/8", false],
    ["0.0.0.0/0", "203.0.113.9", true],
    ["0.0.0.0/0", "::1", false],
    ["::/0", "203.0.113.9", true],
    ["::1", "0:0:0:0:0:0:0:1", true],
    ["2001:db8::/32", "2001:db8:ffff::1", true],
    ["2001:db8::/32", "2001:db9::1", false],
    ["::ffff:0:0/96", "1.2.3.4", true],
  ];
  for (const [range, address, want] of cases) {
    await t.step(`${range} ${want ? "holds" : "does not hold"} ${address}`, () => {
      assert.equal(contains(parseIp(range), parseIp(address)), want);
    });
  }
});

Deno.test("meantAsAddress() tells addresses (valid or not) from names", async (t) => {
  const cases: [string, boolean][] = [
    ["127.0.0.1", true],
    ["127.0.0.05", true],
    ["1.2", true],
    ["::1", true],
    ["[::1]", true],
    ["10/8", true],
    ["fe80::1%eth0", true],
    ["alice", false],
    ["v1.2", false],
    ["12345", false],
    ["bob.smith", false],
    ["", false],
  ];
  for (const [text, want] of cases) {
    await t.step(JSON.stringify(text), () => assert.equal(meantAsAddress(text), want));
  }
});

Deno.test("hostAddress() reads Deno's hostname and a peer's host:port, never throwing", async (t) => {
  const cases: [string, string | undefined][] = [
    ["127.0.0.1", "127.0.0.1"],
    ["127.0.0.1:5000", "127.0.0.1"],
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["[::ffff:127.0.0.1]:5000", "127.0.0.1"],
    ["::1", "::1"],
    ["[::1]:5000", "::1"],
    ["fe80::1%2", "fe80::1"],
    ["[fe80::1%eth0]:22", "fe80::1"],
    ["10.0.0.0/8", undefined],
    ["test:1", undefined],
    ["", undefined],
  ];
  for (const [text, want] of cases) {
    await t.step(JSON.stringify(text), () => {
      const got = hostAddress(text);
      assert.equal(got && formatIp(got), want);
    });
  }
});

Deno.test("sourceKey() counts IPv4 by address and IPv6 by its /64", async (t) => {
  const cases: [string, string][] = [
    ["127.0.0.1", "127.0.0.1"],
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["[::ffff:10.0.0.7]:5000", "10.0.0.7"],
    ["10.0.0.7:5000", "10.0.0.7"],
    ["2001:db8:1:2:3::9", "2001:db8:1:2::/64"],
    ["[2001:db8:1:2:ffff::1]:443", "2001:db8:1:2::/64"],
    ["::1", "::/64"],
    ["not an address", "not an address"],
  ];
  for (const [input, key] of cases) {
    await t.step(input, () => assert.equal(sourceKey(input), key));
  }
});
