#!/usr/bin/python3
"""Writes tiny ONNX graphs for the runtime's tests into the directory given as argument.

double.onnx   x[N,3] -> y = 2x           (symbolic batch: the batcher can group requests)
fixed.onnx    x[1,3] -> y = x + 1        (batch fixed at 1: runs on parallel sessions instead)
embed.onnx    image[N,8,8,3] -> embedding[N,3] = the mean colour
text.onnx     input_ids[N,S], attention_mask[N,S] (int64) -> embedding[N,V]: how often each
              vocabulary entry occurs among the text's tokens (an identity embedding table)
tokens.onnx   input_ids[N,S] -> per-token one-hot rows [N,S,V] (the runtime mean-pools them)
vocab.txt     the V = 12 WordPiece entries of both
red.png       a 60 × 40 pure red PNG, for the detector
detect.onnx   image[N,8,8,3] -> boxes[N,1,4] = (0.25, 0.25, 0.75, 0.5) normalised xyxy,
              scores[N,1,2] = the mean red and green (labels "red", "green"), classes[N,1]
              (int64) = the larger of the two
detect_none.onnx  the same with K = 0: boxes[N,0,4], scores[N,0,2]
Run with Debian's /usr/bin/python3 (python3-onnx, python3-numpy).
"""
import os
import struct
import sys
import zlib

import numpy as np
from onnx import TensorProto, checker, helper, numpy_helper, save


def model(nodes, inputs, outputs, inits, name):
    graph = helper.make_graph(nodes, name, inputs, outputs, inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    checker.check_model(m)
    return m


def write_png(path, width, height, rgb):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" +
                chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def main(out):
    os.makedirs(out, exist_ok=True)
    two = numpy_helper.from_array(np.array([2.0], dtype=np.float32), "two")
    save(model([helper.make_node("Mul", ["x", "two"], ["y"])],
               [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
               [two], "double"), os.path.join(out, "double.onnx"))
    one = numpy_helper.from_array(np.array([1.0], dtype=np.float32), "one")
    save(model([helper.make_node("Add", ["x", "one"], ["y"])],
               [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
               [one], "fixed"), os.path.join(out, "fixed.onnx"))
    save(model([helper.make_node("ReduceMean", ["image"], ["embedding"], axes=[1, 2], keepdims=0)],
               [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 8, 8, 3])],
               [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", 3])],
               [], "embed"), os.path.join(out, "embed.onnx"))
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "red", "green", "blue", "car", "##s",
             "boat", ",", "!"]
    with open(os.path.join(out, "vocab.txt"), "w") as f:
        f.write("\n".join(vocab) + "\n")
    v = len(vocab)
    table = numpy_helper.from_array(np.eye(v, dtype=np.float32), "table")
    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["N", "S"])
    mask = helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["N", "S"])
    axis2 = numpy_helper.from_array(np.array([2], dtype=np.int64), "axis2")
    save(model([helper.make_node("Gather", ["table", "input_ids"], ["rows"], axis=0),
                helper.make_node("Cast", ["attention_mask"], ["maskf"], to=TensorProto.FLOAT),
                helper.make_node("Unsqueeze", ["maskf", "axis2"], ["mask3"]),
                helper.make_node("Mul", ["rows", "mask3"], ["kept"]),
                helper.make_node("ReduceSum", ["kept", "one_axis"], ["embedding"], keepdims=0)],
               [ids, mask],
               [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", v])],
               [table, axis2, numpy_helper.from_array(np.array([1], dtype=np.int64), "one_axis")],
               "text"), os.path.join(out, "text.onnx"))
    save(model([helper.make_node("Gather", ["table", "input_ids"], ["token_embeddings"], axis=0)],
               [ids],
               [helper.make_tensor_value_info("token_embeddings", TensorProto.FLOAT,
                                              ["N", "S", v])],
               [table], "tokens"), os.path.join(out, "tokens.onnx"))
    consts = [numpy_helper.from_array(np.array(x, dtype=np.int64), n)
              for n, x in [("zero1", [0]), ("one1", [1]), ("two1", [2])]]
    consts += [numpy_helper.from_array(np.array([0.0], dtype=np.float32), "zero"),
               numpy_helper.from_array(np.array([0.25, 0.25, 0.75, 0.5], dtype=np.float32),
                                       "box")]
    save(model([helper.make_node("ReduceMean", ["image"], ["mean"], axes=[1, 2], keepdims=0),
                helper.make_node("Slice", ["mean", "zero1", "two1", "one1"], ["rg"]),
                helper.make_node("Unsqueeze", ["rg", "one1"], ["scores"]),
                helper.make_node("Slice", ["mean", "zero1", "one1", "one1"], ["r"]),
                helper.make_node("Mul", ["r", "zero"], ["r0"]),
                helper.make_node("Add", ["r0", "box"], ["box2"]),
                helper.make_node("Unsqueeze", ["box2", "one1"], ["boxes"]),
                # classes [N, 1] int64: the index of the larger of red and green
                helper.make_node("ArgMax", ["rg"], ["classes"], axis=1, keepdims=1)],
               [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 8, 8, 3])],
               [helper.make_tensor_value_info("boxes", TensorProto.FLOAT, ["N", 1, 4]),
                helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", 1, 2]),
                helper.make_tensor_value_info("classes", TensorProto.INT64, ["N", 1])],
               consts, "detect"), os.path.join(out, "detect.onnx"))
    # The same with nothing found: K = 0 (a graph with its own NMS that kept no box).
    save(model([helper.make_node("ReduceMean", ["image"], ["mean"], axes=[1, 2], keepdims=0),
                helper.make_node("Slice", ["mean", "zero1", "one1", "one1"], ["r"]),
                helper.make_node("Mul", ["r", "zero"], ["r0"]),
                helper.make_node("Add", ["r0", "box"], ["box2"]),
                helper.make_node("Unsqueeze", ["box2", "one1"], ["all_boxes"]),
                helper.make_node("Slice", ["all_boxes", "zero1", "zero1", "one1"], ["boxes"]),
                helper.make_node("Slice", ["mean", "zero1", "two1", "one1"], ["rg"]),
                helper.make_node("Unsqueeze", ["rg", "one1"], ["all_scores"]),
                helper.make_node("Slice", ["all_scores", "zero1", "zero1", "one1"], ["scores"])],
               [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 8, 8, 3])],
               [helper.make_tensor_value_info("boxes", TensorProto.FLOAT, ["N", "K", 4]),
                helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", "K", 2])],
               consts, "detect_none"), os.path.join(out, "detect_none.onnx"))
    write_png(os.path.join(out, "red.png"), 60, 40, (255, 0, 0))


if __name__ == "__main__":
    main(sys.argv[1])
