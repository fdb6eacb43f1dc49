/**
 * Writes a GGUF file (version 3), written from the format's public specification (ggml's
 * docs/gguf.md): header (magic, version, tensor count, metadata count), typed metadata
 * key/values, tensor infos (name, dims innermost first, ggml type, offset), then the tensor data,
 * each tensor aligned to `general.alignment` (32). Little-endian throughout.
 */
import { writeFileSync } from 'node:fs';

/** GGUF metadata value types. */
const T = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12 } as const;
/** ggml tensor element types (the two this exporter writes). */
export const GGML_TYPE = { F32: 0, F16: 1 } as const;
export type GgmlType = (typeof GGML_TYPE)[keyof typeof GGML_TYPE];

export type MetaValue =
  | { type: 'u32'; value: number }
  | { type: 'i32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'string[]'; value: readonly string[] }
  | { type: 'i32[]'; value: readonly number[] };

export interface GgufTensor {
  name: string;
  /** ggml order: ne[0] is the innermost (contiguous) dimension. A torch [out, in] weight is [in, out]. */
  dims: number[];
  data: Float32Array;
  type: GgmlType;
}

const ALIGN = 32;

class Out {
  private chunks: Buffer[] = [];
  size = 0;
  put(b: Buffer): void { this.chunks.push(b); this.size += b.length; }
  u32(v: number): void { const b = Buffer.alloc(4); b.writeUInt32LE(v); this.put(b); }
  i32(v: number): void { const b = Buffer.alloc(4); b.writeInt32LE(v); this.put(b); }
  u64(v: number): void { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); this.put(b); }
  f32(v: number): void { const b = Buffer.alloc(4); b.writeFloatLE(v); this.put(b); }
  str(s: string): void { const b = Buffer.from(s, 'utf8'); this.u64(b.length); this.put(b); }
  pad(): void { const n = (ALIGN - (this.size % ALIGN)) % ALIGN; if (n) this.put(Buffer.alloc(n)); }
  concat(): Buffer { return Buffer.concat(this.chunks); }
}

function writeValue(o: Out, v: MetaValue): void {
  switch (v.type) {
    case 'u32': o.u32(T.u32); o.u32(v.value); break;
    case 'i32': o.u32(T.i32); o.i32(v.value); break;
    case 'f32': o.u32(T.f32); o.f32(v.value); break;
    case 'bool': o.u32(T.bool); o.put(Buffer.from([v.value ? 1 : 0])); break;
    case 'string': o.u32(T.string); o.str(v.value); break;
    case 'string[]': o.u32(T.array); o.u32(T.string); o.u64(v.value.length); for (const s of v.value) o.str(s); break;
    case 'i32[]': o.u32(T.array); o.u32(T.i32); o.u64(v.value.length); for (const x of v.value) o.i32(x); break;
  }
}

function tensorBytes(t: GgufTensor): Buffer {
  if (t.type === GGML_TYPE.F32) return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const b = Buffer.alloc(t.data.length * 2);
  for (let i = 0; i < t.data.length; i++) b.writeUInt16LE(toHalf(t.data[i]!), i * 2);
  return b;
}

export function encodeGguf(meta: ReadonlyMap<string, MetaValue>, tensors: readonly GgufTensor[]): Buffer {
  const o = new Out();
  o.put(Buffer.from('GGUF', 'ascii'));
  o.u32(3);
  o.u64(tensors.length);
  o.u64(meta.size);
  for (const [k, v] of meta) { o.str(k); writeValue(o, v); }
  const datas = tensors.map(tensorBytes);
  let offset = 0;
  tensors.forEach((t, i) => {
    const expected = t.dims.reduce((a, b) => a * b, 1);
    if (expected !== t.data.length) throw new Error(`tensor ${t.name}: dims ${t.dims.join('x')} do not hold ${t.data.length} values`);
    o.str(t.name);
    o.u32(t.dims.length);
    for (const d of t.dims) o.u64(d);
    o.u32(t.type);
    o.u64(offset);
    offset += datas[i]!.length;
    offset += (ALIGN - (offset % ALIGN)) % ALIGN;
  });
  o.pad();
  for (const d of datas) { o.put(d); o.pad(); }
  return o.concat();
}

export function writeGguf(file: string, meta: ReadonlyMap<string, MetaValue>, tensors: readonly GgufTensor[]): number {
  const buf = encodeGguf(meta, tensors);
  writeFileSync(file, buf);
  return buf.length;
}

/** IEEE 754 half precision, round to nearest even. */
function toHalf(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}
