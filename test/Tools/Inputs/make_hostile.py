#!/usr/bin/env python3
"""Writes the models and special files of the tools' hostile-input tests.

Usage: make_hostile.py OUTDIR

  small.onnx           a valid model (MatMul of an input and a 1 KiB weight)
  ext_good/            a valid model whose constant is external data
  ext_fifo/ ext_dir/ ext_socket/
                       external data 'data.bin' that is a FIFO, a
                       directory, a socket
  ext_overflow/        external data whose offset + length passes 2^63
  fifo.onnx dir.onnx socket.onnx zero.onnx
                       the model itself as a FIFO, a directory, a socket, a
                       link to /dev/zero
  truncated.onnx garbage.onnx
                       not models
  garbage.so garbage.weights empty.so
                       not compiled models

The socket stays bound only as long as this script runs; the file remains
(a socket file nobody listens on, which is what a reader meets).
"""
import os
import socket
import sys

import numpy as np
from onnx import StringStringEntryProto, TensorProto as TP, helper, numpy_helper

N = 256  # weights: 1 KiB, kept in the weight archive with --min-weight-bytes=0


def model_bytes(constant):
    x = helper.make_tensor_value_info("x", TP.FLOAT, [1, 16])
    y = helper.make_tensor_value_info("y", TP.FLOAT, [1, 16])
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="linear")],
        "g", [x], [y], [constant])
    model = helper.make_model(graph, ir_version=8,
                              opset_imports=[helper.make_opsetid("", 17)])
    return model.SerializeToString()


def external(location, offset=None, length=None):
    entries = [("location", location), ("offset", offset), ("length", length)]
    return TP(name="w", data_type=TP.FLOAT, dims=[16, 16],
              data_location=TP.EXTERNAL,
              external_data=[StringStringEntryProto(key=k, value=str(v))
                             for k, v in entries if v is not None])


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main(out):
    weights = np.arange(N, dtype=np.float32).reshape(16, 16) / N
    valid = model_bytes(numpy_helper.from_array(weights, "w"))
    write(f"{out}/small.onnx", valid)
    write(f"{out}/ext_good/model.onnx", model_bytes(external("weights.bin")))
    write(f"{out}/ext_good/weights.bin", weights.tobytes())
    for case in ["ext_fifo", "ext_dir", "ext_socket"]:
        write(f"{out}/{case}/model.onnx", model_bytes(external("data.bin")))
    os.mkfifo(f"{out}/ext_fifo/data.bin")
    os.mkdir(f"{out}/ext_dir/data.bin")
    sockets = []
    for path in [f"{out}/ext_socket/data.bin", f"{out}/socket.onnx"]:
        s = socket.socket(socket.AF_UNIX)
        s.bind(path)
        sockets.append(s)
    write(f"{out}/ext_overflow/model.onnx",
          model_bytes(external("data.bin", 8, 2**63 - 1)))
    write(f"{out}/ext_overflow/data.bin", bytes(16))
    os.mkfifo(f"{out}/fifo.onnx")
    os.mkdir(f"{out}/dir.onnx")
    os.symlink("/dev/zero", f"{out}/zero.onnx")
    write(f"{out}/truncated.onnx", valid[: len(valid) // 2])
    write(f"{out}/garbage.onnx", np.random.default_rng(0).bytes(512))
    write(f"{out}/garbage.so", np.random.default_rng(1).bytes(4096))
    write(f"{out}/garbage.weights", np.random.default_rng(2).bytes(4096))
    write(f"{out}/empty.so", b"")
    for s in sockets:
        s.close()


if __name__ == "__main__":
    main(sys.argv[1])
