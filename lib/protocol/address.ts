// IP addresses and CIDR ranges, as bans and mutes need them (the idea of ergo's flatip):
// parse any spelling, print one canonical form (RFC 5952), tell whether a range holds an
// address. Pure; who is banned or muted, and until when, is moderation.ts's business.

/**
 * An address or a CIDR range. IPv4 is kept as IPv4-mapped IPv6 (`::ffff:a.b.c.d`), so one
 * 128-bit number and a prefix length cover both families and `::ffff:1.2.3.4` is `1.2.3.4`.
 */
export interface IpRange {
  /** The first address of the range, as a 128-bit number (host bits are zero). */
  readonly bits: bigint;
  /** How many leading bits are fixed: 128 for a single address. */
  readonly prefix: number;
}

/** Text that was meant as an address but is not a valid one; the message says why. */
export class AddressError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AddressError";
  }
}

const ALL = (1n << 128n) - 1n;
/** `::ffff:0:0`, the IPv4-mapped block. */
const V4_MAPPED = 0xffffn << 32n;
const V4_SHAPE = "an IPv4 address is four numbers from 0 to 255 separated by dots";
const V6_SHAPE = "an IPv6 address is up to eight groups of 1 to 4 hex digits separated by :";

/**
 * Whether `text` was meant as an address or a range rather than a name: it has a colon or a
 * slash, or it is digits and dots with at least one dot. Names may never look like this,
 * so `/ban 127.0.0.05` is an address error, not a ban of a name.
 *
 * @example
 * ```ts
 * meantAsAddress("127.0.0.05"); // true
 * meantAsAddress("::1");        // true
 * meantAsAddress("alice.2");    // false
 * ```
 */
export function meantAsAddress(text: string): boolean {
  return text.includes(":") || text.includes("/") || /^[\d.]*\.[\d.]*$/.test(text);
}

/**
 * Parses an address or CIDR range: IPv4 strictly dotted decimal (no leading zeros: some
 * tools read them as octal), IPv6 in any spelling (with an embedded IPv4 tail, in brackets),
 * `ADDRESS/PREFIX`. Host bits set under the prefix are cleared: `10.0.0.5/24` is
 * `10.0.0.0/24`. Throws {@link AddressError} with the reason.
 *
 * @example
 * ```ts
 * formatIp(parseIp("::FFFF:127.0.0.1")); // "127.0.0.1"
 * formatIp(parseIp("2001:db8:0:0::1/48")); // "2001:db8::/48"
 * ```
 */
export function parseIp(text: string): IpRange {
  const slash = text.indexOf("/");
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const { bits, v4 } = parseAddress(addressText);
  if (slash < 0) return { bits, prefix: 128 };
  const prefixText = text.slice(slash + 1);
  const max = v4 ? 32 : 128;
  if (!/^(0|[1-9]\d{0,2})$/.test(prefixText) || Number(prefixText) > max) {
    throw new AddressError(`the prefix length must be a whole number from 0 to ${max}`);
  }
  const prefix = Number(prefixText) + (v4 ? 96 : 0);
  return { bits: bits & mask(prefix), prefix };
}

/** The canonical text of a range: IPv4 dotted, IPv6 as RFC 5952 says; `/PREFIX` unless single. */
export function formatIp(range: IpRange): string {
  const { bits, prefix } = range;
  if (prefix >= 96 && (bits >> 32n) === 0xffffn) {
    const v4 = [24n, 16n, 8n, 0n].map((s) => String((bits >> s) & 0xffn)).join(".");
    return prefix === 128 ? v4 : `${v4}/${prefix - 96}`;
  }
  const groups = Array.from(
    { length: 8 },
    (_, i) => Number((bits >> BigInt(112 - 16 * i)) & 0xffffn),
  );
  // The longest run of two or more zero groups (the first of equals) becomes "::".
  let start = -1;
  let length = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > length) [start, length] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(":");
  const text = start < 0
    ? hex(groups)
    : `${hex(groups.slice(0, start))}::${hex(groups.slice(start + length))}`;
  return prefix === 128 ? text : `${text}/${prefix}`;
}

/** The canonical text of an address or range given in any spelling; throws {@link AddressError}. */
export function canonicalIp(text: string): string {
  return formatIp(parseIp(text));
}

/**
 * The address of a connection, from Deno's `remoteAddr.hostname` (`::ffff:127.0.0.1`) or a
 * peer's `host:port` (`[::1]:5000`, `127.0.0.1:5000`); a zone is ignored. `undefined` when
 * it is not an IP address. Never throws.
 */
export function hostAddress(text: string): IpRange | undefined {
  const host = /^\[(.*)\](:\d+)?$/.exec(text)?.[1] ??
    (/^[^:]*:\d+$/.test(text) ? text.slice(0, text.lastIndexOf(":")) : text);
  if (host.includes("/")) return undefined;
  try {
    return parseIp(host.replace(/%.*$/, ""));
  } catch {
    return undefined;
  }
}

/**
 * The key one source is counted under by per-address limits (connections, password tries):
 * an IPv4 address itself, an IPv6 address its /64, which one subscriber usually holds whole
 * (counting each of its addresses apart would let one attacker count as billions).
 *
 * @example
 * ```ts
 * sourceKey("::ffff:10.0.0.7");        // "10.0.0.7"
 * sourceKey("[2001:db8:1:2:3::9]:5000"); // "2001:db8:1:2::/64"
 * ```
 */
export function sourceKey(text: string): string {
  const address = hostAddress(text);
  if (!address) return text;
  const v4 = (address.bits >> 32n) === 0xffffn && address.prefix === 128;
  if (v4) return formatIp(address);
  return formatIp({ bits: address.bits & mask(64), prefix: Math.min(64, address.prefix) });
}

/** Whether `range` holds all of `address` (a single address, or a narrower range). */
export function contains(range: IpRange, address: IpRange): boolean {
  return address.prefix >= range.prefix && (address.bits & mask(range.prefix)) === range.bits;
}

/** The mask of the first `prefix` bits of 128. */
function mask(prefix: number): bigint {
  return ALL ^ ((1n << BigInt(128 - prefix)) - 1n);
}

/** One address, as 128 bits; `v4` when it was written as IPv4 (its prefix counts 32 bits). */
function parseAddress(text: string): { bits: bigint; v4: boolean } {
  if (text.includes(":")) {
    const bare = /^\[(.*)\]$/.exec(text)?.[1] ?? text;
    if (bare.includes("%")) throw new AddressError("a zone (the part after %) is not allowed");
    return { bits: parseV6(bare.toLowerCase()), v4: false };
  }
  return { bits: V4_MAPPED | parseV4(text), v4: true };
}

/** A dotted-decimal IPv4 address as 32 bits. */
function parseV4(text: string): bigint {
  const parts = text.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p))) {
    throw new AddressError(V4_SHAPE);
  }
  let bits = 0n;
  for (const p of parts) {
    if (p.length > 1 && p.startsWith("0")) {
      throw new AddressError(`"${p}" has a leading zero, which some tools read as octal`);
    }
    if (Number(p) > 255) throw new AddressError(`"${p}" is more than 255`);
    bits = (bits << 8n) | BigInt(p);
  }
  return bits;
}

/** An IPv6 address (lower case, no brackets) as 128 bits. */
function parseV6(text: string): bigint {
  const halves = text.split("::");
  if (halves.length > 2) throw new AddressError(":: may appear only once in an IPv6 address");
  const [head, tail] = halves.map((h) => (h === "" ? [] : h.split(":")));
  const groups = tail === undefined ? head : [...head, ...tail];
  // An IPv4 tail may only end the text: "1.2.3.4::" is not an address.
  const v4At = tail?.length === 0 ? -1 : groups.length - 1;
  const words: bigint[] = [];
  for (const [i, g] of groups.entries()) {
    if (i === v4At && g.includes(".")) {
      const v4 = parseV4(g);
      words.push(v4 >> 16n, v4 & 0xffffn);
    } else if (/^[0-9a-f]{1,4}$/.test(g)) {
      words.push(BigInt(`0x${g}`));
    } else {
      throw new AddressError(V6_SHAPE);
    }
  }
  if (tail === undefined ? words.length !== 8 : words.length > 7) {
    throw new AddressError(V6_SHAPE);
  }
  const missing = 8 - words.length;
  const full = tail === undefined
    ? words
    : [...words.slice(0, head.length), ...Array(missing).fill(0n), ...words.slice(head.length)];
  return full.reduce((bits, w) => (bits << 16n) | w, 0n);
}
