#!/usr/bin/python3
"""Writes tiny ONNX graphs for the runtime's tests into the directory given as argument.

double.onnx   x[N,3] -> y = 2x           (symbolic batch: the batcher can group requests)
fixed.onnx    x[1,3] -> y = x + 1        (batch fixed at 1: runs on parallel sessions instead)
embed.onnx    image[N,8,8,3] -> embedding[N,3] = the mean colour
Run with Debian's /usr/bin/python3 (python3-onnx, python3-numpy).
"""
import os
import sys

import numpy as np
from onnx import TensorProto, checker, helper, numpy_helper, save


def model(nodes, inputs, outputs, inits, name):
    graph = helper.make_graph(nodes, name, inputs, outputs, inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    checker.check_model(m)
    return m


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


if __name__ == "__main__":
    main(sys.argv[1])
