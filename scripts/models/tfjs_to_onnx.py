#!/usr/bin/python3
"""Converts a TF.js graph model (model.json with format "graph-model" plus weight shards) to ONNX.

    /usr/bin/python3 tfjs_to_onnx.py MODEL_JSON OUT_ONNX [--outputs A,B] [--batch auto|symbolic|1]

Only the nodes that the requested outputs depend on are converted, so a model whose
post-processing uses ops we do not handle (TopK, StridedSlice...) still converts when the caller
asks for the tensors before it. An unsupported op on the way to an output is an error.

Tensors keep TF's NHWC layout at the graph boundary and between ops; each spatial op (conv, pool,
resize, batch norm) is wrapped in a pair of Transposes to ONNX's NCHW. ONNX Runtime's transpose
optimizer cancels the pairs that meet, so this costs nothing at run time and keeps every op's
conversion local and easy to check.

The batch dimension is the symbol "N" when the graph allows it (--batch auto, the default, tries a
symbolic batch and falls back to 1 when shape inference shows an op pinning it, such as a Reshape
to a fixed leading 1).
"""
import argparse
import base64
import json
import os
import sys

import numpy as np
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convert_common as cc  # noqa: E402

_TF_DTYPES = {
    "DT_FLOAT": (np.float32, TensorProto.FLOAT),
    "DT_INT32": (np.int32, TensorProto.INT32),
    "DT_INT64": (np.int64, TensorProto.INT64),
    "DT_BOOL": (np.bool_, TensorProto.BOOL),
}

_UNARY = {
    "Relu": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Exp": "Exp", "Log": "Log",
    "Sqrt": "Sqrt", "Neg": "Neg", "Abs": "Abs", "Elu": "Elu", "Softplus": "Softplus",
    "Floor": "Floor", "Ceil": "Ceil", "Reciprocal": "Reciprocal", "Identity": "Identity",
}
_BINARY = {
    "Add": "Add", "AddV2": "Add", "BiasAdd": "Add", "Sub": "Sub", "Mul": "Mul", "RealDiv": "Div",
    "Div": "Div", "Maximum": "Max", "Minimum": "Min", "Pow": "Pow",
}
_REDUCE = {"Mean": "ReduceMean", "Max": "ReduceMax", "Min": "ReduceMin", "Prod": "ReduceProd"}
_CONV = ("Conv2D", "_FusedConv2D", "DepthwiseConv2dNative", "FusedDepthwiseConv2dNative")
_MATMUL = ("MatMul", "_FusedMatMul")
_SPATIAL = ("MaxPool", "AvgPool", "FusedBatchNorm", "FusedBatchNormV3", "ResizeBilinear",
            "ResizeNearestNeighbor")
_SHAPING = ("ConcatV2", "Reshape", "Squeeze", "ExpandDims", "Transpose", "Pad", "PadV2",
            "MirrorPad")
_OTHER = ("Relu6", "Rsqrt", "Square", "SquaredDifference", "LeakyRelu", "Prelu", "Softmax")
SUPPORTED_OPS = frozenset(("Const", "Placeholder", "Sum") + tuple(_UNARY) + tuple(_BINARY) +
                          tuple(_REDUCE) + _CONV + _MATMUL + _SPATIAL + _SHAPING + _OTHER)


def _str_attr(attrs, key, default=None):
    return base64.b64decode(attrs[key]["s"]).decode() if key in attrs else default


def _ints_attr(attrs, key, default=None):
    if key not in attrs:
        return default
    return [int(v) for v in attrs[key].get("list", {}).get("i", [])]


def _strs_attr(attrs, key):
    return [base64.b64decode(v).decode() for v in attrs.get(key, {}).get("list", {}).get("s", [])]


def _bool_attr(attrs, key, default=False):
    return bool(attrs.get(key, {}).get("b", default))


def _float_attr(attrs, key, default):
    return float(attrs.get(key, {}).get("f", default))


def _source_name(ref):
    """'x' and 'x:0' name node x's first output; other output indices are not supported."""
    name, _, index = ref.partition(":")
    if index not in ("", "0"):
        raise cc.ConversionError(f"input {ref}: only the first output of a node can be used")
    return name


def _inline_const(node):
    """The value of a Const node that carries its data in the graph instead of the shards."""
    tensor = node.get("attr", {}).get("value", {}).get("tensor")
    if tensor is None or tensor.get("dtype") not in _TF_DTYPES:
        return None
    np_type = _TF_DTYPES[tensor["dtype"]][0]
    shape = [int(d.get("size", 0)) for d in tensor.get("tensorShape", {}).get("dim", [])]
    values = (tensor.get("floatVal") or tensor.get("intVal") or tensor.get("int64Val") or
              tensor.get("boolVal") or [])
    count = int(np.prod(shape)) if shape else 1
    array = np.zeros(count, np_type)
    if values:
        # A TensorProto may list fewer values than elements: the last one repeats.
        given = np.asarray(values).astype(np_type)
        array[:len(given)] = given[:count]
        array[len(given):] = given[-1]
    return array.reshape(shape)


class GraphModelConverter:
    """One conversion of a TF.js graph model; see the module comment for the approach."""

    def __init__(self, model_json, weights, batch_symbolic=True):
        topology = model_json["modelTopology"]
        self._nodes = {n["name"]: n for n in topology.get("node", [])}
        self._weights = weights
        self._batch_symbolic = batch_symbolic
        self._b = cc.GraphBuilder()
        for name in self._nodes:
            self._b.reserve(name)
        self._nchw = {}
        self._inputs = []

    def convert(self, outputs, graph_name="tfjs"):
        order = self._dependency_order(outputs)
        missing = sorted({self._nodes[n]["op"] for n in order} - SUPPORTED_OPS)
        if missing:
            raise cc.ConversionError("unsupported ops on the way to the outputs: " +
                                     ", ".join(missing))
        for name in order:
            node = self._nodes[name]
            if node["op"] == "Const":
                continue
            self._convert_node(node)
        for name in outputs:
            if name in self._const_names():
                raise cc.ConversionError(f"output {name} is a constant")
        graph_outputs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs]
        graph = self._b.graph(graph_name, self._inputs, graph_outputs)
        return cc.make_model(graph, "argus tfjs_to_onnx", "converted from a TF.js graph model")

    def _const_names(self):
        return {n for n, node in self._nodes.items() if node["op"] == "Const"}

    def _dependency_order(self, outputs):
        """Names of the nodes the outputs need, each after its inputs (iterative DFS)."""
        order, state = [], {}
        for out in outputs:
            if out not in self._nodes:
                raise cc.ConversionError(f"output {out} is not a node of the graph")
            stack = [(out, False)]
            while stack:
                name, expanded = stack.pop()
                if expanded:
                    state[name] = "done"
                    order.append(name)
                    continue
                if state.get(name) == "done":
                    continue
                if state.get(name) == "open":
                    raise cc.ConversionError(f"the graph has a cycle through {name}")
                state[name] = "open"
                stack.append((name, True))
                for ref in self._data_inputs(self._nodes[name]):
                    if ref not in self._nodes:
                        raise cc.ConversionError(f"node {name} reads unknown tensor {ref}")
                    if state.get(ref) != "done":
                        stack.append((ref, False))
        return order

    @staticmethod
    def _data_inputs(node):
        return [_source_name(i) for i in node.get("input", []) if not i.startswith("^")]

    def _value(self, name):
        """The numpy value of a Const node (weights shard or inline)."""
        node = self._nodes.get(name)
        if node is None or node["op"] != "Const":
            raise cc.ConversionError(f"{name} must be a constant here")
        if name in self._weights:
            return self._weights[name]
        inline = _inline_const(node)
        if inline is None:
            raise cc.ConversionError(f"constant {name} has no data")
        return inline

    def _tensor(self, name):
        """The ONNX tensor for a TF tensor name; constants become initializers on first use."""
        if self._nodes[name]["op"] != "Const":
            return name
        value = self._value(name)
        if value.dtype == np.float64:
            value = value.astype(np.float32)
        return self._b.shared_constant(name, value)

    def _to_nchw(self, name):
        if name not in self._nchw:
            self._nchw[name] = self._b.add("Transpose", [self._tensor(name)], base=name + "/nchw",
                                           perm=[0, 3, 1, 2])
        return self._nchw[name]

    def _to_nhwc(self, nchw, output):
        self._b.add("Transpose", [nchw], output, perm=[0, 2, 3, 1])

    def _convert_node(self, node):
        op, name, attrs = node["op"], node["name"], node.get("attr", {})
        ins = self._data_inputs(node)
        if op == "Placeholder":
            self._placeholder(name, attrs)
        elif op in _CONV:
            self._conv(name, op, ins, attrs)
        elif op in _MATMUL:
            self._matmul(name, ins, attrs)
        elif op in _UNARY:
            self._b.add(_UNARY[op], [self._tensor(ins[0])], name)
        elif op in _BINARY:
            self._b.add(_BINARY[op], [self._tensor(i) for i in ins[:2]], name)
        elif op in _REDUCE or op == "Sum":
            self._reduce(name, op, ins, attrs)
        elif op in ("MaxPool", "AvgPool"):
            self._pool(name, op, ins, attrs)
        elif op in ("FusedBatchNorm", "FusedBatchNormV3"):
            x = self._to_nchw(ins[0])
            params = [self._tensor(i) for i in ins[1:5]]
            y = self._b.add("BatchNormalization", [x] + params, base=name,
                            epsilon=_float_attr(attrs, "epsilon", 1e-3))
            self._to_nhwc(y, name)
        elif op in ("ResizeBilinear", "ResizeNearestNeighbor"):
            self._resize(name, op, ins, attrs)
        elif op in _SHAPING:
            self._shaping(name, op, ins, attrs)
        else:
            self._other(name, op, ins, attrs)

    def _placeholder(self, name, attrs):
        dtype = attrs.get("dtype", {}).get("type", "DT_FLOAT")
        if dtype not in _TF_DTYPES:
            raise cc.ConversionError(f"input {name}: dtype {dtype} is not supported")
        dims = [int(d.get("size", -1)) for d in
                attrs.get("shape", {}).get("shape", {}).get("dim", [])]
        if not dims:
            raise cc.ConversionError(f"input {name} has no static rank")
        shape = [cc.BATCH_DIM if self._batch_symbolic else 1]
        shape += [d if d > 0 else f"{name}_dim{i}" for i, d in enumerate(dims) if i > 0]
        self._inputs.append(helper.make_tensor_value_info(name, _TF_DTYPES[dtype][1], shape))

    def _activation(self, kind, x, output, alpha_ref, attrs):
        """Applies a (fused) TF activation to x; a PReLU slope must already fit x's layout."""
        if kind == "Relu6":
            lo = self._b.shared_constant("argus/zero", np.float32(0))
            hi = self._b.shared_constant("argus/six", np.float32(6))
            return self._b.add("Clip", [x, lo, hi], output)
        if kind in ("Relu", "Elu", "Sigmoid", "Tanh"):
            return self._b.add(kind, [x], output)
        if kind == "LeakyRelu":
            alpha = _float_attr(attrs, "leakyrelu_alpha", 0.2)
            return self._b.add("LeakyRelu", [x], output, alpha=alpha)
        if kind == "Prelu":
            return self._b.add("PRelu", [x, alpha_ref], output)
        raise cc.ConversionError(f"fused activation {kind} is not supported")

    def _conv(self, name, op, ins, attrs):
        if _str_attr(attrs, "data_format", "NHWC") != "NHWC":
            raise cc.ConversionError(f"{name}: only NHWC convolutions are supported")
        kernel = self._value(ins[1]).astype(np.float32)
        if "Depthwise" in op:
            kh, kw, channels, multiplier = kernel.shape
            # TF orders depthwise outputs channel-major (c * multiplier + m), as ONNX groups do.
            kernel = kernel.transpose(2, 3, 0, 1).reshape(channels * multiplier, 1, kh, kw)
            group = channels
        else:
            kernel = kernel.transpose(3, 2, 0, 1)
            group = 1
        fused = _strs_attr(attrs, "fused_ops")
        extra = ins[2:]
        bias = None
        if fused[:1] == ["BiasAdd"]:
            bias = self._value(extra[0]).astype(np.float32)
            fused, extra = fused[1:], extra[1:]
        elif fused[:1] == ["FusedBatchNorm"]:
            scale, offset, mean, var = (self._value(i).astype(np.float64) for i in extra[:4])
            factor = scale / np.sqrt(var + _float_attr(attrs, "epsilon", 1e-3))
            kernel = (kernel * factor.reshape(-1, 1, 1, 1)).astype(np.float32)
            bias = (offset - mean * factor).astype(np.float32)
            fused, extra = fused[1:], extra[4:]
        if len(fused) > 1:
            raise cc.ConversionError(f"{name}: fused ops {fused} are not supported")
        conv_inputs = [self._to_nchw(ins[0]), self._b.constant(name + "/kernel", kernel)]
        if bias is not None:
            conv_inputs.append(self._b.constant(name + "/bias", bias))
        kwargs = dict(strides=_ints_attr(attrs, "strides")[1:3],
                      dilations=(_ints_attr(attrs, "dilations") or [1, 1, 1, 1])[1:3], group=group)
        padding = _str_attr(attrs, "padding")
        if padding == "SAME":
            kwargs["auto_pad"] = "SAME_UPPER"  # TF puts the odd pixel at the end, as SAME_UPPER
        elif padding == "EXPLICIT":
            p = _ints_attr(attrs, "explicit_paddings")
            kwargs["pads"] = [p[2], p[4], p[3], p[5]]
        elif padding != "VALID":
            raise cc.ConversionError(f"{name}: padding {padding} is not supported")
        y = self._b.add("Conv", conv_inputs, base=name, **kwargs)
        if fused:
            alpha = None
            if fused[0] == "Prelu":
                slope = self._value(extra[0]).astype(np.float32).reshape(-1, 1, 1)
                alpha = self._b.constant(name + "/alpha", slope)
            y = self._activation(fused[0], y, self._b.fresh(name), alpha, attrs)
        self._to_nhwc(y, name)

    def _matmul(self, name, ins, attrs):
        a = self._tensor(ins[0])
        if _bool_attr(attrs, "transpose_a"):
            a = self._b.add("Transpose", [a], base=name + "/a", perm=[1, 0])
        b = self._tensor(ins[1])
        if _bool_attr(attrs, "transpose_b"):
            b = self._b.add("Transpose", [b], base=name + "/b", perm=[1, 0])
        fused = _strs_attr(attrs, "fused_ops")
        extra = ins[2:]
        steps = []
        if fused[:1] == ["BiasAdd"]:
            steps.append(("bias", extra[0]))
            fused, extra = fused[1:], extra[1:]
        if len(fused) > 1:
            raise cc.ConversionError(f"{name}: fused ops {fused} are not supported")
        steps += [("act", f) for f in fused]
        y = self._b.add("MatMul", [a, b], None if steps else name, base=name)
        for i, (kind, arg) in enumerate(steps):
            out = name if i == len(steps) - 1 else self._b.fresh(name)
            if kind == "bias":
                y = self._b.add("Add", [y, self._tensor(arg)], out)
            else:
                alpha = self._tensor(extra[0]) if arg == "Prelu" else None
                y = self._activation(arg, y, out, alpha, attrs)

    def _reduce(self, name, op, ins, attrs):
        axes = [int(a) for a in np.atleast_1d(self._value(ins[1]))]
        keep = int(_bool_attr(attrs, "keep_dims"))
        x = self._tensor(ins[0])
        if op == "Sum":
            axes_ref = self._b.constant(name + "/axes", np.array(axes, np.int64))
            self._b.add("ReduceSum", [x, axes_ref], name, keepdims=keep)
        else:
            self._b.add(_REDUCE[op], [x], name, axes=axes, keepdims=keep)

    def _pool(self, name, op, ins, attrs):
        padding = _str_attr(attrs, "padding")
        if padding not in ("SAME", "VALID"):
            raise cc.ConversionError(f"{name}: padding {padding} is not supported")
        # AveragePool's default count_include_pad=0 matches TF, which averages real pixels only.
        y = self._b.add("MaxPool" if op == "MaxPool" else "AveragePool", [self._to_nchw(ins[0])],
                        base=name, kernel_shape=_ints_attr(attrs, "ksize")[1:3],
                        strides=_ints_attr(attrs, "strides")[1:3],
                        auto_pad="SAME_UPPER" if padding == "SAME" else "VALID")
        self._to_nhwc(y, name)

    def _resize(self, name, op, ins, attrs):
        size_hw = np.asarray(self._value(ins[1]), np.int64).reshape(2)
        align = _bool_attr(attrs, "align_corners")
        half = _bool_attr(attrs, "half_pixel_centers")
        if op == "ResizeBilinear":
            kwargs = dict(mode="linear", coordinate_transformation_mode=(
                "align_corners" if align else "half_pixel" if half else "asymmetric"))
        else:
            kwargs = dict(mode="nearest", coordinate_transformation_mode=(
                "align_corners" if align else "tf_half_pixel_for_nn" if half else "asymmetric"),
                nearest_mode="round_prefer_ceil" if align else "floor")
        x = self._to_nchw(ins[0])
        # Sizes are [N, C] of the input followed by the constant [H, W], so the batch stays free.
        shape = self._b.add("Shape", [x], base=name + "/shape")
        lo = self._b.shared_constant("argus/i64_0", np.array([0], np.int64))
        hi = self._b.shared_constant("argus/i64_2", np.array([2], np.int64))
        nc = self._b.add("Slice", [shape, lo, hi], base=name + "/nc")
        hw = self._b.constant(name + "/hw", size_hw)
        sizes = self._b.add("Concat", [nc, hw], base=name + "/sizes", axis=0)
        y = self._b.add("Resize", [x, "", "", sizes], base=name, **kwargs)
        self._to_nhwc(y, name)

    def _shaping(self, name, op, ins, attrs):
        b = self._b
        if op == "ConcatV2":
            axis = int(self._value(ins[-1]))
            b.add("Concat", [self._tensor(i) for i in ins[:-1]], name, axis=axis)
        elif op == "Reshape":
            shape = b.constant(name + "/shape", np.asarray(self._value(ins[1]), np.int64))
            b.add("Reshape", [self._tensor(ins[0]), shape], name)
        elif op == "Squeeze":
            axes = _ints_attr(attrs, "squeeze_dims") or _ints_attr(attrs, "axis") or []
            extra = [b.constant(name + "/axes", np.array(axes, np.int64))] if axes else []
            b.add("Squeeze", [self._tensor(ins[0])] + extra, name)
        elif op == "ExpandDims":
            axes = np.atleast_1d(self._value(ins[1])).astype(np.int64)
            b.add("Unsqueeze", [self._tensor(ins[0]), b.constant(name + "/axes", axes)], name)
        elif op == "Transpose":
            perm = [int(p) for p in self._value(ins[1])]
            b.add("Transpose", [self._tensor(ins[0])], name, perm=perm)
        else:
            self._pad(name, op, ins, attrs)

    def _pad(self, name, op, ins, attrs):
        pairs = np.asarray(self._value(ins[1]), np.int64)
        pads = self._b.constant(name + "/pads", np.concatenate([pairs[:, 0], pairs[:, 1]]))
        inputs = [self._tensor(ins[0]), pads]
        mode = "constant"
        if op == "PadV2":
            inputs.append(self._b.constant(name + "/value",
                                           np.asarray(self._value(ins[2]), np.float32)))
        elif op == "MirrorPad":
            mode = _str_attr(attrs, "mode", "REFLECT").lower()
            if mode != "reflect":
                raise cc.ConversionError(f"{name}: MirrorPad mode {mode} has no ONNX equivalent")
        self._b.add("Pad", inputs, name, mode=mode)

    def _other(self, name, op, ins, attrs):
        b = self._b
        x = self._tensor(ins[0])
        if op in ("Relu6", "LeakyRelu"):
            self._activation(op, x, name, None, {"leakyrelu_alpha": attrs.get("alpha", {})})
        elif op == "Prelu":
            b.add("PRelu", [x, self._tensor(ins[1])], name)
        elif op == "Rsqrt":
            b.add("Reciprocal", [b.add("Sqrt", [x], base=name)], name)
        elif op == "Square":
            b.add("Mul", [x, x], name)
        elif op == "SquaredDifference":
            diff = b.add("Sub", [x, self._tensor(ins[1])], base=name)
            b.add("Mul", [diff, diff], name)
        elif op == "Softmax":
            b.add("Softmax", [x], name, axis=-1)
        else:
            raise cc.ConversionError(f"{name}: op {op} is not supported")


def signature_outputs(model_json):
    """Output node names listed in the model's signature, without ':0'."""
    outputs = model_json.get("signature", {}).get("outputs", {})
    return [_source_name(v.get("name", k)) for k, v in outputs.items()]


def convert(model_json, weights, outputs, batch="auto"):
    """Converts and checks; returns (onnx.ModelProto, batchable).

    batch: "auto" (symbolic when the graph allows it, else 1), "symbolic" (error when the graph
    pins the batch) or "1".
    """
    outputs = [_source_name(o) for o in outputs]
    if batch not in ("auto", "symbolic", "1"):
        raise ValueError(f"batch must be auto, symbolic or 1, not {batch}")
    if batch != "1":
        model = GraphModelConverter(model_json, weights, True).convert(outputs)
        model, batchable = cc.finish(model)
        if batchable:
            return model, True
        if batch == "symbolic":
            raise cc.ConversionError("the graph pins the batch dimension; use --batch 1")
    model = GraphModelConverter(model_json, weights, False).convert(outputs)
    model, _ = cc.finish(model)
    return model, False


def convert_file(json_path, onnx_path, outputs=None, batch="auto"):
    with open(json_path) as f:
        model_json = json.load(f)
    if model_json.get("format") not in (None, "graph-model"):
        raise cc.ConversionError(f"{json_path} is a {model_json['format']}, not a graph-model")
    weights = cc.load_weights(model_json, os.path.dirname(json_path))
    model, batchable = convert(model_json, weights, outputs or signature_outputs(model_json), batch)
    cc.save(model, onnx_path)
    return model, batchable


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model_json")
    parser.add_argument("onnx_out")
    parser.add_argument("--outputs", help="comma-separated node names (default: the signature)")
    parser.add_argument("--batch", default="auto", choices=("auto", "symbolic", "1"))
    args = parser.parse_args(argv)
    outputs = args.outputs.split(",") if args.outputs else None
    try:
        model, batchable = convert_file(args.model_json, args.onnx_out, outputs, args.batch)
    except cc.ConversionError as e:
        print(f"tfjs_to_onnx: {args.model_json}: {e}", file=sys.stderr)
        return 1
    print(f"tfjs_to_onnx: wrote {args.onnx_out} ({len(model.graph.node)} nodes, "
          f"batch {'N' if batchable else '1'})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
