/**
 * A minimal Protocol Buffers (proto3 wire format) writer: just what building an ONNX model needs —
 * varints, 64-bit integers as varints, little-endian float32, length-delimited bytes/strings and
 * nested messages. Written here rather than pulling in protobufjs because the ONNX subset is tiny
 * and a hand-built encoder keeps the exported file's every byte accounted for.
 *
 * Wire types: 0 = varint, 2 = length-delimited, 5 = 32-bit.
 */

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

const textEncoder = new TextEncoder();

/** Appends encoded fields to a growable byte buffer; `finish()` returns exactly the bytes written. */
export class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  /**
   * Unsigned or signed integer as a base-128 varint. Negative numbers take the two's-complement
   * 64-bit form (10 bytes), as protobuf's int32/int64 require; BigInt keeps that exact.
   */
  varint(value: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
    return this;
  }

  private tag(field: number, wire: number): void {
    if (!Number.isInteger(field) || field < 1) throw new Error(`protobuf: field number must be a positive integer, got ${field}`);
    this.varint(field * 8 + wire);
  }

  /** int32/int64/enum/bool field (wire type 0). */
  int(field: number, value: number | bigint): this {
    if (typeof value === "number" && !Number.isInteger(value)) throw new Error(`protobuf: field ${field} needs an integer, got ${value}`);
    this.tag(field, WIRE_VARINT);
    return this.varint(value);
  }

  /** float field (wire type 5, little-endian IEEE-754 single). */
  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    this.ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 4).setFloat32(0, value, true);
    this.len += 4;
    return this;
  }

  /** bytes field (wire type 2). */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.varint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.len);
    this.len += value.length;
    return this;
  }

  /** string field, UTF-8 (wire type 2). */
  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value));
  }

  /** Embedded message field (wire type 2): the nested writer's bytes. */
  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  /** Packed repeated int64 (one length-delimited field of varints). */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
