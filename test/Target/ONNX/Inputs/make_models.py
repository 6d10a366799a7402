#!/usr/bin/env python3
"""Writes the binary ONNX models of initializers.test and bad-models.test.

Usage: make_models.py OUTDIR

Models are opset 17, IR version 8, and return each initializer through an
Identity node. Tensors are built field by field (not through
onnx.helper.make_tensor) so that each test controls exactly which field holds
the data: raw_data, a typed field, or external data.
"""
import os
import sys

import numpy as np
from onnx import StringStringEntryProto, TensorProto as TP, helper

INT4, UINT4 = 22, 21  # newer than onnx 1.12's DataType enum; the field is int32


def tensor(name, dtype, dims, **fields):
    """A TensorProto with `fields` (raw_data=bytes, int32_data=[...]...)."""
    return TP(name=name, data_type=dtype, dims=dims, **fields)


def raw(name, dtype, array):
    array = np.asarray(array)
    return tensor(name, dtype, array.shape, raw_data=array.tobytes())


def external(name, dtype, dims, location, offset=None, length=None):
    entries = [("location", location), ("offset", offset), ("length", length)]
    return tensor(name, dtype, dims, data_location=TP.EXTERNAL,
                  external_data=[StringStringEntryProto(key=k, value=str(v))
                                 for k, v in entries if v is not None])


def model_bytes(initializers, nodes=(), outputs=()):
    nodes = list(nodes) + [helper.make_node("Identity", [t.name], [t.name + "_out"])
                           for t in initializers]
    outputs = list(outputs) + [
        helper.make_tensor_value_info(t.name + "_out", t.data_type, t.dims)
        for t in initializers]
    graph = helper.make_graph(nodes, "g", [], outputs, initializers)
    model = helper.make_model(graph, ir_version=8,
                              opset_imports=[helper.make_opsetid("", 17)])
    return model.SerializeToString()


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def bf16(values):
    """bfloat16 bit patterns: the high halves of the float32 encodings."""
    return (np.asarray(values, np.float32).view(np.uint32) >> 16).astype(np.uint16)


def f32(values):
    return np.asarray(values, np.float32)


def main(out):
    # --- initializers.onnx: every dtype, as raw_data and as a typed field. ---
    # 4-bit values pack two per byte (and two per int32_data entry), low
    # nibble first: int4 [-8, 7, 3] -> 0x78 0x03; uint4 [15, 0, 9] -> 0x0F 0x09.
    write(f"{out}/initializers.onnx", model_bytes([
        raw("f32_raw", TP.FLOAT, f32([1.5, -2.0, 0.25])),
        tensor("f32_typed", TP.FLOAT, [2], float_data=[3.0, -0.5]),
        raw("f16_raw", TP.FLOAT16, np.float16([1.5, -2.0])),
        tensor("f16_typed", TP.FLOAT16, [2],
               int32_data=np.float16([0.5, -65504.0]).view(np.uint16).tolist()),
        raw("bf16_raw", TP.BFLOAT16, bf16([1.5, -2.0])),
        tensor("bf16_typed", TP.BFLOAT16, [2],
               int32_data=bf16([3.0, -0.125]).tolist()),
        raw("i8_raw", TP.INT8, np.int8([-128, 127, -5])),
        tensor("i8_typed", TP.INT8, [2], int32_data=[-7, 100]),
        raw("u8_raw", TP.UINT8, np.uint8([200, 0, 255])),
        tensor("u8_typed", TP.UINT8, [2], int32_data=[200, 1]),
        raw("i32_raw", TP.INT32, np.int32([-2**31, 7])),
        tensor("i32_typed", TP.INT32, [2], int32_data=[123456, -1]),
        raw("i64_raw", TP.INT64, np.int64([-2**63, 42])),
        tensor("i64_typed", TP.INT64, [2], int64_data=[2**40, -3]),
        tensor("i4_raw", INT4, [3], raw_data=bytes([0x78, 0x03])),
        tensor("i4_typed", INT4, [4], int32_data=[0x0F, 0xA5]),  # [-1, 0, 5, -6]
        tensor("u4_raw", UINT4, [3], raw_data=bytes([0x0F, 0x09])),  # [15, 0, 9]
        tensor("u4_typed", UINT4, [2], int32_data=[0x18]),  # [8, 1]
        raw("big_f32", TP.FLOAT, np.arange(300, dtype=np.float32)),  # 1200 bytes
    ]))

    # --- ext_ok/: external data inside the model's folder. ---
    weights = bytearray(4096 + 2048)
    weights[0:16] = f32([1, 2, 3, 4]).tobytes()
    weights[32:48] = np.int64([-1, 5]).tobytes()
    weights[4096:] = np.arange(512, dtype=np.float32).tobytes()
    write(f"{out}/ext_ok/weights.bin", bytes(weights))
    write(f"{out}/ext_ok/data/more.bin", np.float16([0.5, -1.0]).tobytes())
    write(f"{out}/ext_ok/model.onnx", model_bytes([
        external("ext_f32", TP.FLOAT, [4], "weights.bin", 0, 16),
        external("ext_i64", TP.INT64, [2], "weights.bin", 32, 16),
        external("ext_f16", TP.FLOAT16, [2], "data/more.bin"),  # whole file
        external("ext_big", TP.FLOAT, [512], "weights.bin", 4096, 2048),
    ]))

    # --- Bad models. ---
    valid = model_bytes([raw("w", TP.FLOAT, np.ones(256, np.float32))])
    write(f"{out}/truncated.onnx", valid[:len(valid) // 2])
    write(f"{out}/garbage.onnx", np.random.default_rng(0).bytes(256))
    write(f"{out}/empty.onnx", b"")
    # Identity reads 'nowhere', which no input, initializer or node defines.
    write(f"{out}/dangling.onnx", model_bytes(
        [], [helper.make_node("Identity", ["nowhere"], ["y"])],
        [helper.make_tensor_value_info("y", TP.FLOAT, [2])]))
    write(f"{out}/raw_size.onnx", model_bytes(
        [tensor("short_raw", TP.FLOAT, [4], raw_data=bytes(12))]))
    write(f"{out}/float_count.onnx", model_bytes(
        [tensor("few_floats", TP.FLOAT, [3], float_data=[1.0, 2.0])]))

    # A real file outside each model's folder, holding exactly the 16 bytes a
    # float[4] needs, so only the path checks can stop the import.
    outside = os.path.abspath(f"{out}/outside.bin")
    write(outside, f32([9, 9, 9, 9]).tobytes())
    for case, location, offset, length in [
            ("ext_abs", outside, None, None),
            ("ext_dotdot", "../outside.bin", None, None),
            ("ext_symlink", "link.bin", None, None),  # link.bin -> outside.bin
            ("ext_dirlink", "up/outside.bin", None, None),  # up -> OUTDIR
            ("ext_missing", "nope.bin", None, None),
            ("ext_range", "short.bin", 8, 16)]:  # [8, 24) of a 16-byte file
        write(f"{out}/{case}/model.onnx", model_bytes(
            [external("ext_w", TP.FLOAT, [4], location, offset, length)]))
    os.symlink(outside, f"{out}/ext_symlink/link.bin")
    os.symlink(os.path.abspath(out), f"{out}/ext_dirlink/up")
    write(f"{out}/ext_range/short.bin", bytes(16))


if __name__ == "__main__":
    main(sys.argv[1])
