#!/usr/bin/python3
"""Converts a TF.js layers model (Keras topology in model.json plus weight shards) to ONNX.

    /usr/bin/python3 keras_to_onnx.py MODEL_JSON OUT_ONNX [--outputs L1,L2] [--input-name NAME]

Handles Keras "Model" (functional, each layer called once) and "Sequential" topologies made of
the layers of MobileNet-style image networks (see _LAYERS). The graph input keeps Keras's NHWC
layout; inside, 4-D tensors are NCHW, and a 4-D tensor is transposed back to NHWC where Keras
semantics need it (Flatten, and 4-D graph outputs). Output tensors are named after their layers.

The batch dimension is the symbol "N" when the graph allows it, else 1 (see tfjs_to_onnx.py).
"""
import argparse
import json
import os
import sys

import numpy as np
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convert_common as cc  # noqa: E402

_ACTIVATIONS = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softmax": "Softmax",
                "elu": "Elu", "softplus": "Softplus", "linear": None}
_IGNORED_LAYERS = ("Dropout", "SpatialDropout2D", "GaussianNoise", "ActivityRegularization")


class _Tensor:
    """A converted Keras tensor: its ONNX name and rank (4-D ones are NCHW inside the graph)."""

    def __init__(self, name, rank):
        self.name = name
        self.rank = rank


class LayersModelConverter:
    """One conversion of a TF.js layers model; see the module comment for the approach."""

    def __init__(self, model_json, weights, batch_symbolic=True, input_name=None):
        config = model_json["modelTopology"]
        config = config.get("model_config", config)
        self._kind = config["class_name"]
        self._config = config["config"]
        self._weights = weights
        self._batch_symbolic = batch_symbolic
        self._input_name = input_name
        self._b = cc.GraphBuilder()
        self._tensors = {}
        self._inputs = []
        self._handlers = {
            "InputLayer": None, "Conv2D": self._conv, "DepthwiseConv2D": self._conv,
            "BatchNormalization": self._batch_norm, "ReLU": self._relu,
            "Activation": self._activation_layer, "Softmax": self._activation_layer,
            "ZeroPadding2D": self._zero_padding, "Add": self._merge, "Multiply": self._merge,
            "Concatenate": self._merge, "AveragePooling2D": self._pool,
            "MaxPooling2D": self._pool, "GlobalAveragePooling2D": self._global_pool,
            "GlobalMaxPooling2D": self._global_pool, "Flatten": self._flatten,
            "Dense": self._dense,
        }

    def layers(self):
        """[(layer, [inbound layer names])] in the model's own (topological) order."""
        if self._kind == "Sequential":
            layers = self._config["layers"] if isinstance(self._config, dict) else self._config
            result, previous = [], None
            for layer in layers:
                result.append((layer, [previous] if previous else []))
                previous = layer["config"]["name"]
            return result
        if self._kind not in ("Model", "Functional"):
            raise cc.ConversionError(f"model class {self._kind} is not supported")
        result = []
        for layer in self._config["layers"]:
            inbound = layer.get("inbound_nodes") or []
            if len(inbound) > 1:
                raise cc.ConversionError(f"layer {layer['name']} is shared; not supported")
            refs = inbound[0] if inbound else []
            if isinstance(refs, dict):
                raise cc.ConversionError("Keras 3 topologies are not supported")
            result.append((layer, [r[0] for r in refs]))
        return result

    def output_layers(self):
        if self._kind == "Sequential":
            return [self.layers()[-1][0]["config"]["name"]]
        return [ref[0] for ref in self._config["output_layers"]]

    def convert(self, outputs=None):
        layers = self.layers()
        for layer, _ in layers:
            self._b.reserve(layer["config"]["name"])
        if self._kind == "Sequential" and layers[0][0]["class_name"] != "InputLayer":
            self._input(layers[0][0]["config"]["name"] + "_input", layers[0][0]["config"])
            layers[0] = (layers[0][0], [layers[0][0]["config"]["name"] + "_input"])
        for layer, inbound in layers:
            kind, config = layer["class_name"], layer["config"]
            name = config["name"]
            if kind == "InputLayer":
                self._input(name, config)
                continue
            try:
                ins = [self._tensors[i] for i in inbound]
            except KeyError as e:
                raise cc.ConversionError(f"layer {name} reads unknown layer {e}") from None
            if kind in _IGNORED_LAYERS:
                self._tensors[name] = ins[0]  # inference-time identity
                continue
            handler = self._handlers.get(kind)
            if handler is None:
                raise cc.ConversionError(f"layer {name}: class {kind} is not supported")
            self._tensors[name] = handler(name, kind, config, ins)
        graph_outputs = []
        for out in outputs or self.output_layers():
            if out not in self._tensors:
                raise cc.ConversionError(f"output {out} is not a layer of the model")
            self._publish(out, self._tensors[out])
            graph_outputs.append(helper.make_tensor_value_info(out, TensorProto.FLOAT, None))
        graph = self._b.graph(self._config.get("name", "keras") if isinstance(self._config, dict)
                              else "keras", self._inputs, graph_outputs)
        return cc.make_model(graph, "argus keras_to_onnx", "converted from a TF.js layers model")

    def _input(self, name, config):
        shape = config.get("batch_input_shape") or config.get("batch_shape")
        if not shape:
            raise cc.ConversionError(f"input {name} declares no batch_input_shape")
        graph_name = self._input_name or name
        dims = [cc.BATCH_DIM if self._batch_symbolic else 1]
        dims += [d if d else f"{graph_name}_dim{i}" for i, d in enumerate(shape) if i > 0]
        self._inputs.append(helper.make_tensor_value_info(graph_name, TensorProto.FLOAT, dims))
        if len(shape) == 4:
            nchw = self._b.add("Transpose", [graph_name], base=name + "/nchw", perm=[0, 3, 1, 2])
            self._tensors[name] = _Tensor(nchw, 4)
        else:
            self._tensors[name] = _Tensor(graph_name, len(shape))

    def _publish(self, name, tensor):
        """Makes the graph output `name` carry the layer's value in Keras's own layout."""
        if tensor.rank == 4:
            self._b.add("Transpose", [tensor.name], name, perm=[0, 2, 3, 1])
        elif tensor.name != name:
            self._b.add("Identity", [tensor.name], name)

    def _weight(self, layer, param):
        """A layer's weight; some exports prefix weight names with the model's name."""
        exact = f"{layer}/{param}"
        if exact in self._weights:
            return self._weights[exact].astype(np.float32)
        suffix = "/" + exact
        found = [n for n in self._weights if n.endswith(suffix)]
        if len(found) != 1:
            raise cc.ConversionError(f"weight {exact} not found (or ambiguous: {found})")
        return self._weights[found[0]].astype(np.float32)

    @staticmethod
    def _internal(name, rank):
        return name + "/nchw" if rank == 4 else name

    def _emit(self, name, rank, op, inputs, activation="linear", **attrs):
        """Emits op, then the Keras activation; the last node writes the layer's own tensor."""
        if activation not in _ACTIVATIONS:
            raise cc.ConversionError(f"layer {name}: activation {activation} is not supported")
        target = self._internal(name, rank)
        act = _ACTIVATIONS[activation]
        if act is None:
            return _Tensor(self._b.add(op, inputs, target, **attrs), rank)
        y = self._b.add(op, inputs, base=name, **attrs)
        act_attrs = {"axis": 1 if rank == 4 else -1} if act == "Softmax" else {}
        return _Tensor(self._b.add(act, [y], target, **act_attrs), rank)

    def _conv(self, name, kind, config, ins):
        self._require_rank(name, ins[0], 4)
        if config.get("data_format", "channels_last") != "channels_last":
            raise cc.ConversionError(f"layer {name}: only channels_last is supported")
        if kind == "DepthwiseConv2D":
            kernel = self._weight(name, "depthwise_kernel")
            kh, kw, channels, multiplier = kernel.shape
            kernel = kernel.transpose(2, 3, 0, 1).reshape(channels * multiplier, 1, kh, kw)
            group = channels
        else:
            kernel = self._weight(name, "kernel").transpose(3, 2, 0, 1)
            group = 1
        inputs = [ins[0].name, self._b.constant(name + "/kernel", kernel)]
        if config.get("use_bias", True):
            inputs.append(self._b.constant(name + "/bias", self._weight(name, "bias")))
        padding = config.get("padding", "valid")
        if padding not in ("same", "valid"):
            raise cc.ConversionError(f"layer {name}: padding {padding} is not supported")
        return self._emit(name, 4, "Conv", inputs, config.get("activation", "linear"),
                          strides=list(config.get("strides", [1, 1])),
                          dilations=list(config.get("dilation_rate", [1, 1])), group=group,
                          auto_pad="SAME_UPPER" if padding == "same" else "VALID")

    def _batch_norm(self, name, kind, config, ins):
        axis = config.get("axis", -1)
        axis = axis[0] if isinstance(axis, list) else axis
        rank = ins[0].rank
        if axis not in (-1, rank - 1):
            raise cc.ConversionError(f"layer {name}: batch norm over axis {axis} not supported")
        mean = self._weight(name, "moving_mean")
        ones, zeros = np.ones_like(mean), np.zeros_like(mean)
        gamma = self._weight(name, "gamma") if config.get("scale", True) else ones
        beta = self._weight(name, "beta") if config.get("center", True) else zeros
        params = [self._b.constant(f"{name}/{p}", v) for p, v in
                  (("gamma", gamma), ("beta", beta), ("mean", mean),
                   ("variance", self._weight(name, "moving_variance")))]
        # ONNX normalises axis 1: for NCHW tensors and for [N, C] that is the channel axis.
        if rank not in (2, 4):
            raise cc.ConversionError(f"layer {name}: batch norm on rank {rank} not supported")
        return self._emit(name, rank, "BatchNormalization", [ins[0].name] + params,
                          epsilon=float(config.get("epsilon", 1e-3)))

    def _relu(self, name, kind, config, ins):
        x, rank = ins[0].name, ins[0].rank
        slope = config.get("negative_slope") or 0.0
        threshold = config.get("threshold") or 0.0
        if slope or threshold:
            raise cc.ConversionError(f"layer {name}: ReLU with slope/threshold not supported")
        if config.get("max_value") is not None:
            lo = self._b.shared_constant("argus/zero", np.float32(0))
            hi = self._b.constant(name + "/max", np.float32(config["max_value"]))
            return _Tensor(self._b.add("Clip", [x, lo, hi], self._internal(name, rank)), rank)
        return _Tensor(self._b.add("Relu", [x], self._internal(name, rank)), rank)

    def _activation_layer(self, name, kind, config, ins):
        activation = "softmax" if kind == "Softmax" else config["activation"]
        if kind == "Softmax" and config.get("axis", -1) != -1:
            raise cc.ConversionError(f"layer {name}: softmax over axis {config['axis']}")
        return self._emit(name, ins[0].rank, "Identity", [ins[0].name], activation)

    def _zero_padding(self, name, kind, config, ins):
        self._require_rank(name, ins[0], 4)
        padding = config.get("padding", 1)
        if isinstance(padding, int):
            (top, bottom), (left, right) = (padding, padding), (padding, padding)
        else:
            (top, bottom), (left, right) = [p if isinstance(p, list) else (p, p) for p in padding]
        pads = self._b.constant(name + "/pads",
                                np.array([0, 0, top, left, 0, 0, bottom, right], np.int64))
        return _Tensor(self._b.add("Pad", [ins[0].name, pads], self._internal(name, 4)), 4)

    def _merge(self, name, kind, config, ins):
        ranks = {t.rank for t in ins}
        if len(ranks) != 1:
            raise cc.ConversionError(f"layer {name}: inputs of different ranks")
        rank = ranks.pop()
        target = self._internal(name, rank)
        names = [t.name for t in ins]
        if kind == "Add":
            return _Tensor(self._b.add("Sum", names, target), rank)
        if kind == "Multiply":
            y = names[0]
            for i, other in enumerate(names[1:]):
                last = i == len(names) - 2
                y = self._b.add("Mul", [y, other], target if last else None, base=name)
            return _Tensor(y, rank)
        axis = config.get("axis", -1)
        if rank == 4:
            axis = {-1: 1, 3: 1, 1: 2, 2: 3, -3: 2, -2: 3}[axis]  # NHWC axis -> NCHW axis
        return _Tensor(self._b.add("Concat", names, target, axis=axis), rank)

    def _pool(self, name, kind, config, ins):
        self._require_rank(name, ins[0], 4)
        padding = config.get("padding", "valid")
        pool = list(config.get("pool_size", [2, 2]))
        strides = list(config.get("strides") or pool)
        y = self._b.add("AveragePool" if kind.startswith("Average") else "MaxPool",
                        [ins[0].name], self._internal(name, 4), kernel_shape=pool,
                        strides=strides, auto_pad="SAME_UPPER" if padding == "same" else "VALID")
        return _Tensor(y, 4)

    def _global_pool(self, name, kind, config, ins):
        self._require_rank(name, ins[0], 4)
        op = "GlobalAveragePool" if "Average" in kind else "GlobalMaxPool"
        pooled = self._b.add(op, [ins[0].name], base=name)
        if config.get("keepdims"):
            return _Tensor(self._b.add("Identity", [pooled], self._internal(name, 4)), 4)
        return _Tensor(self._b.add("Flatten", [pooled], name, axis=1), 2)

    def _flatten(self, name, kind, config, ins):
        x = ins[0].name
        if ins[0].rank == 4:
            # Keras flattens NHWC order; go back to it first so the element order matches.
            x = self._b.add("Transpose", [x], base=name + "/nhwc", perm=[0, 2, 3, 1])
        return _Tensor(self._b.add("Flatten", [x], name, axis=1), 2)

    def _dense(self, name, kind, config, ins):
        self._require_rank(name, ins[0], 2)
        inputs = [ins[0].name, self._b.constant(name + "/kernel", self._weight(name, "kernel"))]
        if config.get("use_bias", True):
            inputs.append(self._b.constant(name + "/bias", self._weight(name, "bias")))
        return self._emit(name, 2, "Gemm", inputs, config.get("activation", "linear"))

    @staticmethod
    def _require_rank(name, tensor, rank):
        if tensor.rank != rank:
            raise cc.ConversionError(f"layer {name}: needs a rank-{rank} input, got {tensor.rank}")


def convert(model_json, weights, outputs=None, input_name=None, batch="auto"):
    """Converts and checks; returns (onnx.ModelProto, batchable). batch as in tfjs_to_onnx."""
    if batch not in ("auto", "symbolic", "1"):
        raise ValueError(f"batch must be auto, symbolic or 1, not {batch}")
    if batch != "1":
        model = LayersModelConverter(model_json, weights, True, input_name).convert(outputs)
        model, batchable = cc.finish(model)
        if batchable:
            return model, True
        if batch == "symbolic":
            raise cc.ConversionError("the graph pins the batch dimension; use --batch 1")
    model = LayersModelConverter(model_json, weights, False, input_name).convert(outputs)
    model, _ = cc.finish(model)
    return model, False


def convert_file(json_path, onnx_path, outputs=None, input_name=None, batch="auto"):
    with open(json_path) as f:
        model_json = json.load(f)
    if model_json.get("format") not in (None, "layers-model"):
        raise cc.ConversionError(f"{json_path} is a {model_json['format']}, not a layers-model")
    weights = cc.load_weights(model_json, os.path.dirname(json_path))
    model, batchable = convert(model_json, weights, outputs, input_name, batch)
    cc.save(model, onnx_path)
    return model, batchable


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model_json")
    parser.add_argument("onnx_out")
    parser.add_argument("--outputs", help="comma-separated layer names (default: model outputs)")
    parser.add_argument("--input-name", help="name of the graph input (default: the layer's)")
    parser.add_argument("--batch", default="auto", choices=("auto", "symbolic", "1"))
    args = parser.parse_args(argv)
    outputs = args.outputs.split(",") if args.outputs else None
    try:
        model, batchable = convert_file(args.model_json, args.onnx_out, outputs, args.input_name,
                                        args.batch)
    except cc.ConversionError as e:
        print(f"keras_to_onnx: {args.model_json}: {e}", file=sys.stderr)
        return 1
    print(f"keras_to_onnx: wrote {args.onnx_out} ({len(model.graph.node)} nodes, "
          f"batch {'N' if batchable else '1'})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
