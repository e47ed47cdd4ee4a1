// Name rules: which names are well formed, which are reserved, and how names compare
// (by case and by look-alike letters, so `aIice` and `a1ice` are `alice`). The hub keeps
// the registry of names in use and the store the accounts; this file only judges names.

import { meantAsAddress } from "./address.ts";

/** Names nobody may take: they would read as the server or as everyone. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  "server",
  "all",
  "everyone",
  "admin",
  "administrator",
  "root",
  "system",
  "operator",
  "op",
  "nobody",
  "here",
  "channel",
  "who",
  "exit",
  "me",
  "you",
]);

/**
 * A name's characters: also a valid IRC nick (no `.`, which IRC keeps for server names), so
 * IRC users and the others share one set of names.
 */
const NAME_CHARS = /^[A-Za-z0-9_-]+$/;
/** A room's characters after its `#` (IRC channel names may hold `.`). */
const ROOM_CHARS = /^[A-Za-z0-9_.-]+$/;

/**
 * Unicode TR39 confusables.txt maps four characters names may contain: `0` to `O`, `1` and
 * `I` to `l`, `m` to `rn` (and nothing else in `[A-Za-z0-9_.-]`: no `vv`, `cl` or `5`), and
 * `|` to `l`. Here they are closed under case: `I` is `l` and also `i`, so `i` and `l` share
 * a key, as do `0`, `O` and `o`.
 */
const LOOK_ALIKES: Readonly<Record<string, string>> = {
  "0": "o",
  "1": "l",
  "|": "l",
  i: "l",
  m: "rn",
};

/**
 * The key under which a name is unique: its TR39-style confusable skeleton, ignoring case.
 * Idempotent: `nameKey(nameKey(x)) === nameKey(x)`. Rooms are keyed the same way.
 *
 * @example
 * ```ts
 * nameKey("aIice") === nameKey("alice"); // true (also a1ice, ALICE, AL1CE)
 * nameKey("rnoe") === nameKey("moe");    // true
 * ```
 */
export function nameKey(name: string): string {
  return name.toLowerCase().replace(/[01|im]/g, (c) => LOOK_ALIKES[c]);
}

/** Whether `a` and `b` are different names (not just in case) that share a key. */
export function looksAlike(a: string, b: string): boolean {
  return a.toLowerCase() !== b.toLowerCase() && nameKey(a) === nameKey(b);
}

const RESERVED_KEYS: ReadonlySet<string> = new Set([...RESERVED_NAMES].map(nameKey));

/**
 * Why `name` cannot be used, or `undefined` when it is acceptable.
 *
 * @example
 * ```ts
 * nameProblem("alice", 24); // undefined
 * nameProblem("a b", 24);   // "a name may only contain letters, digits, _ and -"
 * ```
 */
export function nameProblem(name: string, maxLength: number): string | undefined {
  if (name.length === 0) return "a name cannot be empty";
  if (name.length > maxLength) return `a name can be at most ${maxLength} characters`;
  if (!NAME_CHARS.test(name)) return "a name may only contain letters, digits, _ and -";
  if (RESERVED_KEYS.has(nameKey(name))) return `"${name}" is reserved`;
  if (isIpAddress(name)) return "a name cannot look like an IP address";
  return undefined;
}

/**
 * Whether `text` was meant as an IP address or range, valid or not (address.ts decides;
 * /ban tells names from addresses the same way), so no name can look like one.
 */
export function isIpAddress(text: string): boolean {
  return meantAsAddress(text);
}

/**
 * Why `room` cannot be a room name, or `undefined`: a `#` and then a name by the name
 * rules (reserved names are fine for rooms).
 */
export function roomProblem(room: string, maxLength: number): string | undefined {
  if (!room.startsWith("#")) return "a room name starts with #";
  const rest = room.slice(1);
  if (rest.length === 0) return "a room name needs something after #";
  if (rest.length > maxLength) return `a room name can be at most ${maxLength} characters after #`;
  if (!ROOM_CHARS.test(rest)) return "a room name may only contain letters, digits, _, - and .";
  return undefined;
}
