// One connection's telnet side, between the socket's bytes and the line framer: negotiation
// (negotiation.ts) answered, AYT and IP acted on, a password line hidden with the server's
// ECHO, and TIMING-MARK probes that show a peer is there. Lines and their meaning stay the
// framer's and the hub's; the session owns the socket and the timers.

import type { LineFramer } from "../../protocol/framing.ts";
import { AYT, EC, ECHO, EL, IP, NAWS, Negotiation, type TelnetSink } from "./negotiation.ts";

const CR = 0x0d;
const LF = 0x0a;
const BS = 0x08;
const DEL = 0x7f;

const encoder = new TextEncoder();
/** The answer to Are You There, a line of its own. */
const HERE = encoder.encode("\r\n[yes]\r\n");
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

/**
 * The telnet side of one connection. Bytes in go through {@link push}; plain data goes on
 * to the framer.
 */
export class TelnetLink implements TelnetSink {
  /** Where plain data goes; set by the session once it reads. */
  framer: Pick<LineFramer, "push" | "clear" | "erase"> | undefined;
  readonly #write: LinkWrite;
  readonly #negotiation: Negotiation;
  /**
   * Whether the peer may be a telnet client: it has sent nothing yet, or ended a line with CR
   * (nc and most scripts end lines with LF alone).
   */
  #maybeTelnet = true;
  /** The last data byte, while that is in question (a CR before a chunk's first LF). */
  #last = 0;
  /** A proposal went to a peer not known to speak telnet (it happens once). */
  #proposed = false;
  /** Proposals now go out wrapped (see HIDE_START). */
  #wrapping = false;
  /** The next line the peer types is a password: not echoed, Backspace applied here. */
  #hidden = false;
  /** When the peer last answered a TIMING-MARK probe or sent anything (ms since the epoch). */
  #heard: number;

  constructor(write: LinkWrite, now = Date.now()) {
    this.#write = write;
    this.#negotiation = new Negotiation(this);
    this.#heard = now;
  }

  /** Whether the peer speaks telnet (it has sent negotiation or a telnet command). */
  get telnet(): boolean {
    return this.#negotiation.spoke;
  }

  /** When the peer last sent something (ms since the epoch). */
  get heard(): number {
    return this.#heard;
  }

  /** TIMING-MARK probes sent and not answered. */
  get probes(): number {
    return this.#negotiation.probes;
  }

  /** Feeds bytes read from the peer. */
  push(chunk: Uint8Array, now = Date.now()): void {
    this.#heard = now;
    this.#negotiation.push(chunk);
  }

  /**
   * Hides the next line the peer types (a password): the server says WILL ECHO and echoes
   * nothing, and says WONT ECHO once the line is in. False when the peer is not a telnet
   * client, or is one that did not answer before: the line will show as it is typed.
   */
  hideNextLine(): boolean {
    if (this.#negotiation.spoke) {
      this.#negotiation.enable(ECHO);
    } else if (this.#maybeTelnet && !this.#proposed) {
      this.#propose(() => this.#negotiation.enable(ECHO));
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
    return this.#negotiation.spoke && this.#negotiation.probe();
  }

  /**
   * Debian's telnet on a port other than 23 says nothing until it must: the first proposal
   * is ours, made once, wrapped so that a client that is not telnet shows nothing of it.
   */
  #propose(ask: () => void): void {
    this.#proposed = this.#wrapping = true;
    ask();
    this.#wrapping = false;
  }

  /** Plain data from the peer: to the framer, a hidden line with its Backspaces applied. */
  data(bytes: Uint8Array): void {
    if (this.#maybeTelnet) {
      this.#maybeTelnet = !bareLF(bytes, this.#last);
      // A line ended with CR: ask for the window size, which makes a telnet client speak.
      if (
        this.#maybeTelnet && !this.#proposed && !this.#negotiation.spoke &&
        bytes.indexOf(CR) >= 0
      ) {
        this.#propose(() => this.#negotiation.ask(NAWS));
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

  /** Ends a hidden line: a new line for the peer, and its own echo back. */
  #reveal(): void {
    this.#hidden = false;
    this.#write(NEWLINE);
    this.#negotiation.disable(ECHO);
  }

  send(bytes: Uint8Array): void {
    if (!this.#wrapping) {
      this.#write(bytes);
      return;
    }
    const wrapped = new Uint8Array(HIDE_START.length + bytes.length + HIDE_END.length);
    wrapped.set(HIDE_START);
    wrapped.set(bytes, HIDE_START.length);
    wrapped.set(HIDE_END, HIDE_START.length + bytes.length);
    this.#write(wrapped);
  }

  command(code: number): void {
    if (code === AYT) this.#write(HERE);
    else if (code === IP || code === EL) this.framer!.clear();
    else if (code === EC) this.framer!.erase();
  }

  answered(): void {}

  changed(): void {}

  size(): void {}
}

/** Whether `bytes` (after `before`) holds an LF without a CR before it. */
function bareLF(bytes: Uint8Array, before: number): boolean {
  for (let at = bytes.indexOf(LF); at >= 0; at = bytes.indexOf(LF, at + 1)) {
    if ((at === 0 ? before : bytes[at - 1]) !== CR) return true;
  }
  return false;
}
