// One connection's telnet side, between the socket's bytes and the line framer: negotiation
// (negotiation.ts) answered, character mode (char_mode.ts) once the client lets the server
// echo, AYT and IP acted on, a password line hidden, and TIMING-MARK probes that show a peer
// is there. Lines and their meaning stay the hub's; the session owns the socket and timers.

import type { FramerSink, LineFramer } from "../../protocol/framing.ts";
import { CharMode } from "./char_mode.ts";
import {
  AYT,
  EC,
  ECHO,
  EL,
  IAC,
  IP,
  NAWS,
  Negotiation,
  SGA,
  type TelnetSink,
} from "./negotiation.ts";

const CR = 0x0d;
const LF = 0x0a;
const BS = 0x08;
const DEL = 0x7f;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** The answer to Are You There, a line of its own. */
const HERE = encoder.encode("[yes]\r\n");
/** Ends a hidden line the peer did not echo, so what follows starts on a line of its own. */
const NEWLINE = encoder.encode("\r\n");
/**
 * Around a proposal to a client not known to speak telnet: an empty OSC string, which
 * terminals swallow whole, on a line of its own. A telnet client takes the IAC bytes out and
 * shows nothing; `nc` on a terminal shows nothing; a script reading lines sees one line.
 */
const HIDE_START = Uint8Array.of(0x1b, 0x5d);
const HIDE_END = Uint8Array.of(0x07, CR, LF);

/** How a connection's telnet side writes to its peer. */
export type LinkWrite = (bytes: Uint8Array) => void;

/** Settings for a {@link TelnetLink}. */
export interface LinkOptions {
  /** The longest line, in bytes, character mode lets the peer type. */
  maxLineBytes: number;
  /** The names Tab completes in character mode (none when absent). */
  names?: () => Iterable<string>;
}

/** What Tab completes without a list of names. */
const NO_NAMES = () => [];

/** The width assumed until the peer's NAWS says otherwise. */
const DEFAULT_COLUMNS = 80;

/**
 * The telnet side of one connection. Bytes in go through {@link push}; plain data goes on
 * to the framer.
 */
export class TelnetLink implements TelnetSink {
  /** Where plain data goes in line mode; set by the session once it reads. */
  framer: Pick<LineFramer, "push" | "clear" | "erase"> | undefined;
  /** Where lines typed in character mode go; set with `framer`. */
  lines: Pick<FramerSink, "line"> | undefined;
  readonly #write: LinkWrite;
  readonly #options: LinkOptions;
  /** Character mode, while the peer lets the server echo and edit the line. */
  #char: CharMode | undefined;
  #columns = DEFAULT_COLUMNS;
  /** Made at the first IAC either way: a client that never speaks telnet costs none. */
  #negotiation: Negotiation | undefined;
  /**
   * Whether the peer may be a telnet client: it has sent nothing yet, or ended a line with CR
   * (nc and most scripts end lines with LF alone).
   */
  #maybeTelnet = true;
  /** The last data byte, while that is in question (a CR before a chunk's first LF). */
  #last = 0;
  /** A proposal went to a peer not known to speak telnet (it happens once). */
  #proposed = false;
  /** Proposals being gathered to go out wrapped (see HIDE_START), while proposing. */
  #wrapped: Uint8Array[] | undefined;
  /** The next line the peer types is a password: not echoed, Backspace applied here. */
  #hidden = false;
  /** When the peer last answered a TIMING-MARK probe or sent anything (ms since the epoch). */
  #heard: number;
  /** The rooms the user is in, by name, and its active one: the prompt, and Ctrl+X's cycle. */
  #joined: readonly string[] = [];
  #active: string | undefined;

  constructor(write: LinkWrite, options: LinkOptions, now = Date.now()) {
    this.#write = write;
    this.#options = options;
    this.#heard = now;
  }

  /** Whether the peer speaks telnet (it has sent negotiation or a telnet command). */
  get telnet(): boolean {
    return this.#negotiation?.spoke ?? false;
  }

  /** When the peer last sent something (ms since the epoch). */
  get heard(): number {
    return this.#heard;
  }

  /** TIMING-MARK probes sent and not answered. */
  get probes(): number {
    return this.#negotiation?.probes ?? 0;
  }

  /** The negotiation, made on first use. */
  get #telnet(): Negotiation {
    return this.#negotiation ??= new Negotiation(this);
  }

  /** Whether the server edits the peer's line (character mode). */
  get charMode(): boolean {
    return this.#char !== undefined;
  }

  /** What the hub sends, as the peer is to get it: in character mode, above the input line. */
  outgoing(bytes: Uint8Array): Uint8Array {
    return this.#char ? this.#char.above(bytes) : bytes;
  }

  /** Feeds bytes read from the peer. */
  push(chunk: Uint8Array, now = Date.now()): void {
    this.#heard = now;
    if (this.#negotiation || chunk.indexOf(IAC) >= 0) this.#telnet.push(chunk);
    else this.data(chunk);
  }

  /**
   * Hides the next line the peer types (a password): the server says WILL ECHO and echoes
   * nothing, and says WONT ECHO once the line is in. False when the peer is not a telnet
   * client, or is one that did not answer before: the line will show as it is typed.
   */
  hideNextLine(): boolean {
    if (this.#char) {
      this.#char.hideNextLine();
      return true;
    }
    if (this.telnet) {
      this.#telnet.enable(ECHO);
    } else if (this.#maybeTelnet && !this.#proposed) {
      this.#propose();
    } else {
      return false;
    }
    this.#hidden = true;
    return true;
  }

  /**
   * Sends a TIMING-MARK probe to a telnet peer, which answers if it is there; false when the
   * peer does not speak telnet or has left too many probes unanswered.
   */
  probe(): boolean {
    return this.telnet && this.#telnet.probe();
  }

  /**
   * Debian's telnet on a port other than 23 says nothing until it must: the first proposal
   * is ours, made once (character mode: WILL ECHO, WILL SGA, DO NAWS), wrapped so that a
   * client that is not telnet shows nothing of it.
   */
  #propose(): void {
    this.#proposed = true;
    const wrapped: Uint8Array[] = this.#wrapped = [];
    this.#offerCharMode();
    this.#wrapped = undefined;
    const bytes = wrapped.flatMap((b) => [...b]);
    this.#write(Uint8Array.of(...HIDE_START, ...bytes, ...HIDE_END));
  }

  /** Asks for character mode and the window size. */
  #offerCharMode(): void {
    this.#telnet.enable(ECHO);
    this.#telnet.enable(SGA);
    this.#telnet.ask(NAWS);
  }

  /** Plain data from the peer: to the framer, a hidden line with its Backspaces applied. */
  data(bytes: Uint8Array): void {
    if (this.#char) {
      this.#char.feed(bytes);
      return;
    }
    if (this.#maybeTelnet) {
      // After the one proposal only a bare LF matters: nothing else is proposed again.
      this.#maybeTelnet = !bareLF(bytes, this.#last) &&
        (this.#proposed || !fromProgram(bytes, this.#last));
      // A line ended with CR: maybe telnet, which answers a proposal.
      if (
        this.#maybeTelnet && !this.#proposed && !this.telnet &&
        bytes.indexOf(CR) >= 0
      ) {
        this.#propose();
      }
    }
    if (bytes.length > 0) this.#last = bytes[bytes.length - 1];
    if (!this.#hidden) {
      this.framer!.push(bytes);
      return;
    }
    let start = 0;
    for (let i = 0; i < bytes.length && this.#hidden; i++) {
      const b = bytes[i];
      if (b === BS || b === DEL) {
        this.framer!.push(bytes.subarray(start, i));
        this.framer!.erase();
        start = i + 1;
      } else if (b === CR || b === LF) {
        // Echo back on before the line goes in: the answer to it may hide the next one.
        this.#reveal();
        this.framer!.push(bytes.subarray(start, i + 1));
        start = i + 1;
      }
    }
    this.framer!.push(bytes.subarray(start));
  }

  /**
   * Ends a hidden line: a new line for a peer that let us echo, and its own echo back. A peer
   * that never answered the proposal echoed the line itself and gets no telnet byte.
   */
  #reveal(): void {
    this.#hidden = false;
    if (!this.telnet) return;
    if (this.#telnet.local(ECHO)) this.#write(NEWLINE);
    this.#telnet.disable(ECHO);
  }

  send(bytes: Uint8Array): void {
    if (this.#wrapped) this.#wrapped.push(bytes);
    else this.#write(bytes);
  }

  command(code: number): void {
    if (code === AYT) this.#write(this.outgoing(HERE));
    else if (code === IP || code === EL) this.#char ? this.#char.clear() : this.framer!.clear();
    else if (code === EC && !this.#char) this.framer!.erase();
  }

  /** A telnet client that spoke first (port 23 style) is offered character mode too. */
  answered(mark: boolean): void {
    if (!mark && !this.#proposed) {
      this.#proposed = true;
      this.#offerCharMode();
    }
  }

  /** Character mode starts once the peer lets us echo and drop go-aheads; ends with echo. */
  changed(): void {
    const n = this.#telnet;
    if (!this.#char && n.local(ECHO) && n.local(SGA)) {
      const char = this.#char = new CharMode({
        cols: this.#columns,
        maxLineBytes: this.#options.maxLineBytes,
        names: this.#options.names ?? NO_NAMES,
      }, {
        line: (text) => this.lines!.line(text),
        draw: (bytes) => this.#write(bytes),
        nextRoom: () => this.#nextRoom(),
      });
      char.setPrompt(this.#prompt());
      this.#write(char.redraw());
      if (this.#hidden) {
        // A password prompt was waiting for this: character mode hides it now.
        this.#hidden = false;
        char.hideNextLine();
      }
    } else if (this.#char && !n.local(ECHO)) {
      this.#char = undefined;
    }
  }

  /**
   * The user's rooms changed: the prompt of character mode says the active one (`#dev> `,
   * `> ` in none), and Ctrl+X goes to the next room after it, by name.
   */
  rooms(active: string | undefined, joined: readonly string[]): void {
    this.#active = active;
    this.#joined = [...joined].sort((a, b) => a.localeCompare(b));
    this.#char?.setPrompt(this.#prompt());
  }

  #prompt(): string {
    return this.#active === undefined ? "> " : `${this.#active}> `;
  }

  /** Ctrl+X: a /join of the next room the user is in (nothing with one room or none). */
  #nextRoom(): void {
    const rooms = this.#joined;
    if (rooms.length < 2) return;
    const at = this.#active === undefined ? -1 : rooms.indexOf(this.#active);
    this.lines!.line(`/join ${rooms[(at + 1) % rooms.length]}`);
  }

  size(columns: number): void {
    if (columns <= 0) return;
    this.#columns = columns;
    this.#char?.resize(columns);
  }
}

/**
 * Whether a chunk starting a line is a program's: a JSON request or `/proto`. A bot ending its
 * lines with CRLF (as many IRC-minded scripts do) must never get a telnet byte in its stream.
 */
function fromProgram(bytes: Uint8Array, before: number): boolean {
  if (before !== 0 && before !== LF && before !== CR) return false;
  if (bytes[0] === 0x7b) return true;
  return /^\/proto\b/i.test(decoder.decode(bytes.subarray(0, 7)));
}

/** Whether `bytes` (after `before`) holds an LF without a CR before it. */
function bareLF(bytes: Uint8Array, before: number): boolean {
  for (let at = bytes.indexOf(LF); at >= 0; at = bytes.indexOf(LF, at + 1)) {
    if ((at === 0 ? before : bytes[at - 1]) !== CR) return true;
  }
  return false;
}
