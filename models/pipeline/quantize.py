"""Int8 dynamic quantization of an exported model with the plain onnx API.

onnxruntime's Python package (and its quantize_dynamic) is not installable here, so this
rewrites the graph the way quantize_dynamic(per_channel=True) does:
  MatMul(A, W)  ->  DynamicQuantizeLinear(A) -> MatMulInteger(A_u8, W_s8, A_zp, 0) -> Cast -> Mul(A_scale * W_scale[col])
onnxruntime fuses that chain into DynamicQuantizeMatMul. Weights are symmetric int8 per
output column. `reduce_range` keeps weights in [-63, 63]: x86 AVX2 u8*s8 kernels add pairs of
products in int16 and can saturate with full-range weights.
The tied embedding/output matrix is stored once, as int8: the token lookup gathers int8 columns
and rescales them with the gathered per-column scales.
Usage: quantize.py MODEL_DIR   (reads onnx/model.onnx, writes onnx/model_int8.onnx)
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def quantize_columns(w: np.ndarray, reduce_range: bool) -> tuple[np.ndarray, np.ndarray]:
    qmax = 63 if reduce_range else 127
    scale = np.abs(w).max(axis=0) / qmax
    scale[scale == 0] = 1.0
    q = np.clip(np.round(w / scale), -qmax, qmax).astype(np.int8)
    return q, scale.astype(np.float32)


def quantize_model(src: str, dst: str, reduce_range: bool = True, min_elements: int = 1024) -> dict:
    model = onnx.load(src)
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)

    quantized: dict[str, tuple[str, str, str]] = {}  # weight -> (q name, scale name, zero-point name)

    def quantized_weight(name: str):
        if name not in quantized:
            q, scale = quantize_columns(numpy_helper.to_array(inits[name]), reduce_range)
            qn, sn, zn = f"{name}_quantized", f"{name}_scale", f"{name}_zero_point"
            g.initializer.extend([numpy_helper.from_array(q, qn), numpy_helper.from_array(scale, sn),
                                  numpy_helper.from_array(np.zeros(q.shape[1], np.int8), zn)])
            quantized[name] = (qn, sn, zn)
        return quantized[name]

    new_nodes: list[onnx.NodeProto] = []
    for n in g.node:
        w = n.input[1] if len(n.input) > 1 else None
        is_weight = w in inits and len(inits[w].dims) == 2 and np.prod(inits[w].dims) >= min_elements
        if n.op_type == "MatMul" and is_weight:
            qn, sn, zn = quantized_weight(w)
            p = n.output[0] + "_q"
            new_nodes += [
                helper.make_node("DynamicQuantizeLinear", [n.input[0]], [p + "_a", p + "_a_scale", p + "_a_zp"]),
                helper.make_node("MatMulInteger", [p + "_a", qn, p + "_a_zp", zn], [p + "_i32"]),
                helper.make_node("Cast", [p + "_i32"], [p + "_f"], to=TensorProto.FLOAT),
                helper.make_node("Mul", [p + "_a_scale", sn], [p + "_scale"]),
                helper.make_node("Mul", [p + "_f", p + "_scale"], [n.output[0]]),
            ]
        elif n.op_type == "Gather" and n.input[0] in inits and any(
                c.op_type == "MatMul" for c in consumers.get(n.input[0], [])):
            # token lookup in the tied [C, V] matrix (Gather axis=1): gather int8 columns, rescale
            axis = next((a.i for a in n.attribute if a.name == "axis"), 0)
            assert axis == 1, "expected the exporter's transposed tied embedding"
            qn, sn, _ = quantized_weight(n.input[0])
            p = n.output[0] + "_q"
            new_nodes += [
                helper.make_node("Gather", [qn, n.input[1]], [p + "_cols"], axis=1),
                helper.make_node("Cast", [p + "_cols"], [p + "_f"], to=TensorProto.FLOAT),
                helper.make_node("Gather", [sn, n.input[1]], [p + "_s"], axis=0),
                helper.make_node("Mul", [p + "_f", p + "_s"], [n.output[0]]),
            ]
        else:
            new_nodes.append(n)
    del g.node[:]
    g.node.extend(new_nodes)
    still_used = {i for n in g.node for i in n.input}
    keep = [i for i in g.initializer if i.name in still_used]
    del g.initializer[:]
    g.initializer.extend(keep)
    onnx.checker.check_model(model)
    onnx.save(model, dst)
    return {"quantized_weights": len(quantized), "reduce_range": reduce_range,
            "bytes_fp32": os.path.getsize(src), "bytes_int8": os.path.getsize(dst)}


if __name__ == "__main__":
    d = sys.argv[1]
    reduce = "--full-range" not in sys.argv
    print(json.dumps(quantize_model(os.path.join(d, "onnx", "model.onnx"), os.path.join(d, "onnx", "model_int8.onnx"), reduce)))
