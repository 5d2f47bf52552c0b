"""Tests of the TF.js -> ONNX converters on tiny models built in memory.

    /usr/bin/python3 -m unittest discover -s scripts/models -p 'test_*.py'

Each test model is a few layers (convolutions, pooling, resize, dense) with random weights. The
converted graph must pass onnx.checker, declare a symbolic batch "N" and give, for a batch of two
images, what a direct numpy implementation of the TF/Keras semantics (in NHWC) gives. The ONNX
side runs on onnx.reference.ReferenceEvaluator when the installed onnx has it (1.13+); Debian 12
ships onnx 1.12, so otherwise a small numpy interpreter of the ONNX ops below (NCHW, ONNX
semantics) runs it. The two implementations share no code, so a wrong kernel layout, padding or
transpose in a converter shows up as a numeric mismatch.
"""
import base64
import json
import os
import sys
import tempfile
import unittest

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import assemble  # noqa: E402
import convert_common as cc  # noqa: E402
import keras_to_onnx  # noqa: E402
import tfjs_to_onnx  # noqa: E402

try:
    from onnx.reference import ReferenceEvaluator
except ImportError:  # onnx < 1.13
    ReferenceEvaluator = None

RNG = np.random.default_rng(20261124)


def _random_weights(seed):
    """Returns rand(*shape): the same sequence of arrays for the same seed, so that a model built
    twice (once to convert, once to compute the expected values) has the same weights."""
    rng = np.random.default_rng(seed)
    return lambda *shape: (rng.standard_normal(shape) * 0.5).astype(np.float32)


# ---- numpy reference of TF semantics (NHWC) ------------------------------------------------


def _tf_same_pads(size, kernel, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _tf_conv(x, kernel, stride, padding, depthwise=False):
    """TF Conv2D (kernel HWIO) or DepthwiseConv2dNative (kernel H W C M) on NHWC input."""
    kh, kw = kernel.shape[:2]
    if padding == "SAME":
        (t, b), (l, r) = _tf_same_pads(x.shape[1], kh, stride), _tf_same_pads(x.shape[2], kw,
                                                                               stride)
        x = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))
    n, h, w, c = x.shape
    oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    out_c = c * kernel.shape[3] if depthwise else kernel.shape[3]
    out = np.zeros((n, oh, ow, out_c), np.float64)
    for y in range(oh):
        for xx in range(ow):
            patch = x[:, y * stride:y * stride + kh, xx * stride:xx * stride + kw, :]
            if depthwise:
                out[:, y, xx, :] = np.einsum("nijc,ijcm->ncm", patch, kernel).reshape(n, -1)
            else:
                out[:, y, xx, :] = np.einsum("nijc,ijco->no", patch, kernel)
    return out


def _tf_resize_bilinear(x, out_h, out_w):
    """tf.image.resize_bilinear with align_corners=False, half_pixel_centers=False."""
    n, h, w, c = x.shape
    out = np.zeros((n, out_h, out_w, c))
    for y in range(out_h):
        sy = y * h / out_h
        y0 = int(np.floor(sy))
        y1, fy = min(y0 + 1, h - 1), sy - y0
        for xx in range(out_w):
            sx = xx * w / out_w
            x0 = int(np.floor(sx))
            x1, fx = min(x0 + 1, w - 1), sx - x0
            top = x[:, y0, x0] * (1 - fx) + x[:, y0, x1] * fx
            bottom = x[:, y1, x0] * (1 - fx) + x[:, y1, x1] * fx
            out[:, y, xx] = top * (1 - fy) + bottom * fy
    return out


def _tf_pool(x, size, stride, reduce):
    n, h, w, c = x.shape
    oh, ow = (h - size) // stride + 1, (w - size) // stride + 1
    out = np.zeros((n, oh, ow, c))
    for y in range(oh):
        for xx in range(ow):
            out[:, y, xx] = reduce(x[:, y * stride:y * stride + size,
                                     xx * stride:xx * stride + size], axis=(1, 2))
    return out


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# ---- a small interpreter of ONNX semantics (NCHW), for onnx < 1.13 --------------------------


def _onnx_conv(x, w, b=None, auto_pad="NOTSET", pads=None, strides=(1, 1), dilations=(1, 1),
               group=1, **_):
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    sh, sw = strides
    dh, dw = dilations
    eff_h, eff_w = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        oh, ow = -(-h // sh), -(-wd // sw)
        th, tw = max((oh - 1) * sh + eff_h - h, 0), max((ow - 1) * sw + eff_w - wd, 0)
        upper = auto_pad == "SAME_UPPER"
        ph = (th // 2, th - th // 2) if upper else (th - th // 2, th // 2)
        pw = (tw // 2, tw - tw // 2) if upper else (tw - tw // 2, tw // 2)
    else:
        p = pads or [0, 0, 0, 0]
        ph, pw = (p[0], p[2]), (p[1], p[3])
    x = np.pad(x, ((0, 0), (0, 0), ph, pw))
    oh = (x.shape[2] - eff_h) // sh + 1
    ow = (x.shape[3] - eff_w) // sw + 1
    xg = x.reshape(n, group, c // group, x.shape[2], x.shape[3])
    wg = w.reshape(group, m // group, cg, kh, kw)
    out = np.zeros((n, group, m // group, oh, ow))
    for i in range(kh):
        for j in range(kw):
            patch = xg[:, :, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                       j * dw:j * dw + sw * (ow - 1) + 1:sw]
            out += np.einsum("ngchw,gmc->ngmhw", patch, wg[:, :, :, i, j])
    out = out.reshape(n, m, oh, ow)
    return out if b is None else out + b.reshape(1, -1, 1, 1)


def _onnx_pool(x, kernel_shape, strides, auto_pad="NOTSET", reduce=np.max, **_):
    if auto_pad not in ("NOTSET", "VALID"):
        raise NotImplementedError("the test interpreter pools VALID only")
    (kh, kw), (sh, sw) = kernel_shape, strides
    oh, ow = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    out = np.zeros(x.shape[:2] + (oh, ow))
    for y in range(oh):
        for xx in range(ow):
            out[:, :, y, xx] = reduce(x[:, :, y * sh:y * sh + kh, xx * sw:xx * sw + kw],
                                      axis=(2, 3))
    return out


def _onnx_resize(x, _roi, _scales, sizes, mode="nearest",
                 coordinate_transformation_mode="half_pixel", **_):
    if mode != "linear" or coordinate_transformation_mode != "asymmetric":
        raise NotImplementedError("the test interpreter resizes linear/asymmetric only")
    for axis in (2, 3):
        size_in, size_out = x.shape[axis], int(sizes[axis])
        src = np.clip(np.arange(size_out) * size_in / size_out, 0, size_in - 1)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, size_in - 1)
        frac = (src - lo).reshape([-1 if a == axis else 1 for a in range(4)])
        x = np.take(x, lo, axis=axis) * (1 - frac) + np.take(x, hi, axis=axis) * frac
    return x


def _onnx_batch_norm(x, scale, bias, mean, var, epsilon=1e-5, **_):
    shape = [1, -1] + [1] * (x.ndim - 2)
    return ((x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + epsilon) *
            scale.reshape(shape) + bias.reshape(shape))


def _onnx_pad(x, pads, value=None, mode="constant", **_):
    if mode != "constant":
        raise NotImplementedError("the test interpreter pads with constants only")
    half = len(pads) // 2
    return np.pad(x, list(zip(pads[:half], pads[half:])),
                  constant_values=0 if value is None else value)


_OPS = {
    "Conv": _onnx_conv,
    "MaxPool": lambda x, **a: _onnx_pool(x, reduce=np.max, **a),
    "AveragePool": lambda x, **a: _onnx_pool(x, reduce=np.mean, **a),
    "GlobalAveragePool": lambda x, **_: x.mean(axis=(2, 3), keepdims=True),
    "Resize": _onnx_resize,
    "BatchNormalization": _onnx_batch_norm,
    "Pad": _onnx_pad,
    "Transpose": lambda x, perm, **_: np.transpose(x, perm),
    "Relu": lambda x, **_: np.maximum(x, 0),
    "Clip": lambda x, lo, hi, **_: np.clip(x, lo, hi),
    "Identity": lambda x, **_: x,
    "Add": lambda a, b, **_: a + b, "Sub": lambda a, b, **_: a - b,
    "Mul": lambda a, b, **_: a * b, "Div": lambda a, b, **_: a / b,
    "Max": lambda a, b, **_: np.maximum(a, b), "Min": lambda a, b, **_: np.minimum(a, b),
    "Sum": lambda *xs, **_: sum(xs),
    "MatMul": lambda a, b, **_: a @ b,
    "Gemm": lambda a, b, c=None, **_: a @ b + (0 if c is None else c),
    "Shape": lambda x, **_: np.array(x.shape, np.int64),
    "Slice": lambda x, starts, ends, **_: x[int(starts[0]):int(ends[0])],
    "Concat": lambda *xs, axis, **_: np.concatenate(xs, axis=axis),
    "ReduceMean": lambda x, axes, keepdims=1, **_: x.mean(axis=tuple(axes),
                                                           keepdims=bool(keepdims)),
    "Softmax": lambda x, axis=-1, **_: np.moveaxis(_softmax(np.moveaxis(x, axis, -1)), -1, axis),
    "Flatten": lambda x, axis=1, **_: x.reshape(int(np.prod(x.shape[:axis])), -1),
}


def _run_onnx(model, feeds):
    """Runs a model on {input name: array}; returns {output name: array}."""
    if ReferenceEvaluator is not None:
        outputs = ReferenceEvaluator(model).run(None, feeds)
        return {o.name: v for o, v in zip(model.graph.output, outputs)}
    values = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    values.update({k: v.astype(np.float64) for k, v in feeds.items()})
    for node in model.graph.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        attrs = {k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items()}
        args = [values[i] if i else None for i in node.input]
        values[node.output[0]] = _OPS[node.op_type](*args, **attrs)
    return {o.name: values[o.name] for o in model.graph.output}


# ---- tiny TF.js models ---------------------------------------------------------------------


def _b64(s):
    return base64.b64encode(s.encode()).decode()


def _ints(values):
    return {"list": {"i": [str(v) for v in values]}}


def _node(name, op, inputs=(), **attrs):
    return {"name": name, "op": op, "input": list(inputs), "attr": attrs}


def _conv_attrs(stride, padding, fused=()):
    attrs = {"strides": _ints([1, stride, stride, 1]), "padding": {"s": _b64(padding)},
             "data_format": {"s": _b64("NHWC")}, "dilations": _ints([1, 1, 1, 1])}
    if fused:
        attrs["fused_ops"] = {"list": {"s": [_b64(f) for f in fused]}}
        attrs["num_args"] = {"i": str(len(fused))}
    return attrs


def _pack_weights(weights, quantize=None):
    """(weightsManifest, shard bytes) for {name: array}; quantize: {name: 'uint8'|'float16'}."""
    quantize = quantize or {}
    specs, blobs = [], []
    for name, value in weights.items():
        dtype = "int32" if value.dtype.kind in "iu" else "float32"
        spec = {"name": name, "shape": list(value.shape), "dtype": dtype}
        kind = quantize.get(name)
        if kind == "float16":
            blobs.append(value.astype(np.float16).tobytes())
            spec["quantization"] = {"dtype": "float16"}
        elif kind == "uint8":
            lo, hi = float(value.min()), float(value.max())
            scale = (hi - lo) / 255 or 1.0
            blobs.append(np.round((value - lo) / scale).astype(np.uint8).tobytes())
            spec["quantization"] = {"dtype": "uint8", "scale": scale, "min": lo}
        else:
            blobs.append(value.astype(np.int32 if dtype == "int32" else np.float32).tobytes())
        specs.append(spec)
    return [{"paths": ["group1-shard1of1.bin"], "weights": specs}], b"".join(blobs)


def _dequantized(weights, manifest, shard):
    """The weights as a converter sees them after the round trip through the shard."""
    decoded = cc.decode_weights(manifest, lambda _: shard)
    return {k: decoded[k] for k in weights}


def _tiny_graph_model():
    """x[N,8,8,3] -> conv3x3+relu -> depthwise (multiplier 2) s2+relu6 -> resize x2 -> concat ->
    mean -> dense -> softmax ("prob"); and conv -> maxpool -> * 0.5 ("pooled")."""
    _rand = _random_weights(1)
    w = {
        "k1": _rand(3, 3, 3, 4), "b1": _rand(4), "kd": _rand(3, 3, 4, 2), "bd": _rand(8),
        "fc_w": _rand(12, 5), "fc_b": _rand(5), "half": np.array(0.5, np.float32),
        "size": np.array([8, 8], np.int32), "axes": np.array([1, 2], np.int32),
        "axis": np.array(-1, np.int32),
    }
    nodes = [
        _node("x", "Placeholder", shape={"shape": {"dim": [{"size": "-1"}, {"size": "8"},
                                                            {"size": "8"}, {"size": "3"}]}},
              dtype={"type": "DT_FLOAT"}),
    ] + [_node(n, "Const") for n in w] + [
        _node("conv", "_FusedConv2D", ["x", "k1", "b1"], **_conv_attrs(1, "SAME",
                                                                       ["BiasAdd", "Relu"])),
        _node("dw", "FusedDepthwiseConv2dNative", ["conv", "kd", "bd"],
              **_conv_attrs(2, "SAME", ["BiasAdd", "Relu6"])),
        _node("up", "ResizeBilinear", ["dw", "size"], align_corners={"b": False},
              half_pixel_centers={"b": False}),
        _node("cat", "ConcatV2", ["conv", "up", "axis"]),
        _node("gap", "Mean", ["cat", "axes"], keep_dims={"b": False}),
        _node("fc", "_FusedMatMul", ["gap", "fc_w", "fc_b"], transpose_a={"b": False},
              transpose_b={"b": False}, fused_ops={"list": {"s": [_b64("BiasAdd")]}}),
        _node("prob", "Softmax", ["fc:0"]),
        _node("pool", "MaxPool", ["conv"], ksize=_ints([1, 2, 2, 1]), strides=_ints([1, 2, 2, 1]),
              padding={"s": _b64("VALID")}),
        _node("pooled", "Mul", ["pool", "half"]),
        _node("topk", "TopKV2", ["prob"]),  # post-processing the outputs do not need
    ]
    manifest, shard = _pack_weights(w, quantize={"k1": "float16", "fc_w": "uint8"})
    return {"format": "graph-model", "modelTopology": {"node": nodes},
            "weightsManifest": manifest}, shard, w


def _tiny_graph_expected(x, w):
    conv = np.maximum(_tf_conv(x, w["k1"], 1, "SAME") + w["b1"], 0)
    dw = np.clip(_tf_conv(conv, w["kd"], 2, "SAME", depthwise=True) + w["bd"], 0, 6)
    cat = np.concatenate([conv, _tf_resize_bilinear(dw, 8, 8)], axis=-1)
    prob = _softmax(cat.mean(axis=(1, 2)) @ w["fc_w"] + w["fc_b"])
    pooled = _tf_pool(conv, 2, 2, np.max) * 0.5
    return {"prob": prob, "pooled": pooled}


def _shape(value):
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


class TfjsToOnnxTest(unittest.TestCase):
    def convert(self, outputs=("prob", "pooled"), batch="auto"):
        model_json, shard, _ = _tiny_graph_model()
        weights = cc.decode_weights(model_json["weightsManifest"], lambda _: shard)
        return tfjs_to_onnx.convert(model_json, weights, list(outputs), batch)

    def test_converted_graph_is_valid_with_symbolic_batch(self):
        model, batchable = self.convert()
        onnx.checker.check_model(model, full_check=True)
        self.assertTrue(batchable)
        self.assertEqual([_shape(i) for i in model.graph.input], [["N", 8, 8, 3]])
        self.assertEqual({o.name: _shape(o) for o in model.graph.output},
                         {"prob": ["N", 5], "pooled": ["N", 4, 4, 4]})

    def test_outputs_match_numpy_for_a_batch_of_two(self):
        model, _ = self.convert()
        model_json, shard, w = _tiny_graph_model()
        w = _dequantized(w, model_json["weightsManifest"], shard)
        x = RNG.uniform(0, 1, (2, 8, 8, 3)).astype(np.float32)
        got = _run_onnx(model, {"x": x})
        for name, want in _tiny_graph_expected(x.astype(np.float64), w).items():
            np.testing.assert_allclose(got[name], want, rtol=1e-4, atol=1e-5, err_msg=name)

    def test_reshape_to_batch_one_falls_back_to_fixed_batch(self):
        model_json, shard, _ = _tiny_graph_model()
        model_json["modelTopology"]["node"] += [
            _node("flat_shape", "Const"),
            _node("flat", "Reshape", ["pooled", "flat_shape"]),
        ]
        weights = cc.decode_weights(model_json["weightsManifest"], lambda _: shard)
        weights["flat_shape"] = np.array([1, -1], np.int32)
        model, batchable = tfjs_to_onnx.convert(model_json, weights, ["flat"])
        self.assertFalse(batchable)
        self.assertEqual(_shape(model.graph.input[0]), [1, 8, 8, 3])
        self.assertEqual(_shape(model.graph.output[0]), [1, 64])
        with self.assertRaises(cc.ConversionError):
            tfjs_to_onnx.convert(model_json, weights, ["flat"], batch="symbolic")

    def test_unsupported_op_fails_only_when_an_output_needs_it(self):
        with self.assertRaisesRegex(cc.ConversionError, "TopKV2"):
            self.convert(outputs=("topk",))
        with self.assertRaisesRegex(cc.ConversionError, "not a node"):
            self.convert(outputs=("missing",))

    def test_convert_file_reads_shards_beside_the_json(self):
        model_json, shard, _ = _tiny_graph_model()
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "model.json"), "w") as f:
                json.dump(model_json, f)
            with open(os.path.join(tmp, "group1-shard1of1.bin"), "wb") as f:
                f.write(shard)
            out = os.path.join(tmp, "m.onnx")
            self.assertEqual(tfjs_to_onnx.main([os.path.join(tmp, "model.json"), out,
                                                "--outputs", "prob"]), 0)
            self.assertEqual(_shape(onnx.load(out).graph.output[0]), ["N", 5])
            os.remove(os.path.join(tmp, "group1-shard1of1.bin"))
            self.assertEqual(tfjs_to_onnx.main([os.path.join(tmp, "model.json"), out]), 1)


class WeightsTest(unittest.TestCase):
    def test_quantized_weights_are_dequantized(self):
        values = {"a": np.array([0.0, 0.25, 1.0], np.float32),
                  "b": np.array([[-1.0, 0.0], [0.5, 1.0]], np.float32),
                  "c": np.array([3, -4], np.int32)}
        manifest, shard = _pack_weights(values, quantize={"a": "float16", "b": "uint8"})
        decoded = cc.decode_weights(manifest, lambda _: shard)
        np.testing.assert_array_equal(decoded["a"], values["a"])
        np.testing.assert_allclose(decoded["b"], values["b"], atol=2 / 255)
        np.testing.assert_array_equal(decoded["c"], values["c"])
        self.assertEqual(decoded["c"].dtype, np.int32)

    def test_short_shard_is_an_error(self):
        manifest, shard = _pack_weights({"a": np.zeros(4, np.float32)})
        with self.assertRaises(cc.ConversionError):
            cc.decode_weights(manifest, lambda _: shard[:-1])


# ---- tiny Keras (TF.js layers) models ------------------------------------------------------


def _layer(cls, name, inbound, **config):
    return {"class_name": cls, "name": name,
            "config": {"name": name, **config},
            "inbound_nodes": [[[i, 0, 0, {}] for i in inbound]] if inbound else []}


def _tiny_layers_model():
    """A MobileNetV2-like block: pad, conv s2, BN, ReLU6, depthwise, BN, ReLU, add, avg pool,
    flatten ("flat", 16 values, NHWC order) and dense softmax ("probs")."""
    _rand = _random_weights(2)
    w = {
        "conv/kernel": _rand(3, 3, 3, 4),
        "bn1/gamma": _rand(4) + 1, "bn1/beta": _rand(4), "bn1/moving_mean": _rand(4),
        "bn1/moving_variance": np.abs(_rand(4)) + 0.5,
        "dw/depthwise_kernel": _rand(3, 3, 4, 1), "dw/bias": _rand(4),
        "bn2/gamma": _rand(4) + 1, "bn2/beta": _rand(4), "bn2/moving_mean": _rand(4),
        "bn2/moving_variance": np.abs(_rand(4)) + 0.5,
        "probs/kernel": _rand(16, 3), "probs/bias": _rand(3),
    }
    layers = [
        _layer("InputLayer", "image", [], batch_input_shape=[None, 8, 8, 3]),
        _layer("ZeroPadding2D", "pad", ["image"], padding=[[0, 1], [0, 1]]),
        _layer("Conv2D", "conv", ["pad"], filters=4, kernel_size=[3, 3], strides=[2, 2],
               padding="valid", use_bias=False, activation="linear", dilation_rate=[1, 1]),
        _layer("BatchNormalization", "bn1", ["conv"], axis=-1, epsilon=1e-3),
        _layer("ReLU", "relu6", ["bn1"], max_value=6.0),
        _layer("DepthwiseConv2D", "dw", ["relu6"], kernel_size=[3, 3], strides=[1, 1],
               padding="same", use_bias=True, activation="linear", depth_multiplier=1),
        _layer("BatchNormalization", "bn2", ["dw"], axis=-1, epsilon=1e-3),
        _layer("ReLU", "relu", ["bn2"]),
        _layer("Add", "add", ["relu6", "relu"]),
        _layer("AveragePooling2D", "avg", ["add"], pool_size=[2, 2], strides=[2, 2],
               padding="valid"),
        _layer("Flatten", "flat", ["avg"]),
        _layer("Dropout", "drop", ["flat"], rate=0.5),
        _layer("Dense", "probs", ["drop"], units=3, activation="softmax", use_bias=True),
    ]
    config = {"class_name": "Model", "config": {
        "name": "tiny", "layers": layers, "input_layers": [["image", 0, 0]],
        "output_layers": [["probs", 0, 0]]}}
    manifest, shard = _pack_weights(w, quantize={"conv/kernel": "uint8"})
    return {"modelTopology": {"model_config": config}, "weightsManifest": manifest}, shard, w


def _tiny_layers_expected(x, w):
    def bn(v, p):
        return ((v - w[p + "/moving_mean"]) / np.sqrt(w[p + "/moving_variance"] + 1e-3) *
                w[p + "/gamma"] + w[p + "/beta"])

    padded = np.pad(x, ((0, 0), (0, 1), (0, 1), (0, 0)))
    relu6 = np.clip(bn(_tf_conv(padded, w["conv/kernel"], 2, "VALID"), "bn1"), 0, 6)
    dw = _tf_conv(relu6, w["dw/depthwise_kernel"], 1, "SAME", depthwise=True) + w["dw/bias"]
    added = relu6 + np.maximum(bn(dw, "bn2"), 0)
    flat = _tf_pool(added, 2, 2, np.mean).reshape(x.shape[0], -1)
    return {"flat": flat, "probs": _softmax(flat @ w["probs/kernel"] + w["probs/bias"])}


class KerasToOnnxTest(unittest.TestCase):
    def convert(self, **kwargs):
        model_json, shard, _ = _tiny_layers_model()
        weights = cc.decode_weights(model_json["weightsManifest"], lambda _: shard)
        return keras_to_onnx.convert(model_json, weights, **kwargs)

    def test_converted_graph_is_valid_with_symbolic_batch(self):
        model, batchable = self.convert(outputs=["flat", "probs"], input_name="input")
        onnx.checker.check_model(model, full_check=True)
        self.assertTrue(batchable)
        self.assertEqual([(i.name, _shape(i)) for i in model.graph.input],
                         [("input", ["N", 8, 8, 3])])
        self.assertEqual({o.name: _shape(o) for o in model.graph.output},
                         {"flat": ["N", 16], "probs": ["N", 3]})

    def test_outputs_match_numpy_for_a_batch_of_two(self):
        model, _ = self.convert(outputs=["flat", "probs"])
        model_json, shard, w = _tiny_layers_model()
        w = _dequantized(w, model_json["weightsManifest"], shard)
        x = RNG.uniform(0, 1, (2, 8, 8, 3)).astype(np.float32)
        got = _run_onnx(model, {"image": x})
        for name, want in _tiny_layers_expected(x.astype(np.float64), w).items():
            np.testing.assert_allclose(got[name], want, rtol=1e-4, atol=1e-5, err_msg=name)

    def test_4d_output_is_published_in_nhwc(self):
        model, _ = self.convert(outputs=["relu6"])
        self.assertEqual(_shape(model.graph.output[0]), ["N", 4, 4, 4])

    def test_default_outputs_and_sequential_models(self):
        model, _ = self.convert()
        self.assertEqual([o.name for o in model.graph.output], ["probs"])
        sequential = {"modelTopology": {"model_config": {"class_name": "Sequential", "config": [
            {"class_name": "Dense", "config": {"name": "d", "units": 2, "activation": "relu",
                                               "batch_input_shape": [None, 4]}}]}}}
        rand = _random_weights(3)
        weights = {"d/kernel": rand(4, 2), "d/bias": rand(2)}
        model, batchable = keras_to_onnx.convert(sequential, weights)
        self.assertTrue(batchable)
        x = rand(3, 4)
        got = _run_onnx(model, {"d_input": x})["d"]
        np.testing.assert_allclose(got, np.maximum(x @ weights["d/kernel"] + weights["d/bias"],
                                                   0), rtol=1e-5, atol=1e-6)

    def test_unsupported_layer_is_an_error(self):
        model_json, shard, _ = _tiny_layers_model()
        model_json["modelTopology"]["model_config"]["config"]["layers"].append(
            _layer("LSTM", "lstm", ["probs"], units=2))
        weights = cc.decode_weights(model_json["weightsManifest"], lambda _: shard)
        with self.assertRaisesRegex(cc.ConversionError, "LSTM"):
            keras_to_onnx.convert(model_json, weights)


class CatalogTest(unittest.TestCase):
    def test_every_model_names_a_known_package_once(self):
        names = [m["name"] for m in assemble.MODELS]
        self.assertEqual(len(names), len(set(names)))
        for spec in assemble.MODELS:
            self.assertIn(spec["package"], assemble.PACKAGES, spec["name"])
        self.assertEqual([m["name"] for m in assemble.selected_models(False)],
                         ["centernet", "blazeface_back", "blazeface_front", "faceres",
                          "mobilenet_v2", "ppocr_det", "ppocr_rec"])
        self.assertIn("isnet", [m["name"] for m in assemble.selected_models(True)])

    def test_tarball_names_follow_npm_pack(self):
        self.assertEqual(assemble.tarball_name("@vladmandic/human", "3.3.6"),
                         "vladmandic-human-3.3.6.tgz")
        self.assertEqual(assemble.tarball_name("nsfwjs", "4.3.0"), "nsfwjs-4.3.0.tgz")

    def test_describe_reads_shapes_and_batchability_from_the_file(self):
        model, _ = KerasToOnnxTest().convert(outputs=["flat", "probs"], input_name="input")
        spec = {"name": "tiny", "tasks": ["image_embedding"], "package": "nsfwjs",
                "path": "x", "build": "keras_minjs", "preprocessing": {},
                "inputs": [{"name": "input", "layout": "NHWC"}],
                "outputs": [{"name": "flat", "role": "embedding"},
                            {"name": "probs", "role": "moderation"}]}
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "tiny.onnx")
            cc.save(model, path)
            entry = assemble.describe(spec, path)
            self.assertTrue(entry["batchable"])
            self.assertEqual(entry["inputs"][0]["shape"], ["N", 8, 8, 3])
            self.assertEqual(entry["outputs"][1]["shape"], ["N", 3])
            self.assertEqual(len(entry["sha256"]), 64)
            spec["outputs"][0]["shape"] = ["N", 17]
            with self.assertRaises(cc.ConversionError):
                assemble.describe(spec, path)


if __name__ == "__main__":
    unittest.main()
