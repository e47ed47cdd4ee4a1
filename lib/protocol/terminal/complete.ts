// Tab completion over plain data: the word before the cursor is completed from the
// command table (first word starting with /) or from the names online. Pure; keeping
// the list of names up to date is left to the chat client.

import { COMMAND_NAMES, COMMANDS, isOperatorCommand } from "../commands.ts";

/** What Tab does. */
export type Completion =
  /** Nothing matches: ring the bell. */
  | { kind: "none" }
  /** The text before the cursor becomes `before`. */
  | { kind: "replace"; before: string }
  /** Several candidates share no longer prefix: show them. */
  | { kind: "list"; options: string[] };

/** Every command word Tab offers, with its slash: names and aliases, no operator commands. */
export const COMMAND_WORDS: readonly string[] = COMMAND_NAMES
  .filter((n) => !isOperatorCommand(n))
  .flatMap((n) => [n, ...COMMANDS[n].aliases])
  .map((w) => `/${w}`)
  .sort();

function commonPrefix(words: string[]): string {
  let prefix = words[0];
  for (const w of words) {
    let i = 0;
    while (i < prefix.length && i < w.length && prefix[i].toLowerCase() === w[i].toLowerCase()) i++;
    prefix = prefix.slice(0, i);
  }
  return prefix;
}

/**
 * Completes the word that ends at the cursor. Commands complete when the word is the
 * first on the line and starts with `/`; any other word completes to a name online.
 * Matching ignores case. A single match gets a space after it.
 *
 * @example
 * ```ts
 * complete("/ni", ["alice"]);       // { kind: "replace", before: "/nick " }
 * complete("/pm al", ["alice"]);    // { kind: "replace", before: "/pm alice " }
 * ```
 */
export function complete(before: string, names: Iterable<string>): Completion {
  const m = /^(.*?)([^\s,]*)$/s.exec(before)!;
  const [, head, word] = m;
  if (word === "") return { kind: "none" };
  const pool = head.trim() === "" && word.startsWith("/") ? COMMAND_WORDS : [...names];
  const lower = word.toLowerCase();
  const matches = [...new Set(pool.filter((c) => c.toLowerCase().startsWith(lower)))];
  if (matches.length === 0) return { kind: "none" };
  if (matches.length === 1) return { kind: "replace", before: `${head}${matches[0]} ` };
  const prefix = commonPrefix(matches);
  if (prefix.length > word.length) return { kind: "replace", before: head + prefix };
  return { kind: "list", options: matches.sort() };
}
