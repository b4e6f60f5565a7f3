// Byte buffers (xps_buffer.c).
//
// XpsBuffer mirrors the C struct { size, len, pos, data }: a block of `size`
// bytes of which the first `len` are in use, and a cursor `pos` that parsers
// (stage 14) move along. BufferList is the FIFO of byte chunks that a pipe
// holds. Unlike the C list it never moves or concatenates bytes on the hot
// path: appending stores the chunk as it is, clearing a prefix only advances an
// offset, and reading a prefix that lies inside the first chunk returns a view.
import { E_FAIL, OK } from "./result.ts";

export class XpsBuffer {
  data: Buffer;
  len: number;
  pos: number;

  /** Wrap `data` (taking it over, as xps_buffer_create does); `len` bytes are in use. */
  constructor(data: Buffer, len: number = data.length) {
    if (len < 0 || len > data.length) throw new RangeError(`len ${len} outside 0..${data.length}`);
    this.data = data;
    this.len = len;
    this.pos = 0;
  }

  /** A new buffer with room for `size` bytes and none in use. */
  static create(size: number): XpsBuffer {
    if (!(size > 0)) throw new RangeError("an XpsBuffer needs a size above 0");
    return new XpsBuffer(Buffer.allocUnsafe(size), 0);
  }

  /** A buffer holding a copy of these bytes (a string is taken as UTF-8). */
  static from(bytes: Uint8Array | string): XpsBuffer {
    const data = typeof bytes === "string" ? Buffer.from(bytes, "utf8") : Buffer.from(bytes);
    return new XpsBuffer(data, data.length);
  }

  get size(): number {
    return this.data.length;
  }

  /** The bytes in use, as a view (no copy). */
  bytes(): Buffer {
    return this.data.subarray(0, this.len);
  }

  /** A deep copy with the same size, len and pos (xps_buffer_duplicate). */
  duplicate(): XpsBuffer {
    const copy = new XpsBuffer(Buffer.allocUnsafe(this.size), this.len);
    this.data.copy(copy.data, 0, 0, this.len);
    copy.pos = this.pos;
    return copy;
  }
}

/** Compact the chunk array once this many consumed slots sit at its front. */
const COMPACT_AT = 32;

/** An emptied list keeps its chunk array when it has at most this many slots. */
const KEEP_SLOTS = 64;

export class BufferList {
  private chunks: Buffer[] = [];
  /** Index of the first chunk still holding unread bytes. */
  private head = 0;
  /** Index one past the last chunk (slots from here on are free). */
  private tail = 0;
  /** Bytes already cleared from chunks[head]. */
  private offset = 0;
  /** Total bytes held. */
  len = 0;

  /** Number of chunks held (for tests and stats). */
  get count(): number {
    return this.tail - this.head;
  }

  /** Append bytes, taking them over: the caller must not change them afterwards. */
  append(bytes: Buffer | XpsBuffer): void {
    const chunk = bytes instanceof XpsBuffer ? bytes.bytes() : bytes;
    if (chunk.length === 0) return;
    this.chunks[this.tail++] = chunk;
    this.len += chunk.length;
  }

  /** The first stored chunk (what is left of it), as a view; null when empty. */
  first(): Buffer | null {
    if (this.len === 0) return null;
    const chunk = this.chunks[this.head]!;
    return this.offset === 0 ? chunk : chunk.subarray(this.offset);
  }

  /**
   * Peek at the first `len` bytes without removing them (xps_buffer_list_read).
   * Returns null when fewer than `len` bytes are held. The result is a view when
   * the bytes lie in the first chunk and a copy when they span chunks.
   */
  read(len: number): Buffer | null {
    if (!(len > 0)) throw new RangeError("BufferList.read needs a length above 0");
    if (len > this.len) return null;
    const first = this.first()!;
    if (len <= first.length) return first.subarray(0, len);
    const out = Buffer.allocUnsafe(len);
    let filled = first.copy(out, 0);
    for (let i = this.head + 1; filled < len; i++) {
      filled += this.chunks[i]!.copy(out, filled, 0, Math.min(this.chunks[i]!.length, len - filled));
    }
    return out;
  }

  /** Drop the first `len` bytes (xps_buffer_list_clear): OK, or E_FAIL when fewer are held. */
  clear(len: number): number {
    if (len < 0 || len > this.len) return E_FAIL;
    this.len -= len;
    let left = len;
    while (left > 0) {
      const chunk = this.chunks[this.head]!;
      const rest = chunk.length - this.offset;
      if (left < rest) {
        this.offset += left;
        break;
      }
      left -= rest;
      this.chunks[this.head] = EMPTY;
      this.head++;
      this.offset = 0;
    }
    if (this.len === 0) {
      // Emptied: start again at slot 0. The slots keep no bytes (they hold
      // EMPTY), so a small array is kept for the next chunks instead of being
      // reallocated every time a pipe fills and drains (setting length to 0
      // frees it); one that a burst made large is let go.
      if (this.chunks.length > KEEP_SLOTS) this.chunks.length = 0;
      this.head = 0;
      this.tail = 0;
      this.offset = 0;
    } else if (this.head >= COMPACT_AT && this.head * 2 >= this.tail) {
      this.chunks.splice(0, this.head);
      this.tail -= this.head;
      this.head = 0;
    }
    return OK;
  }
}

const EMPTY = Buffer.alloc(0);
