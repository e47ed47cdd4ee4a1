// The one command table and the parser over it, shared by the server and the client.
// parseInput() turns a line into a typed command, a plain chat line or a usage error;
// what a command does is left to its handler (the hub's, or the client's).

/**
 * Arguments a command's parser produced; `null` when they do not fit its usage, an
 * {@link ArgumentProblem} when they fit but a value is wrong.
 */
type ArgParser<T> = (rest: string) => T | ArgumentProblem | null;

interface Spec<T> {
  /** Other names that run the same command (seed syntaxes); kept out of the help list. */
  readonly aliases: readonly string[];
  /** Usage line shown in help and in usage errors. */
  readonly usage: string;
  /** One line saying what the command does. */
  readonly help: string;
  /** Works before the connection has a name. */
  readonly beforeName?: boolean;
  /** Only operators (the server console) may run it. */
  readonly operator?: boolean;
  readonly parse: ArgParser<T>;
}

/** Removes one pair of surrounding double quotes: `/dm bob "hi"` sends `hi` (seed 001). */
export function unquote(text: string): string {
  return text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
}

/** Splits `rest` into its first word and the trimmed remainder. */
function splitWord(rest: string): [string, string] {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(rest);
  return m ? [m[1], m[2]] : ["", ""];
}

/** Optional message text: `undefined` means "the next line is the message" (seed 000). */
function optionalText(text: string): string | undefined {
  const t = unquote(text.trim());
  return t === "" ? undefined : t;
}

/** Parses `U1, U2, U3 TEXT` (commas with or without spaces) into names and text. */
function parseTargets(rest: string): { to: string[]; text?: string } | null {
  const to: string[] = [];
  let s = rest.trimStart();
  for (;;) {
    const m = /^([^\s,]+)\s*(,?)\s*/.exec(s);
    if (!m) break;
    to.push(m[1]);
    s = s.slice(m[0].length);
    if (m[2] !== ",") break;
  }
  if (to.length === 0) return null;
  return { to, text: optionalText(s) };
}

function spec<T>(s: Spec<T>): Spec<T> {
  return s;
}

const DURATION = /^(\d+)(s|m|h|d)$/i;
/** A word that was meant as a duration: a number, with or without one letter after it. */
const DURATION_LIKE = /^[+-]?[\d.,]+[a-z]?$/i;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DAY_MS = UNIT_MS.d;

/** The longest duration a /ban or /mute takes: 3650 days (ten years); longer is for good. */
export const MAX_DURATION_MS = 3650 * DAY_MS;

/**
 * A duration like `30s`, `10m`, `2h` or `7d` in milliseconds, or `undefined` if `text`
 * is not one. Huge counts give huge numbers (or Infinity), never NaN: check the range.
 */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2].toLowerCase()] : undefined;
}

/** Arguments that are there but wrong: the parser's one-line reason. */
export class ArgumentProblem {
  constructor(readonly message: string) {}
}

/** `/ban TARGET [DURATION] [REASON]` and `/mute TARGET [DURATION] [REASON]`. */
function parseSanction(
  rest: string,
): { target: string; ms?: number; reason?: string } | ArgumentProblem | null {
  const [target, after] = splitWord(rest);
  if (!target) return null;
  const [maybe, tail] = splitWord(after);
  const ms = parseDuration(maybe);
  if (
    ms === undefined && DURATION_LIKE.test(maybe) ||
    ms !== undefined && !(ms >= 1000 && ms <= MAX_DURATION_MS)
  ) {
    return new ArgumentProblem(
      `invalid duration "${maybe}": use a whole number and s, m, h or d, from 1s to ${
        MAX_DURATION_MS / DAY_MS
      }d (or none: for good)`,
    );
  }
  const reason = (ms === undefined ? after : tail).trim() || undefined;
  return { target, ms, reason };
}

/** A password: the rest of the line (it may hold spaces). */
function password(rest: string): { password: string } | null {
  const text = rest.trim();
  return text ? { password: text } : null;
}

/** One required word (a name, a target) and nothing else. */
function oneWord<K extends string>(key: K): ArgParser<Record<K, string>> {
  return (rest) => {
    const [word, extra] = splitWord(rest);
    return word && !extra ? { [key]: word } as Record<K, string> : null;
  };
}

/** Every command: the single source of dispatch, help, usage errors and completion. */
export const COMMANDS = {
  help: spec({
    aliases: ["cmd", "commands"],
    usage: "/help [COMMAND]",
    help: "list the commands, or show one command's help",
    beforeName: true,
    parse: (rest) => ({ topic: splitWord(rest)[0].replace(/^\//, "") || undefined }),
  }),
  users: spec({
    aliases: ["who", "allusers", "names"],
    usage: "/users [#ROOM|*]",
    help: "list the names in your room or another, with the count (* for everyone online)",
    parse: (rest) => {
      const arg = rest.trim();
      if (arg === "" || arg === "*") return { everyone: arg === "*" };
      return arg.startsWith("#") && !/\s/.test(arg) ? { everyone: false, room: arg } : null;
    },
  }),
  pm: spec({
    aliases: ["dm", "private", "msg", "tell", "whisper"],
    usage: "/pm USER|#ROOM [TEXT]",
    help: "send a private message, or speak in a room you are in (no text: the next line)",
    // `notice` comes only from a JSON request (see notice()).
    parse: (rest): { to: string; text?: string; notice?: true } | null => {
      const [to, text] = splitWord(rest);
      return to ? { to, text: optionalText(text) } : null;
    },
  }),
  groupmessage: spec({
    aliases: ["gm", "group"],
    usage: "/groupmessage USER1, USER2, ... [TEXT]",
    help: "send a message to the listed users only",
    parse: parseTargets,
  }),
  sendall: spec({
    aliases: ["bc", "all", "broadcast", "say"],
    usage: "/sendall [TEXT]",
    help: "send a message to everyone (a line without a / does the same)",
    parse: (rest): { text?: string; notice?: true } => ({ text: optionalText(rest) }),
  }),
  changeusername: spec({
    aliases: ["nick", "setname", "rename"],
    usage: "/changeusername NAME [PASSWORD]",
    help: "choose your name, or change it (a registered name needs its password)",
    beforeName: true,
    parse: (rest) => {
      const [nick, after] = splitWord(rest);
      const [password, extra] = splitWord(after);
      return nick && !extra ? { nick, password: password || undefined } : null;
    },
  }),
  disconnect: spec({
    aliases: ["quit", "exit", "bye"],
    usage: "/disconnect [REASON]",
    help: "leave the chat and close the connection (others see the reason)",
    beforeName: true,
    parse: (rest) => ({ reason: rest.trim() || undefined }),
  }),
  join: spec({
    aliases: ["j"],
    usage: "/join #ROOM",
    help: "join a room and talk there, staying in the others (made if it does not exist)",
    parse: (rest) => {
      const [room, extra] = splitWord(rest);
      return room && !extra ? { room: room.startsWith("#") ? room : `#${room}` } : null;
    },
  }),
  part: spec({
    aliases: ["leave"],
    usage: "/part [#ROOM] [REASON]",
    help: "leave a room (yours now by default); the one you used last is yours then",
    parse: (rest) => {
      const text = rest.trimStart();
      const [room, reason] = text.startsWith("#") ? splitWord(text) : ["", text];
      return { room: room || undefined, reason: reason.trim() || undefined };
    },
  }),
  rooms: spec({
    aliases: ["list", "channels"],
    usage: "/rooms",
    help: "list the rooms with their member counts and topics; > yours now, + joined",
    parse: () => ({}),
  }),
  topic: spec({
    aliases: [],
    usage: "/topic [TEXT|-delete]",
    help: "show the topic of your room, set it, or remove it (-delete)",
    parse: (rest) => {
      const text = rest.trim() || undefined;
      const remove = text?.toLowerCase() === "-delete";
      return { text: remove ? undefined : text, remove };
    },
  }),
  me: spec({
    aliases: ["action"],
    usage: "/me ACTION",
    help: "say what you do: /me waves shows * NAME waves",
    parse: (rest) => rest.trim() ? { text: rest.trim() } : null,
  }),
  away: spec({
    aliases: ["afk"],
    usage: "/away [REASON]",
    help: "mark yourself away; private messages to you tell the sender why",
    parse: (rest) => ({ reason: rest.trim() || undefined }),
  }),
  back: spec({
    aliases: [],
    usage: "/back",
    help: "you are no longer away",
    parse: () => ({}),
  }),
  whois: spec({
    aliases: ["wi"],
    usage: "/whois NAME",
    help: "a user's rooms, since when, how long idle, whether away",
    parse: oneWord("user"),
  }),
  ignore: spec({
    aliases: [],
    usage: "/ignore [NAME]",
    help: "stop seeing a user's messages (they are not told); alone: list who you ignore",
    parse: (rest) => {
      const [user, extra] = splitWord(rest);
      return extra ? null : { user: user || undefined };
    },
  }),
  unignore: spec({
    aliases: [],
    usage: "/unignore NAME",
    help: "see a user's messages again",
    parse: oneWord("user"),
  }),
  reply: spec({
    aliases: ["r"],
    usage: "/reply [TEXT]",
    help: "answer whoever last sent you a private message",
    parse: (rest) => ({ text: optionalText(rest) }),
  }),
  motd: spec({
    aliases: [],
    usage: "/motd [TEXT]",
    help: "show the message of the day; operators: set it",
    parse: (rest) => ({ text: rest.trim() || undefined }),
  }),
  pass: spec({
    aliases: ["password"],
    usage: "/pass PASSWORD",
    help: "give the password the server asks for (its own, or a registered name's)",
    beforeName: true,
    parse: password,
  }),
  register: spec({
    aliases: [],
    usage: "/register PASSWORD",
    help: "own your current name: taking it will need this password",
    parse: password,
  }),
  unregister: spec({
    aliases: [],
    usage: "/unregister",
    help: "release your name, so anyone may take it",
    parse: () => ({}),
  }),
  op: spec({
    aliases: ["oper"],
    usage: "/op PASSWORD",
    help: "become an operator with the operator password",
    parse: password,
  }),
  proto: spec({
    aliases: [],
    usage: "/proto text|json",
    help: "switch this connection to plain text or JSON Lines (for programs)",
    beforeName: true,
    parse: (rest) => {
      const mode = rest.trim().toLowerCase();
      return mode === "text" || mode === "json" ? { mode: mode as "text" | "json" } : null;
    },
  }),
  kick: spec({
    aliases: [],
    usage: "/kick NAME [REASON]",
    help: "disconnect a user (operators only)",
    operator: true,
    parse: (rest) => {
      const [user, reason] = splitWord(rest);
      return user ? { user, reason: reason.trim() || undefined } : null;
    },
  }),
  ban: spec({
    aliases: [],
    usage: "/ban NAME|IP|CIDR [DURATION] [REASON]",
    help:
      "refuse a name, an address or a range, for a time (30s, 10m, 2h, 7d) or for good (operators only)",
    operator: true,
    parse: parseSanction,
  }),
  unban: spec({
    aliases: [],
    usage: "/unban NAME|IP|CIDR",
    help: "lift a ban (operators only)",
    operator: true,
    parse: oneWord("target"),
  }),
  banned: spec({
    aliases: ["bans"],
    usage: "/banned",
    help: "list the bans (operators only)",
    operator: true,
    parse: () => ({}),
  }),
  purge: spec({
    aliases: [],
    usage: "/purge [#ROOM] [history|topic]",
    help: "forget a room's history and topic, or only one (operators only)",
    operator: true,
    parse: (rest) => {
      const words = rest.trim().split(/\s+/).filter((w) => w !== "");
      const parts = ["all", "history", "topic"];
      const word = words[0] !== undefined && !parts.includes(words[0].toLowerCase())
        ? words.shift()!
        : undefined;
      const room = word === undefined || word.startsWith("#") ? word : `#${word}`;
      const what = words.shift()?.toLowerCase() ?? "all";
      if (words.length > 0 || (what !== "all" && what !== "history" && what !== "topic")) {
        return null;
      }
      return { room, what: what as "all" | "history" | "topic" };
    },
  }),
  mute: spec({
    aliases: [],
    usage: "/mute NAME|IP|CIDR [DURATION] [REASON]",
    help:
      "silence a user (name and address) or a range, for a time or until /unmute (operators only)",
    operator: true,
    parse: parseSanction,
  }),
  unmute: spec({
    aliases: [],
    usage: "/unmute NAME|IP|CIDR",
    help: "let a muted user send again (operators only)",
    operator: true,
    parse: oneWord("target"),
  }),
} as const;

type Table = typeof COMMANDS;
/** The canonical name of a command. */
export type CommandName = keyof Table;
/** A parsed command: its canonical name and typed arguments. */
export type Command = {
  [K in CommandName]:
    & { name: K }
    & Exclude<NonNullable<ReturnType<Table[K]["parse"]>>, ArgumentProblem>;
}[CommandName];
/** The parsed command whose name is `K`. */
export type CommandOf<K extends CommandName> = Extract<Command, { name: K }>;

/** What one input line means. */
export type Input =
  | { kind: "command"; command: Command }
  /** A plain line: chat to everyone (or, before a name is chosen, the name). */
  | { kind: "text"; text: string }
  | { kind: "empty" }
  | { kind: "error"; message: string; usage?: string; code?: "unknown-user" };

/** Every canonical command name, in table order. */
export const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];

const BY_ALIAS: ReadonlyMap<string, CommandName> = new Map(
  COMMAND_NAMES.flatMap((name) => [
    [name, name] as const,
    ...COMMANDS[name].aliases.map((a) => [a, name] as const),
  ]),
);

/** Finds a command by its name or any alias, ignoring case and a leading `/`. */
export function lookupCommand(word: string): CommandName | undefined {
  return BY_ALIAS.get(word.replace(/^\//, "").toLowerCase());
}

/** Options for {@link parseInput}. */
export interface ParseOptions {
  /**
   * Tells whether a name is online, for the `USER:TEXT` form (seed 002); without it that
   * form stays a plain line for the server to judge.
   */
  isUser?: (name: string) => boolean;
}

function runCommand(name: CommandName, rest: string): Input {
  const spec = COMMANDS[name] as Spec<object>;
  const args = spec.parse(rest);
  if (args === null) {
    return { kind: "error", message: `usage: ${spec.usage}`, usage: spec.usage };
  }
  if (args instanceof ArgumentProblem) {
    return { kind: "error", message: args.message, usage: spec.usage };
  }
  return { kind: "command", command: { name, ...args } as Command };
}

const SEED_002_PREFIX = /^server:\s*(\S*)\s*([\s\S]*)$/i;
/**
 * The private form `USER:TEXT` (seed 002): a name with a letter in it, a colon, then no space
 * and no `/` (`12:30`, `http://...` are not it). `USER: TEXT`, with a space, is addressing:
 * an ordinary line to the room.
 */
const ADDRESSED = /^([A-Za-z0-9_.-]*[A-Za-z][A-Za-z0-9_.-]*):(?![\s/])([\s\S]*)$/;

/**
 * Parses one input line into a command, a chat line, or a usage error. Never throws.
 *
 * @example
 * ```ts
 * parseInput("/PM bob hi");   // { kind: "command", command: { name: "pm", to: "bob", text: "hi" } }
 * parseInput("hello");        // { kind: "text", text: "hello" }
 * parseInput("/pm");          // { kind: "error", message: "usage: /pm USER [TEXT]", ... }
 * ```
 */
export function parseInput(line: string, options: ParseOptions = {}): Input {
  const trimmed = line.trim();
  if (trimmed === "") return { kind: "empty" };
  if (trimmed.startsWith("//")) return { kind: "text", text: trimmed.slice(1) };
  if (trimmed.startsWith("/")) {
    const [word, rest] = splitWord(trimmed.slice(1));
    const name = lookupCommand(word);
    if (!name) {
      return {
        kind: "error",
        message: word
          ? `unknown command /${word} (try /help)`
          : "a command name must follow / (try /help)",
      };
    }
    return runCommand(name, rest);
  }
  const bare = trimmed.toLowerCase();
  if (bare === "who") return runCommand("users", "");
  if (bare === "exit") return runCommand("disconnect", "");
  const seed = SEED_002_PREFIX.exec(trimmed);
  if (seed) {
    const verb = seed[1].toLowerCase();
    if (verb === "who") return runCommand("users", "");
    if (verb === "exit") return runCommand("disconnect", "");
    if (verb === "register") return runCommand("changeusername", seed[2]);
    return { kind: "error", message: "server: takes who, exit or register NAME" };
  }
  const addressed = options.isUser && ADDRESSED.exec(trimmed);
  if (addressed) {
    // Meant for one person: never sent to everyone because the name is wrong or gone.
    if (options.isUser!(addressed[1])) return runCommand("pm", `${addressed[1]} ${addressed[2]}`);
    return {
      kind: "error",
      code: "unknown-user",
      message: `no user named ${
        addressed[1]
      } is online (NAME:TEXT is private); // at the start sends the line to everyone as it is`,
    };
  }
  return { kind: "text", text: trimmed };
}

/**
 * How wide help lines are: an 80-column screen less the client's `HH:MM ` time prefix, so
 * help never wraps in the client or in telnet.
 */
export const HELP_COLUMNS = 72;

/** The seed forms that are not `/` commands, typed as they are, for `/help aliases`. */
const SEED_FORMS: Partial<Record<CommandName, string[]>> = {
  users: ["who", "server: who"],
  pm: ["Bob:Hi (NAME:TEXT)"],
  changeusername: ["server: register NAME"],
  disconnect: ["exit", "server: exit"],
};

/**
 * Help that fits one 80x24 screen, in lines of at most {@link HELP_COLUMNS} broken between
 * words: every command's usage, several to a line (no topic); every alias and seed form
 * (`aliases`); or one command's usage, help and aliases (a command or alias name).
 */
export function helpLines(topic?: string): string[] {
  if (topic === undefined) {
    const usages = (operator: boolean) =>
      COMMAND_NAMES.filter((n) => isOperatorCommand(n) === operator).map((n) => COMMANDS[n].usage);
    return [
      "commands (case-insensitive; /help COMMAND for one, /help aliases for",
      "other names; a line without / is sent to everyone in your room):",
      ...fill(usages(false), "  ", "   ", "  "),
      "operators only:",
      ...fill(usages(true), "  ", "   ", "  "),
    ];
  }
  if (topic.toLowerCase() === "aliases") {
    return [
      "other names for the commands, and the seed forms (typed as they are):",
      ...COMMAND_NAMES.flatMap((n) => {
        const forms = [...COMMANDS[n].aliases.map((a) => `/${a}`), ...SEED_FORMS[n] ?? []];
        return forms.length === 0 ? [] : fill(forms, `  /${n}: `, ", ", "      ");
      }),
    ];
  }
  const name = lookupCommand(topic);
  if (!name) return [`unknown command /${topic} (try /help)`];
  const spec: Spec<unknown> = COMMANDS[name];
  const aliases = spec.aliases.map((a) => `/${a}`);
  return [
    ...fill(`${spec.usage}: ${spec.help}`.split(" "), "", " ", "  "),
    ...aliases.length > 0 ? fill(aliases, "  also: ", ", ", "    ") : [],
  ];
}

/**
 * Packs `items` into lines of at most {@link HELP_COLUMNS}, joined by `gap`: the first line
 * starts with `first`, the next ones with `next`. An item is never broken.
 */
function fill(items: string[], first: string, gap: string, next: string): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const item of items) {
    if (!empty && line.length + gap.length + item.length > HELP_COLUMNS) {
      lines.push(line);
      line = next;
      empty = true;
    }
    line += empty ? item : gap + item;
    empty = false;
  }
  lines.push(line);
  return lines;
}

/** Whether `name` may run before a name is chosen. */
export function worksBeforeName(name: CommandName): boolean {
  return (COMMANDS[name] as Spec<unknown>).beforeName === true;
}

/** Whether `name` is for operators only. */
export function isOperatorCommand(name: CommandName): boolean {
  return (COMMANDS[name] as Spec<unknown>).operator === true;
}

/** The `id` of a JSON request, echoed on every event the request causes. */
export type RequestId = number | string;

/** What one JSON request line means: a command, or why it is refused; `id` when it had one. */
export type Request =
  | { kind: "command"; id?: RequestId; command: Command; room?: string }
  | { kind: "error"; id?: RequestId; code: "bad-request" | "unknown-command"; message: string };

/** A request's fields, read by name; each wrong one is noted, never thrown. */
class Fields {
  readonly problems: string[] = [];
  readonly #read = new Set(["id", "cmd"]);

  constructor(readonly obj: Record<string, unknown>, readonly clean: (s: string) => string) {}

  #get(key: string): unknown {
    this.#read.add(key);
    return this.obj[key];
  }

  /** A string field: any text, taken as it is (never parsed); not empty when present. */
  text(key: string): string;
  text(key: string, required: false): string | undefined;
  text(key: string, required = true): string | undefined {
    const v = this.#get(key);
    if (v === undefined && !required) return undefined;
    const text = typeof v === "string" ? this.clean(v) : "";
    if (text.trim() === "") {
      this.problems.push(`"${key}" must be a string with text`);
      return undefined;
    }
    return text;
  }

  /** One word (a name, a room, a target): a string with no space. */
  word(key: string): string;
  word(key: string, required: false): string | undefined;
  word(key: string, required = true): string | undefined {
    const v = this.#get(key);
    if (v === undefined && !required) return undefined;
    const word = typeof v === "string" ? this.clean(v) : "";
    if (!/^\S+$/.test(word)) {
      this.problems.push(`"${key}" must be one word`);
      return "";
    }
    return word;
  }

  /** A list of words, at least one. */
  words(key: string): string[] {
    const v = this.#get(key);
    const words = Array.isArray(v) && v.length > 0 && v.every((w) => typeof w === "string")
      ? v.map(this.clean)
      : [];
    if (words.length === 0 || !words.every((w) => /^\S+$/.test(w))) {
      this.problems.push(`"${key}" must be a list of names`);
    }
    return words;
  }

  /** A true/false field, false when absent. */
  flag(key: string): boolean {
    const v = this.#get(key);
    if (v !== undefined && typeof v !== "boolean") this.problems.push(`"${key}" must be a boolean`);
    return v === true;
  }

  /** A word that must be one of `choices`, or `fallback` when absent. */
  choice<T extends string>(key: string, choices: readonly T[], fallback?: T): T {
    const v = this.#get(key) ?? fallback;
    if (!choices.includes(v as T)) {
      this.problems.push(`"${key}" must be one of ${choices.join(", ")}`);
      return choices[0];
    }
    return v as T;
  }

  /** A duration like `10m` in milliseconds, or undefined when absent. */
  duration(key: string): number | undefined {
    const word = this.word(key, false);
    if (word === undefined) return undefined;
    const ms = parseDuration(word);
    if (ms === undefined || !(ms >= 1000 && ms <= MAX_DURATION_MS)) {
      this.problems.push(`"${key}" must be a duration from 1s to ${MAX_DURATION_MS / DAY_MS}d`);
    }
    return ms;
  }

  /** Fields nobody read: misspelt, or not this command's. */
  unknown(): string[] {
    return Object.keys(this.obj).filter((k) => !this.#read.has(k));
  }
}

/** A room field, `#` added when it is missing (as `/join dev` does). */
function roomField(f: Fields, required: boolean): string | undefined {
  const room = required ? f.word("room") : f.word("room", false);
  return room === undefined || room === "" || room.startsWith("#") ? room : `#${room}`;
}

/**
 * `notice: true` on `say` and `pm`: a message programs must never answer automatically (IRC's
 * NOTICE; two bots answering each other's messages would never stop). Absent when false.
 */
function notice(f: Fields): { notice?: true } {
  return f.flag("notice") ? { notice: true } : {};
}

/** Ban and mute: `target`, `duration` (`10m`; none: for good) and `reason`. */
function sanctionFields(f: Fields) {
  return { target: f.word("target"), ms: f.duration("duration"), reason: f.text("reason", false) };
}

/** One request form per command: its fields, read into the command's arguments. */
const REQUESTS: { [K in CommandName]: (f: Fields) => Omit<CommandOf<K>, "name"> } = {
  help: (f) => ({ topic: f.word("topic", false) }),
  users: (f) => {
    const everyone = f.flag("everyone");
    const room = roomField(f, false);
    if (everyone && room !== undefined) f.problems.push(`give "room" or "everyone", not both`);
    return { everyone, room };
  },
  pm: (f) => ({ to: f.word("to"), text: f.text("text"), ...notice(f) }),
  groupmessage: (f) => ({ to: f.words("to"), text: f.text("text") }),
  sendall: (f) => ({ text: f.text("text"), ...notice(f) }),
  changeusername: (f) => ({ nick: f.word("nick"), password: f.text("password", false) }),
  disconnect: (f) => ({ reason: f.text("reason", false) }),
  join: (f) => ({ room: roomField(f, true)! }),
  part: (f) => ({ room: roomField(f, false), reason: f.text("reason", false) }),
  rooms: () => ({}),
  topic: (f) => {
    const remove = f.flag("remove");
    const text = f.text("text", false);
    if (remove && text !== undefined) f.problems.push(`give "text" or "remove", not both`);
    return { text, remove };
  },
  me: (f) => ({ text: f.text("text") }),
  away: (f) => ({ reason: f.text("reason", false) }),
  back: () => ({}),
  whois: (f) => ({ user: f.word("user") }),
  ignore: (f) => ({ user: f.word("user", false) }),
  unignore: (f) => ({ user: f.word("user") }),
  reply: (f) => ({ text: f.text("text") }),
  motd: (f) => ({ text: f.text("text", false) }),
  pass: (f) => ({ password: f.text("password") }),
  register: (f) => ({ password: f.text("password") }),
  unregister: () => ({}),
  op: (f) => ({ password: f.text("password") }),
  proto: (f) => ({ mode: f.choice("mode", ["text", "json"] as const) }),
  kick: (f) => ({ user: f.word("user"), reason: f.text("reason", false) }),
  ban: sanctionFields,
  unban: (f) => ({ target: f.word("target") }),
  banned: () => ({}),
  purge: (f) => ({
    room: roomField(f, false),
    what: f.choice("what", ["all", "history", "topic"] as const, "all"),
  }),
  mute: sanctionFields,
  unmute: (f) => ({ target: f.word("target") }),
};

/**
 * Parses a JSON request (JSON mode): `{"id":7,"cmd":"pm","to":"bob","text":"hi"}`. `cmd` is a
 * command's name or alias, its arguments are fields named as in {@link Command} (`duration`
 * for /ban and /mute), and no text in it is ever read as a command or an address. `say` and
 * `me` take a `room`, which must be the sender's. `clean` runs over every string (the hub's
 * sanitizer: JSON escapes can spell control characters). Never throws.
 *
 * @example
 * ```ts
 * parseRequest('{"id":7,"cmd":"say","text":"/not a command"}');
 * // { kind: "command", id: 7, command: { name: "sendall", text: "/not a command" } }
 * ```
 */
export function parseRequest(line: string, clean: (s: string) => string = (s) => s): Request {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    return { kind: "error", code: "bad-request", message: "bad request: not valid JSON" };
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    return { kind: "error", code: "bad-request", message: "bad request: not a JSON object" };
  }
  const fields = obj as Record<string, unknown>;
  const raw = fields.id;
  const id = typeof raw === "number" && Number.isSafeInteger(raw) ||
      typeof raw === "string" && /^[\x20-\x7e]{1,64}$/.test(raw)
    ? raw
    : undefined;
  const fail = (code: "bad-request" | "unknown-command", message: string): Request =>
    id === undefined ? { kind: "error", code, message } : { kind: "error", id, code, message };
  if (raw !== undefined && id === undefined) {
    return fail(
      "bad-request",
      'bad request: "id" must be a whole number or up to 64 printable ASCII characters',
    );
  }
  if (typeof fields.cmd !== "string") {
    return fail("bad-request", 'bad request: "cmd" must name a command (try "help")');
  }
  const name = lookupCommand(fields.cmd);
  if (!name) return fail("unknown-command", `unknown cmd "${clean(fields.cmd)}" (try "help")`);
  const f = new Fields(fields, clean);
  const room = name === "sendall" || name === "me" ? roomField(f, false) : undefined;
  const args = REQUESTS[name](f);
  const unknown = f.unknown();
  if (unknown.length > 0) f.problems.push(`unknown field "${clean(unknown[0])}"`);
  if (f.problems.length > 0) {
    return fail("bad-request", `bad request (${name}): ${f.problems.join("; ")}`);
  }
  const command = { name, ...args } as Command;
  return {
    kind: "command",
    ...(id === undefined ? {} : { id }),
    command,
    ...(room === undefined ? {} : { room }),
  };
}
