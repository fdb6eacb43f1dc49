/**
 * Reads the weights (initializers) and the node list of an ONNX file, enough to re-export a model.
 * ONNX files are protocol buffers; this is a minimal reader of the wire format for the few fields
 * used (ModelProto.graph; GraphProto.node, .initializer; NodeProto.input, .op_type; TensorProto
 * dims, data_type, float_data, raw_data, name), so the exporter needs no Python and no protobuf package.
 */
import { readFileSync } from 'node:fs';

export interface OnnxTensor {
  name: string;
  dims: number[];
  /** fp32 values (other element types are refused). */
  data: Float32Array;
}

export interface OnnxNode {
  opType: string;
  inputs: string[];
}

export interface OnnxGraph {
  initializers: Map<string, OnnxTensor>;
  nodes: OnnxNode[];
}

const FLOAT = 1;

export function readOnnxGraph(file: string): OnnxGraph {
  const buf = readFileSync(file);
  const model = fields(buf);
  const graphBytes = model.find((f) => f.no === 7)?.bytes;
  if (!graphBytes) throw new Error(`${file}: no graph in this ONNX file`);
  const initializers = new Map<string, OnnxTensor>();
  const nodes: OnnxNode[] = [];
  for (const f of fields(graphBytes)) {
    if (f.no === 1 && f.bytes) nodes.push(readNode(f.bytes));
    else if (f.no === 5 && f.bytes) {
      const t = readTensor(f.bytes, file);
      initializers.set(t.name, t);
    }
  }
  return { initializers, nodes };
}

function readNode(b: Uint8Array): OnnxNode {
  const inputs: string[] = [];
  let opType = '';
  for (const f of fields(b)) {
    if (f.no === 1 && f.bytes) inputs.push(utf8(f.bytes));
    else if (f.no === 4 && f.bytes) opType = utf8(f.bytes);
  }
  return { opType, inputs };
}

function readTensor(b: Uint8Array, file: string): OnnxTensor {
  const dims: number[] = [];
  let dataType = 0;
  let name = '';
  let raw: Uint8Array | undefined;
  const floats: number[] = [];
  for (const f of fields(b)) {
    if (f.no === 1) {
      if (f.bytes) { let p = 0; while (p < f.bytes.length) { const [v, n] = varint(f.bytes, p); dims.push(v); p = n; } }
      else dims.push(f.value!);
    } else if (f.no === 2) dataType = f.value!;
    else if (f.no === 4 && f.bytes) {
      const dv = new DataView(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength);
      for (let i = 0; i + 4 <= f.bytes.length; i += 4) floats.push(dv.getFloat32(i, true));
    } else if (f.no === 8 && f.bytes) name = utf8(f.bytes);
    else if (f.no === 9 && f.bytes) raw = f.bytes;
    else if (f.no === 14 && f.value === 1) throw new Error(`${file}: tensor ${name || '?'} keeps its data outside the file; export with the weights inside`);
  }
  if (dataType !== FLOAT) return { name, dims, data: new Float32Array(0) };
  let data: Float32Array;
  if (raw) {
    data = new Float32Array(raw.length / 4);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < data.length; i++) data[i] = dv.getFloat32(i * 4, true);
  } else data = Float32Array.from(floats);
  return { name, dims, data };
}

interface Field { no: number; value?: number; bytes?: Uint8Array }

/** The top-level fields of one message (wire types 0, 1, 2, 5). */
function fields(b: Uint8Array): Field[] {
  const out: Field[] = [];
  let p = 0;
  while (p < b.length) {
    const [key, p1] = varint(b, p);
    const no = Math.floor(key / 8);
    const wire = key & 7;
    p = p1;
    if (wire === 0) { const [v, n] = varint(b, p); out.push({ no, value: v }); p = n; }
    else if (wire === 1) { out.push({ no, bytes: b.subarray(p, p + 8) }); p += 8; }
    else if (wire === 2) { const [len, n] = varint(b, p); out.push({ no, bytes: b.subarray(n, n + len) }); p = n + len; }
    else if (wire === 5) { out.push({ no, bytes: b.subarray(p, p + 4) }); p += 4; }
    else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  return out;
}

function varint(b: Uint8Array, p: number): [number, number] {
  let v = 0;
  let mul = 1;
  for (;;) {
    const byte = b[p++]!;
    v += (byte & 0x7f) * mul;
    if (byte < 0x80) return [v, p];
    mul *= 128;
  }
}

const decoder = new TextDecoder();
const utf8 = (b: Uint8Array) => decoder.decode(b);
