"""Pieces shared by the TF.js converters: weight loading, a graph builder, and the checks every
converted model must pass.

TF.js stores weights as one or more groups of shard files; inside a group the shards are
concatenated and the tensors follow each other in manifest order with no padding. A tensor may be
quantized: `float16` (stored as half floats) or `uint8`/`uint16` (stored as q, meaning
q * scale + min). Both converters read weights through load_weights().

Runs with Debian's /usr/bin/python3 (python3-onnx, python3-numpy); nothing else is imported.
"""
import os

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference

# The batch dimension's name in every converted graph and in the manifest.
BATCH_DIM = "N"

# Opset 13 is the first with the tensor-input forms of Squeeze/Unsqueeze/ReduceSum that the
# converters emit, and well inside what ONNX Runtime 1.30 and Debian 12's onnx 1.12 (up to 17)
# know. A fixed opset and IR version keep the output byte-identical from run to run.
OPSET = 13
IR_VERSION = 8

_PLAIN_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}
_QUANT_DTYPES = {"uint8": np.uint8, "uint16": np.uint16, "float16": np.float16}


class ConversionError(Exception):
    """The source model uses something the converter does not handle, or is malformed."""


def decode_weights(manifest, read_path):
    """Returns {weight name: np.ndarray} for a TF.js weightsManifest.

    read_path(path) returns the bytes of one shard named in a group's `paths`.
    """
    weights = {}
    for group in manifest:
        buf = b"".join(read_path(p) for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            array, offset = _decode_one(spec, buf, offset)
            weights[spec["name"]] = array
        if offset != len(buf):
            raise ConversionError(
                f"weight group {group['paths']}: manifest describes {offset} bytes, shards hold "
                f"{len(buf)}")
    return weights


def _decode_one(spec, buf, offset):
    name, shape, dtype = spec["name"], [int(d) for d in spec["shape"]], spec["dtype"]
    if dtype not in _PLAIN_DTYPES:
        raise ConversionError(f"weight {name}: dtype {dtype} is not supported")
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    quant = spec.get("quantization")
    stored = np.dtype(_QUANT_DTYPES[quant["dtype"]] if quant else _PLAIN_DTYPES[dtype])
    end = offset + count * stored.itemsize
    if end > len(buf):
        raise ConversionError(f"weight {name}: runs past the end of its shards")
    raw = np.frombuffer(buf, stored, count, offset)
    if quant is None:
        values = raw
    elif quant["dtype"] == "float16":
        values = raw.astype(np.float32)
    else:
        # Dequantize in float64 so that the rounding matches TF.js's own float math closely.
        values = raw.astype(np.float64) * quant["scale"] + quant["min"]
    if dtype == "int32" and quant is not None:
        values = np.round(values)
    return values.astype(_PLAIN_DTYPES[dtype]).reshape(shape), end


def load_weights(model_json, model_dir):
    """Reads the shards of a TF.js model.json whose paths are relative to model_dir."""

    def read(path):
        full = os.path.join(model_dir, path)
        if not os.path.isfile(full):
            raise ConversionError(f"weight shard {full} is missing")
        with open(full, "rb") as f:
            return f.read()

    return decode_weights(model_json.get("weightsManifest", []), read)


class GraphBuilder:
    """Collects ONNX nodes and initializers under unique tensor names.

    Converters reserve the source model's own names first, so that every helper tensor they add
    (a transposed kernel, a layout Transpose) gets a name no source tensor can clash with.
    """

    def __init__(self):
        self.nodes = []
        self.initializers = {}
        self._taken = set()
        self._serial = 0

    def reserve(self, name):
        self._taken.add(name)

    def fresh(self, base):
        while True:
            self._serial += 1
            name = f"{base}__{self._serial}"
            if name not in self._taken:
                self._taken.add(name)
                return name

    def constant(self, base, array):
        """Adds an initializer under a new name derived from base; returns the name."""
        name = self.fresh(base)
        self.initializers[name] = numpy_helper.from_array(np.asarray(array), name)
        return name

    def shared_constant(self, name, array):
        """Adds an initializer under exactly `name` once (later calls reuse it); returns name."""
        if name not in self.initializers:
            self._taken.add(name)
            self.initializers[name] = numpy_helper.from_array(np.asarray(array), name)
        return name

    def add(self, op, inputs, output=None, base=None, **attrs):
        """Appends a node; its one output is `output`, or a fresh name from base. Returns it."""
        if output is None:
            output = self.fresh(base or op)
        else:
            self._taken.add(output)
        self.nodes.append(helper.make_node(op, list(inputs), [output], **attrs))
        return output

    def graph(self, name, inputs, outputs):
        """Builds the graph, keeping only the nodes and initializers the outputs depend on."""
        wanted = {o.name for o in outputs}
        kept = []
        for node in reversed(self.nodes):
            if any(o in wanted for o in node.output):
                kept.append(node)
                wanted.update(i for i in node.input if i)
        kept.reverse()
        inits = [t for n, t in self.initializers.items() if n in wanted]
        return helper.make_graph(kept, name, inputs, outputs, inits)


def make_model(graph, producer, doc):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name=producer, producer_version="1", doc_string=doc)
    model.ir_version = IR_VERSION
    return model


def finish(model):
    """Checks a converted model and declares its output shapes; returns (model, batchable).

    Runs strict shape inference (with data propagation, so that shapes computed from
    Shape/Slice/Concat resolve), writes the output shapes it finds into the graph's output
    declarations (so the file itself says what comes out), then runs onnx.checker with its full
    check. The graph is batchable when every output's first dimension is the symbolic batch.
    Raises ConversionError when a check fails.
    """
    try:
        inferred = shape_inference.infer_shapes(model, check_type=True, strict_mode=True,
                                                data_prop=True)
    except shape_inference.InferenceError as e:
        raise ConversionError(f"shape inference fails on the converted graph: {e}") from e
    known = {v.name: v for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    batchable = True
    for out in model.graph.output:
        found = known.get(out.name)
        if found is None or not found.type.tensor_type.HasField("shape"):
            raise ConversionError(f"shape inference could not find the shape of output {out.name}")
        out.type.CopyFrom(found.type)
        dims = out.type.tensor_type.shape.dim
        if not dims or dims[0].dim_param != BATCH_DIM:
            batchable = False
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as e:
        raise ConversionError(f"the converted graph fails onnx.checker: {e}") from e
    return model, batchable


def save(model, path):
    """Writes the model through a temporary file, so a failed run leaves no truncated .onnx."""
    tmp = f"{path}.partial"
    onnx.save(model, tmp)
    os.replace(tmp, path)
