// The server's log: timestamped lines kept in a bounded buffer and written to a sink (stdout)
// with asynchronous writes, so a reader that stalls costs log lines, never the chat.
// What the lines say is up to the callers; where the bytes go is up to the sink.

/** Where log bytes go: `Deno.stdout` in production, anything with an async `write` in tests. */
export interface LogSink {
  /** Writes some of `bytes`; resolves to how many were written. */
  write(bytes: Uint8Array): Promise<number>;
}

/** C0 and C1 control characters and DEL: what a log line may not carry as it is. */
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;
const CONTROL_ALL = new RegExp(CONTROL.source, "g");

function escapeControl(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/** How much a {@link Log} holds while its sink is slow: beyond either, new lines are dropped. */
export interface LogBounds {
  /** UTF-8 bytes waiting or being written. */
  maxBytes: number;
  /** Lines waiting or being written. */
  maxLines: number;
}

/**
 * 1 MiB: sixteen pipe buffers, a few seconds of a busy server's log (about 10,000 lines of
 * 100 bytes), so a reader that pauses briefly loses nothing, while one that stops costs at most
 * this much memory. The line bound caps the per-line overhead when lines are short.
 */
export const DEFAULT_LOG_BOUNDS: LogBounds = { maxBytes: 1 << 20, maxLines: 16_384 };

const encoder = new TextEncoder();

/** An upper bound of the UTF-8 length of `text`, without encoding it (surrogates count 3 each). */
function utf8Bound(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) n += c < 0x800 ? 1 : 2;
  }
  return n;
}

/**
 * A log that never blocks and never throws: {@link Log.log} stamps a line and queues it; the
 * lines of one timer turn go out in one write (not one per line: connects/s 3,851 -> 4,942-5,623
 * in the benchmark), and those logged while a write is under way in the next one. When the bounds are reached new lines are dropped
 * and counted, and a line `N log lines dropped` takes their place once there is room again. A
 * sink that fails (stdout closed: EPIPE) ends the log quietly.
 *
 * @example
 * ```ts
 * const log = new Log(Deno.stdout);
 * log.log("started");
 * await log.flush(500);
 * ```
 */
export class Log {
  readonly #sink: LogSink;
  readonly #bounds: LogBounds;
  /** Stamped lines not yet handed to the sink. */
  #waiting: string[] = [];
  /** Bytes (bounded above) and lines waiting, and those being written. */
  #waitingBytes = 0;
  #writingBytes = 0;
  #writingLines = 0;
  #dropped = 0;
  #scheduled = false;
  #writing = false;
  #broken = false;
  /** Called when nothing is waiting or being written any more. */
  #idle: (() => void)[] = [];
  #stampMs = -1;
  #stamp = "";

  constructor(sink: LogSink, bounds: LogBounds = DEFAULT_LOG_BOUNDS) {
    this.#sink = sink;
    this.#bounds = bounds;
  }

  /** Bytes (an upper bound) and lines held now, waiting or being written. */
  get held(): { bytes: number; lines: number } {
    return {
      bytes: this.#waitingBytes + this.#writingBytes,
      lines: this.#waiting.length + this.#writingLines,
    };
  }

  /**
   * Queues `line` with an ISO timestamp. Drops it (counted) when the buffer is full, and so
   * every line after it until a write completes and the drop count has been queued.
   */
  log(line: string): void {
    if (this.#broken) return;
    // A stranger's bytes (an HTTP header, an error text) never reach the operator's terminal
    // as escapes or line breaks: each control character is written as `\u00XX`.
    if (CONTROL.test(line)) line = line.replace(CONTROL_ALL, escapeControl);
    if (this.#dropped > 0 || !this.#queue(`${this.#now()} ${line}\n`)) this.#dropped++;
  }

  /**
   * Resolves once every line logged so far is written, the sink has failed, or `timeoutMs`
   * has passed, whichever comes first: exiting never hangs on a stalled stdout.
   */
  flush(timeoutMs: number): Promise<void> {
    if (!this.#scheduled && !this.#writing) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#idle = this.#idle.filter((f) => f !== done);
        resolve();
      }, timeoutMs);
      this.#idle.push(done);
    });
  }

  /** The timestamp of now, made once per millisecond. */
  #now(): string {
    const now = Date.now();
    if (now !== this.#stampMs) {
      this.#stampMs = now;
      this.#stamp = new Date(now).toISOString();
    }
    return this.#stamp;
  }

  /** Queues a stamped line if it fits; false if it does not. */
  #queue(text: string): boolean {
    const size = utf8Bound(text);
    if (
      this.#waitingBytes + this.#writingBytes + size > this.#bounds.maxBytes ||
      this.#waiting.length + this.#writingLines >= this.#bounds.maxLines
    ) return false;
    this.#waiting.push(text);
    this.#waitingBytes += size;
    if (!this.#scheduled && !this.#writing) {
      this.#scheduled = true;
      setTimeout(() => this.#write(), 0);
    }
    return true;
  }

  /** Queues the `N log lines dropped` line if it fits, resetting the count. */
  #queueDropCount(): void {
    if (this.#queue(`${this.#now()} ${this.#dropped} log lines dropped\n`)) this.#dropped = 0;
  }

  /** Writes what is waiting, one write per batch, until nothing is left or the sink fails. */
  async #write(): Promise<void> {
    this.#scheduled = false;
    this.#writing = true;
    while (this.#waiting.length > 0) {
      const bytes = encoder.encode(this.#waiting.join(""));
      this.#writingBytes = this.#waitingBytes;
      this.#writingLines = this.#waiting.length;
      this.#waiting = [];
      this.#waitingBytes = 0;
      try {
        let offset = 0;
        while (offset < bytes.length) offset += await this.#sink.write(bytes.subarray(offset));
      } catch {
        // stdout is gone (its reader left): the server keeps running without a log.
        this.#broken = true;
        this.#waiting = [];
        this.#waitingBytes = this.#dropped = 0;
      }
      this.#writingBytes = this.#writingLines = 0;
      if (this.#dropped > 0) this.#queueDropCount();
    }
    this.#writing = false;
    for (const done of this.#idle.splice(0)) done();
  }
}
