// Telnet negotiation (RFC 854/855, the Q method of RFC 1143): a pure state machine fed bytes
// one chunk at a time. It passes data on, answers TIMING-MARK (RFC 860), refuses options it
// does not support, reads window sizes (NAWS, RFC 1073) and reports commands (IP, AYT, ...).
// What a command does and when to ask for an option is link.ts's; it never touches a socket.

/** Telnet command bytes. */
export const IAC = 0xff;
export const DONT = 0xfe;
export const DO = 0xfd;
export const WONT = 0xfc;
export const WILL = 0xfb;
export const SB = 0xfa;
export const EL = 0xf8;
export const EC = 0xf7;
export const AYT = 0xf6;
export const AO = 0xf5;
export const IP = 0xf4;
export const BRK = 0xf3;
export const SE = 0xf0;

/** Option codes. */
export const ECHO = 1;
export const SGA = 3;
export const TM = 6;
export const NAWS = 31;

/** Options this side may turn on (we WILL): echo (a hidden password) and no go-aheads. */
const LOCAL = new Set([ECHO, SGA]);
/** Options the peer may turn on (it WILL): its window size, and no go-aheads. */
const REMOTE = new Set([NAWS, SGA]);

/** Subnegotiation bytes kept at most; a longer one is read to its end and ignored. */
const MAX_SUB = 64;
/** TIMING-MARK probes outstanding at most; more are not sent. */
const MAX_PROBES = 4;

/** An option's state on one side (RFC 1143, without the queue bit: we never queue). */
const enum Q {
  No,
  Yes,
  WantNo,
  WantYes,
}

const enum State {
  Data,
  Iac,
  /** After IAC and a verb (WILL/WONT/DO/DONT): the next byte is the option. */
  Option,
  Sub,
  SubIac,
}

/** What the machine reports to its owner. */
export interface TelnetSink {
  /** Data bytes, in order (a view valid only during the call). */
  data(bytes: Uint8Array): void;
  /** Bytes to send the peer: answers to its negotiation. */
  send(bytes: Uint8Array): void;
  /** A command the peer sent: IP, AO, AYT, EC, EL or BRK. */
  command(code: number): void;
  /**
   * The peer spoke telnet (any negotiation), or answered a TIMING-MARK probe (`mark`): it is
   * there and reads what we send.
   */
  answered(mark: boolean): void;
  /** An option changed on either side (see {@link Negotiation.local}, `remote`). */
  changed(): void;
  /** The peer's window size (NAWS); 0 means unknown. */
  size(columns: number, rows: number): void;
}

/** The escaped data byte 0xFF (IAC IAC), handed on as it came: framing.ts keeps it. */
const ESCAPED_IAC = Uint8Array.of(IAC, IAC);

/**
 * One connection's telnet negotiation.
 *
 * @example
 * ```ts
 * const out: number[][] = [];
 * const n = new Negotiation({
 *   data() {}, send: (b) => out.push([...b]), command() {}, answered() {}, changed() {}, size() {},
 * });
 * n.push(Uint8Array.of(255, 253, 6)); // IAC DO TIMING-MARK
 * // out is [[255, 251, 6]]: IAC WILL TIMING-MARK
 * ```
 */
/**
 * Our side, the peer's side and the ask-again mark of each option one connection negotiates,
 * in one short array of quads searched in order: a telnet client keeps three or four options,
 * and two Maps and a Set would cost several hundred bytes more per connection. At most 256
 * options (one per code).
 */
class OptionTable {
  readonly #quads: number[] = [];

  #at(option: number): number {
    const q = this.#quads;
    for (let i = 0; i < q.length; i += 4) if (q[i] === option) return i;
    return -1;
  }

  /** The value in `slot` (1: ours, 2: the peer's, 3: ask again) of an option, or 0. */
  get(option: number, slot: 1 | 2 | 3): number {
    const i = this.#at(option);
    return i < 0 ? 0 : this.#quads[i + slot];
  }

  set(option: number, slot: 1 | 2 | 3, value: number): void {
    let i = this.#at(option);
    if (i < 0) {
      if (value === 0) return;
      i = this.#quads.push(option, 0, 0, 0) - 4;
    }
    this.#quads[i + slot] = value;
  }
}

/** The slots of an option in {@link OptionTable}: our side, the peer's, ask again. */
const US = 1;
const HIM = 2;
const AGAIN = 3;

export class Negotiation {
  readonly #sink: TelnetSink;
  #state = State.Data;
  #verb = 0;
  /** Our side of each option, and the peer's. */
  /** Our side of each option, the peer's, and ours asked off to be asked on again. */
  readonly #options = new OptionTable();
  #sub: number[] = [];
  #probes = 0;
  #spoke = false;

  constructor(sink: TelnetSink) {
    this.#sink = sink;
  }

  /** Whether our option was marked to be asked on again; the mark is taken off. */
  #takeAgain(option: number): boolean {
    if (this.#options.get(option, AGAIN) === 0) return false;
    this.#options.set(option, AGAIN, 0);
    return true;
  }

  /** Whether the peer has sent any negotiation: it is a telnet client. */
  get spoke(): boolean {
    return this.#spoke;
  }

  /** TIMING-MARK probes sent and not answered yet. */
  get probes(): number {
    return this.#probes;
  }

  /** Whether an option is on on our side (we WILL, the peer agreed). */
  local(option: number): boolean {
    return this.#options.get(option, US) === Q.Yes;
  }

  /** Whether an option is on on the peer's side. */
  remote(option: number): boolean {
    return this.#options.get(option, HIM) === Q.Yes;
  }

  /** Feeds bytes from the peer. */
  push(chunk: Uint8Array): void {
    let start = 0;
    let i = 0;
    while (i < chunk.length) {
      if (this.#state === State.Data) {
        const at = chunk.indexOf(IAC, i);
        if (at < 0) break;
        if (at > start) this.#sink.data(chunk.subarray(start, at));
        this.#state = State.Iac;
        i = at + 1;
        start = i;
        continue;
      }
      this.#byte(chunk[i++]);
      start = i;
    }
    if (this.#state === State.Data && start < chunk.length) {
      this.#sink.data(chunk.subarray(start));
    }
  }

  /** Asks to turn one of our options on (WILL), unless it is on or asked already. */
  enable(option: number): void {
    const q = this.#options.get(option, US);
    if (q === Q.WantNo) {
      // Asked off and not answered yet: ask again once the answer is in (RFC 1143's queue).
      this.#options.set(option, AGAIN, 1);
      return;
    }
    if (q !== Q.No) return;
    this.#options.set(option, US, Q.WantYes);
    this.#sink.send(Uint8Array.of(IAC, WILL, option));
  }

  /** Turns one of our options off (WONT), unless it is off or being turned off. */
  disable(option: number): void {
    const q = this.#options.get(option, US);
    this.#options.set(option, AGAIN, 0);
    if (q === Q.No || q === Q.WantNo) return;
    this.#options.set(option, US, Q.WantNo);
    this.#sink.send(Uint8Array.of(IAC, WONT, option));
  }

  /** Asks the peer to turn an option on (DO), unless it is on or asked already. */
  ask(option: number): void {
    if ((this.#options.get(option, HIM)) !== Q.No) return;
    this.#options.set(option, HIM, Q.WantYes);
    this.#sink.send(Uint8Array.of(IAC, DO, option));
  }

  /**
   * Sends a TIMING-MARK probe (IAC DO TIMING-MARK); a telnet client that is there answers
   * it. False when {@link MAX_PROBES} are outstanding already (nothing is sent).
   */
  probe(): boolean {
    if (this.#probes >= MAX_PROBES) return false;
    this.#probes++;
    this.#sink.send(Uint8Array.of(IAC, DO, TM));
    return true;
  }

  /** One byte outside plain data. */
  #byte(b: number): void {
    switch (this.#state) {
      case State.Iac:
        this.#state = State.Data;
        if (b === IAC) this.#sink.data(ESCAPED_IAC);
        else if (b >= WILL && b <= DONT) {
          this.#verb = b;
          this.#state = State.Option;
        } else if (b === SB) {
          this.#sub = [];
          this.#state = State.Sub;
        } else if (b === IP || b === AO || b === AYT || b === EC || b === EL || b === BRK) {
          this.#heard();
          this.#sink.command(b);
        }
        // NOP, DM, GA, SE out of place: nothing to do.
        return;
      case State.Option:
        this.#state = State.Data;
        this.#negotiate(this.#verb, b);
        return;
      case State.Sub:
        if (b === IAC) this.#state = State.SubIac;
        else if (this.#sub.length <= MAX_SUB) this.#sub.push(b);
        return;
      case State.SubIac:
        if (b === SE) {
          this.#state = State.Data;
          this.#subnegotiation();
        } else {
          // IAC IAC is a data byte 0xFF; anything else after IAC is a broken subnegotiation.
          if (b === IAC && this.#sub.length <= MAX_SUB) this.#sub.push(b);
          this.#state = State.Sub;
        }
        return;
      case State.Data:
        return;
    }
  }

  /** Notes that the peer speaks telnet; the first time, says so. */
  #heard(): void {
    if (this.#spoke) return;
    this.#spoke = true;
    this.#sink.answered(false);
  }

  #negotiate(verb: number, option: number): void {
    this.#heard();
    if (option === TM) {
      this.#timingMark(verb);
    } else if (verb === WILL || verb === WONT) {
      this.#peerSide(verb === WILL, option);
    } else {
      this.#ourSide(verb === DO, option);
    }
  }

  /** RFC 860: DO is answered WILL once the data before it is handled; WILL/WONT end a probe. */
  #timingMark(verb: number): void {
    if (verb === DO) {
      this.#sink.send(Uint8Array.of(IAC, WILL, TM));
    } else if (verb === WILL || verb === WONT) {
      if (this.#probes > 0) {
        this.#probes--;
        this.#sink.answered(true);
      } else if (verb === WILL) {
        this.#sink.send(Uint8Array.of(IAC, DONT, TM));
      }
    }
  }

  /** The peer's WILL (`on`) or WONT for one of its options. */
  #peerSide(on: boolean, option: number): void {
    const q = this.#options.get(option, HIM);
    if (on) {
      if (q === Q.No) {
        if (REMOTE.has(option)) {
          this.#options.set(option, HIM, Q.Yes);
          this.#sink.send(Uint8Array.of(IAC, DO, option));
          this.#sink.changed();
        } else {
          this.#sink.send(Uint8Array.of(IAC, DONT, option));
        }
      } else if (q === Q.WantYes) {
        this.#options.set(option, HIM, Q.Yes);
        this.#sink.changed();
      } else if (q === Q.WantNo) {
        // It answered our DONT with WILL (RFC 1143: an error); leave it off.
        this.#options.set(option, HIM, Q.No);
      }
    } else if (q !== Q.No) {
      this.#options.set(option, HIM, Q.No);
      if (q === Q.Yes) this.#sink.send(Uint8Array.of(IAC, DONT, option));
      this.#sink.changed();
    }
  }

  /** The peer's DO (`on`) or DONT for one of our options. */
  #ourSide(on: boolean, option: number): void {
    const q = this.#options.get(option, US);
    if (on) {
      if (q === Q.No) {
        // Echo is ours to offer (link.ts decides when), never the peer's to ask for.
        if (LOCAL.has(option) && option !== ECHO) {
          this.#options.set(option, US, Q.Yes);
          this.#sink.send(Uint8Array.of(IAC, WILL, option));
          this.#sink.changed();
        } else {
          this.#sink.send(Uint8Array.of(IAC, WONT, option));
        }
      } else if (q === Q.WantYes) {
        this.#options.set(option, US, Q.Yes);
        this.#sink.changed();
      } else if (q === Q.WantNo) {
        // It answered our WONT with DO (RFC 1143: an error): on, as a queued enable wanted.
        this.#options.set(option, US, this.#takeAgain(option) ? Q.Yes : Q.No);
        this.#sink.changed();
      }
    } else if (q !== Q.No) {
      this.#options.set(option, US, Q.No);
      if (q === Q.Yes) this.#sink.send(Uint8Array.of(IAC, WONT, option));
      this.#sink.changed();
      if (q === Q.WantNo && this.#takeAgain(option)) this.enable(option);
    }
  }

  #subnegotiation(): void {
    const sub = this.#sub;
    this.#sub = [];
    if (sub[0] === NAWS && sub.length === 5 && this.remote(NAWS)) {
      this.#sink.size((sub[1] << 8) | sub[2], (sub[3] << 8) | sub[4]);
    }
  }
}
