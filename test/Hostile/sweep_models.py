#!/usr/bin/env python3
"""Hostile-model sweep: generates small hostile ONNX models, runs quant-opt
and quant-compile on each under a time bound, and runs every model that
compiles once through quantopt.runtime.Model with inputs that break the
model's assumptions about its dynamic dims.

Usage: sweep_models.py [--build BUILD_DIR] --out WORK_DIR [--quick]
                       [--timeout SECONDS] [--max-compiles N] [--verbose]

Families: huge, negative and overflowing dims in graph inputs and
initializers; huge, negative and overflowing shape operands of Expand,
ConstantOfShape, Reshape, Tile, Range, Slice and Concat; declared shapes
that disagree with the data; truncated and garbage tensors and files; deep
and cyclic-looking graphs; unsupported ops; integer folds that overflow.

Each case is classified:
  refused  non-zero exit (or RuntimeFailure) with one diagnostic naming the
           node, input, tensor or file, and no crash report;
  vague    refused cleanly, but the diagnostic names none of those;
  crash    a signal, 'LLVM ERROR', 'Stack dump', 'PLEASE submit', an
           uncaught exception;
  hang     over the time bound;
  silent   exit 0 on an input that is invalid;
  passed   a valid model (or valid run) that succeeded.
Prints a table of counts and exits 1 when crashes + hangs + silent + vague
is not 0 (findings listed in KNOWN, not fixed yet, are shown in their own
column and do not count). --quick runs a fixed subset (every third case, at most
--max-compiles compiles) for the test command.
"""
import argparse
import collections
import os
import resource
import shutil
import subprocess
import sys

import numpy as np
from onnx import TensorProto as TP, helper

I64_MAX = 2**63 - 1
I64_MIN = -2**63
HUGE_DIMS = [2**62, 2**40 + 1, 2**63 - 1, 2**32, 2**31]
CRASH_MARKERS = ("LLVM ERROR", "Stack dump", "PLEASE submit", "terminate called",
                 "Segmentation fault", "AddressSanitizer", "Assertion", "bad_alloc",
                 "unable to grow")


# Findings this sweep reports that are not fixed yet (owned elsewhere or
# open): shown in their own column, and not counted in the exit status.
KNOWN = {}


class Case:
    """One hostile model. `valid`: whether the model is a legal ONNX model
    the compiler may accept (a refusal must then still be clean); an
    invalid one must be refused. `names`: strings one of which the
    diagnostic must contain. `runs`: (label, inputs, must_fail) the compiled
    model is run with."""

    def __init__(self, family, name, data, valid, names, runs=()):
        self.family, self.name, self.data = family, name, data
        self.valid, self.names, self.runs = valid, list(names), list(runs)


def model(nodes, inputs, outputs, inits=(), opset=17, domains=()):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    opsets = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, 1) for d in domains]
    return helper.make_model(graph, ir_version=8, opset_imports=opsets).SerializeToString()


def vi(name, dtype, shape):
    return helper.make_tensor_value_info(name, dtype, shape)


def vo(name, dtype, rank):
    """A graph output of `rank` symbolic dims (the checker wants a shape)."""
    return helper.make_tensor_value_info(name, dtype, [f"o{i}" for i in range(rank)])


def i64(name, values, dims=None):
    values = list(values)
    return helper.make_tensor(name, TP.INT64, [len(values)] if dims is None else dims, values)


def const(out, tensor, name=None):
    return helper.make_node("Constant", [], [out], name=name or "c_" + out, value=tensor)


def cases():
    out = []
    add = out.append

    # -- Graph inputs: huge, negative, overflowing declared dims. ----------
    shapes = [[2**40, 2**40], [2**62, 4], [2**63 - 1], [2**41], [2**31, 2**31, 2],
              [2**21] * 3, [2**40 + 1], [1, 2**62], [-1, 4], [-5], [3, -2**40]]
    for dtype in (TP.FLOAT, TP.INT8, TP.DOUBLE):
        for i, s in enumerate(shapes):
            data = model([helper.make_node("Relu" if dtype != TP.INT8 else "Identity",
                                           ["X"], ["Y"], name="n_relu")],
                         [vi("X", dtype, s)], [vi("Y", dtype, s)])
            add(Case("input-dims", f"input_{dtype}_{i}", data, False, ["'X'"]))
    # 0-sized and symbolic inputs are fine.
    for i, s in enumerate([[0, 4], ["a", 0], [0]]):
        data = model([helper.make_node("Relu", ["X"], ["Y"], name="n_relu")],
                     [vi("X", TP.FLOAT, s)], [vi("Y", TP.FLOAT, s)])
        add(Case("input-dims", f"input_zero_{i}", data, True, ["'X'"],
                 runs=[("zero", [np.zeros([d if isinstance(d, int) else 0 for d in s],
                                          np.float32)], False)]))

    # -- Initializers: dims vs data. ----------------------------------------
    def init_case(i, tensor, valid=False):
        data = model([helper.make_node("Identity", ["W"], ["Y"], name="n_id")], [],
                     [vo("Y", tensor.data_type, len(tensor.dims))], [tensor])
        add(Case("initializer", f"init_{i}", data, valid, ["'W'", "name: W)"]))

    k = 0
    for dims in ([2**61], [2**62, 4], [2**40, 2**40], [2**32, 2**32], [-1], [-4, 2],
                 [2**63 - 1], [0, 2**62], [3, 2**62, 0]):
        for dtype in (TP.FLOAT, TP.DOUBLE, TP.INT64, TP.UINT8, TP.BOOL, 22):
            t = TP(name="W", data_type=dtype, dims=dims, raw_data=b"")
            # An empty tensor with huge dims is still over the dim limit.
            init_case(k, t)
            k += 1
    for dims, raw in (([4], b"\0" * 12), ([4], b"\0" * 20), ([2, 3], b"\0" * 4),
                      ([3], b"")):
        init_case(k, TP(name="W", data_type=TP.FLOAT, dims=dims, raw_data=raw))
        k += 1
    for dims, vals in (([4], [1.0, 2.0]), ([2], [1.0, 2.0, 3.0]), ([2**40], [1.0])):
        init_case(k, TP(name="W", data_type=TP.FLOAT, dims=dims, float_data=vals))
        k += 1
    init_case(k, TP(name="W", data_type=TP.INT64, dims=[3], int64_data=[1, 2])); k += 1
    init_case(k, TP(name="W", data_type=TP.STRING, dims=[1], string_data=[b"x"])); k += 1
    init_case(k, TP(name="W", data_type=99, dims=[1], raw_data=b"\0")); k += 1
    init_case(k, TP(name="W", data_type=TP.FLOAT, dims=[2], raw_data=b"\0" * 8), valid=True)
    k += 1

    # -- Shape operands of shape-computing ops. -----------------------------
    shape_values = [[2**62, 4], [4, 2**62], [-3, 4], [2**31, 2**31], [2**32, 2**32],
                    [2**21, 2**21, 2**21], [I64_MAX], [I64_MIN, 1], [2**40 + 1],
                    [0, 2**62], [2**40, 2**40], [1, -1], [3, 0, -7]]
    for i, sv in enumerate(shape_values):
        # ConstantOfShape.
        data = model([const("s", i64("sv", sv)),
                      helper.make_node("ConstantOfShape", ["s"], ["Y"], name="n_cos")],
                     [], [vo("Y", TP.FLOAT, len(sv))])
        add(Case("shape-operand", f"cos_{i}", data, False, ["n_cos", "c_s"]))
        # Expand of a static and of a dynamic input.
        for j, xs in enumerate([[1, 1], ["a", 1], [1]]):
            data = model([const("s", i64("sv", sv)),
                          helper.make_node("Expand", ["X", "s"], ["Y"], name="n_expand")],
                         [vi("X", TP.FLOAT, xs)], [vo("Y", TP.FLOAT, max(len(xs), len(sv)))])
            add(Case("shape-operand", f"expand_{i}_{j}", data, False, ["n_expand", "c_s"]))
        # Reshape of a dynamic input (a static one fails on the count).
        data = model([const("s", i64("sv", sv)),
                      helper.make_node("Reshape", ["X", "s"], ["Y"], name="n_reshape")],
                     [vi("X", TP.FLOAT, ["n"])], [vo("Y", TP.FLOAT, len(sv))])
        add(Case("shape-operand", f"reshape_{i}", data, sv == [1, -1], ["n_reshape", "c_s"],
                 runs=[("4 elems", [np.zeros([4], np.float32)], sv != [1, -1])]))
        # Tile (repeats) and the shape through Shape -> Mul -> Expand.
        data = model([const("s", i64("sv", sv)),
                      helper.make_node("Tile", ["X", "s"], ["Y"], name="n_tile")],
                     [vi("X", TP.FLOAT, [2, 2][:len(sv)] + [1] * (len(sv) - 2))],
                     [vo("Y", TP.FLOAT, len(sv))])
        add(Case("shape-operand", f"tile_{i}", data, False, ["n_tile", "c_s"]))
        data = model([const("s", i64("sv", sv)),
                      helper.make_node("Shape", ["X"], ["xs"], name="n_shape"),
                      helper.make_node("Mul", ["xs", "s"], ["t"], name="n_mul"),
                      helper.make_node("Expand", ["X", "t"], ["Y"], name="n_expand")],
                     [vi("X", TP.FLOAT, [1] * len(sv))], [vo("Y", TP.FLOAT, len(sv))])
        add(Case("shape-operand", f"computed_{i}", data, False, ["n_expand", "n_mul", "c_s"]))

    # Range: huge, negative, overflowing counts; zero delta; float inf.
    ranges = [(0, 2**62, 1), (I64_MIN, I64_MAX, 1), (I64_MAX, I64_MIN, -1), (0, 10, 0),
              (0, I64_MAX, I64_MIN), (10, 0, I64_MIN), (0, -10, 1), (0, 10, I64_MAX),
              (-2**62, 2**62, 2**62), (0, 2**40 + 5, 1), (5, 0, -1)]
    for i, (s, l, d) in enumerate(ranges):
        data = model([const("s", i64("s_", [s], [])), const("l", i64("l_", [l], [])),
                      const("d", i64("d_", [d], [])),
                      helper.make_node("Range", ["s", "l", "d"], ["Y"], name="n_range")],
                     [], [vo("Y", TP.INT64, 1)])
        count = 0 if d == 0 else max(0, -(-(l - s) // d))
        add(Case("range", f"range_{i}", data, d != 0 and count <= 2**20, ["n_range"]))
    for i, (s, l, d) in enumerate([(0.0, float("inf"), 1.0), (0.0, 1.0, float("nan")),
                                   (0.0, 1e300, 1e-300), (0.0, 1.0, 0.0),
                                   (0.0, -1e30, -1e-30), (0.0, 3.0, 1.0)]):
        mk = lambda n, v: helper.make_tensor(n, TP.DOUBLE, [], [v])
        data = model([const("s", mk("s_", s)), const("l", mk("l_", l)), const("d", mk("d_", d)),
                      helper.make_node("Range", ["s", "l", "d"], ["Y"], name="n_range")],
                     [], [vo("Y", TP.DOUBLE, 1)])
        add(Case("range", f"frange_{i}", data, (s, l, d) == (0.0, 3.0, 1.0), ["n_range"]))

    # Slice with extreme starts, ends, steps and axes, on static and dynamic data.
    slices = [([0], [I64_MAX], [I64_MIN]), ([I64_MIN], [I64_MAX], [1]), ([0], [10], [I64_MAX]),
              ([I64_MAX], [I64_MIN], [-1]), ([-2**62], [2**62], [2**62]), ([0], [5], [0]),
              ([2**40], [2**41], [1]), ([-1], [I64_MIN], [-3])]
    for i, (st, en, sp) in enumerate(slices):
        for j, xs in enumerate([[6], ["n"]]):
            data = model([const("st", i64("a", st)), const("en", i64("b", en)),
                          const("ax", i64("c", [0])), const("sp", i64("d", sp)),
                          helper.make_node("Slice", ["X", "st", "en", "ax", "sp"], ["Y"],
                                           name="n_slice")],
                         [vi("X", TP.FLOAT, xs)], [vo("Y", TP.FLOAT, 1)])
            add(Case("slice", f"slice_{i}_{j}", data, sp != [0], ["n_slice"],
                     runs=[("6", [np.arange(6, dtype=np.float32)], False),
                           ("0", [np.zeros([0], np.float32)], False)] if xs == ["n"] else []))
    # Folded Slice/Concat/Gather over big folded tensors.
    for i, (n, reps) in enumerate([(65536, 65536), (2**16, 2**10), (4, 2**20)]):
        data = model([const("s", i64("a", [1, n])), const("z", i64("b", [reps])),
                      helper.make_node("ConstantOfShape", ["s"], ["d"], name="n_cos",
                                       value=helper.make_tensor("v", TP.INT64, [1], [7])),
                      helper.make_node("ConstantOfShape", ["z"], ["idx"], name="n_cos2",
                                       value=helper.make_tensor("v", TP.INT64, [1], [0])),
                      helper.make_node("Gather", ["d", "idx"], ["Y"], name="n_gather", axis=0)],
                     [], [vo("Y", TP.INT64, 2)])
        add(Case("fold", f"gather_{i}", data, n * reps * 8 <= 2**40, ["n_gather", "n_cos"]))
    for i, count in enumerate([3, 200, 5000]):
        nodes = [const("s", i64("a", [2**40, 0])),
                 helper.make_node("ConstantOfShape", ["s"], ["e"], name="n_cos")]
        nodes.append(helper.make_node("Concat", ["e"] * count, ["Y"], name="n_concat", axis=1))
        data = model(nodes, [], [vo("Y", TP.FLOAT, 2)])
        add(Case("fold", f"concat_empty_{i}", data, True, ["n_concat", "n_cos"]))
    for i, count in enumerate([2, 64]):
        nodes = [const("s", i64("a", [2**40 // count + 1])),
                 helper.make_node("Expand", ["X", "s"], ["e"], name="n_expand"),
                 helper.make_node("Concat", ["e"] * count, ["Y"], name="n_concat", axis=0)]
        data = model(nodes, [vi("X", TP.FLOAT, [1])], [vo("Y", TP.FLOAT, 1)])
        add(Case("fold", f"concat_big_{i}", data, False, ["n_concat", "n_expand"]))
    # Broadcasting whose result exceeds the limits.
    for i, (a, b) in enumerate([([2**30, 1], [1, 2**30]), ([2**20, 1, 1], [1, 2**20, 2**20]),
                                ([2**40, 1], [1, 2])]):
        data = model([helper.make_node("Add", ["A", "B"], ["Y"], name="n_add")],
                     [vi("A", TP.FLOAT, a), vi("B", TP.FLOAT, b)],
                     [vo("Y", TP.FLOAT, max(len(a), len(b)))])
        add(Case("broadcast", f"bcast_{i}", data, False, ["n_add", "'A'", "'B'"]))
    for i, (m, kk, n) in enumerate([(2**30, 1, 2**30), (2**20, 4, 2**30)]):
        data = model([helper.make_node("MatMul", ["A", "B"], ["Y"], name="n_matmul")],
                     [vi("A", TP.FLOAT, [m, kk]), vi("B", TP.FLOAT, [kk, n])],
                     [vo("Y", TP.FLOAT, 2)])
        add(Case("broadcast", f"matmul_{i}", data, False, ["n_matmul", "'A'", "'B'"]))

    # Integer folds that overflow or trap (ONNX wraps; nothing may trap).
    for i, (op, a, b) in enumerate([("Div", I64_MIN, -1), ("Div", 5, 0), ("Mul", 2**62, 4),
                                    ("Add", I64_MAX, 1), ("Sub", I64_MIN, 1), ("Neg", I64_MIN, None),
                                    ("Abs", I64_MIN, None), ("Mod", I64_MIN, -1)]):
        nodes = [const("a", i64("a_", [a]))]
        ins = ["a"]
        if b is not None:
            nodes.append(const("b", i64("b_", [b])))
            ins.append("b")
        nodes.append(helper.make_node(op, ins, ["Y"], name="n_" + op.lower()))
        data = model(nodes, [], [vo("Y", TP.INT64, 1)])
        add(Case("int-fold", f"fold_{op}_{i}", data, True, ["n_" + op.lower()]))
    for i, v in enumerate([float("inf"), float("nan"), 1e30, -1e30]):
        nodes = [helper.make_node("Constant", [], ["a"], name="c_a",
                                  value=helper.make_tensor("a_", TP.FLOAT, [1], [v])),
                 helper.make_node("Cast", ["a"], ["c"], name="n_cast", to=TP.INT64),
                 helper.make_node("Expand", ["X", "c"], ["Y"], name="n_expand")]
        data = model(nodes, [vi("X", TP.FLOAT, [1])], [vo("Y", TP.FLOAT, 1)])
        # (NaN casts to an unspecified integer: then a legal Expand.)
        add(Case("int-fold", f"cast_{i}", data, v != v, ["n_expand", "n_cast"]))

    # -- Graph structure: deep, cyclic-looking, dangling, duplicates. ------
    for i, depth in enumerate([30, 3000]):
        nodes = [helper.make_node("Relu", [f"t{j}"], [f"t{j + 1}"], name=f"n_{j}")
                 for j in range(depth)]
        data = model(nodes, [vi("t0", TP.FLOAT, ["n", 4])], [vi(f"t{depth}", TP.FLOAT, ["n", 4])])
        add(Case("graph", f"deep_{i}", data, True, ["n_"],
                 runs=[("3 rows", [np.ones([3, 4], np.float32)], False),
                       ("0 rows", [np.zeros([0, 4], np.float32)], False)]))
    graphs = {
        "self_loop": ([helper.make_node("Add", ["X", "Y"], ["Y"], name="n_self")], ["n_self", "'Y'"]),
        "cycle": ([helper.make_node("Relu", ["b"], ["a"], name="n_a"),
                   helper.make_node("Relu", ["a"], ["Y"], name="n_b"),
                   helper.make_node("Relu", ["Y"], ["b"], name="n_c")], ["n_a", "'b'"]),
        "out_of_order": ([helper.make_node("Relu", ["t"], ["Y"], name="n_late"),
                          helper.make_node("Relu", ["X"], ["t"], name="n_early")], ["n_late", "'t'"]),
        "dup_output": ([helper.make_node("Relu", ["X"], ["Y"], name="n_one"),
                        helper.make_node("Neg", ["X"], ["Y"], name="n_two")], ["n_two", "'Y'"]),
        "no_producer": ([helper.make_node("Relu", ["X"], ["t"], name="n_r")], ["'Y'"]),
        "shadow_input": ([helper.make_node("Relu", ["X"], ["X"], name="n_shadow"),
                          helper.make_node("Relu", ["X"], ["Y"], name="n_r")], ["n_shadow", "'X'"]),
    }
    for gname, (nodes, names) in graphs.items():
        data = model(nodes, [vi("X", TP.FLOAT, [2])], [vi("Y", TP.FLOAT, [2])])
        add(Case("graph", gname, data, False, names))

    # -- Unsupported or malformed ops. -------------------------------------
    unsupported = [("Loop", ["X"]), ("If", ["X"]), ("NonZero", ["X"]), ("TopK", ["X", "X"]),
                   ("Resize", ["X"]), ("Einsum", ["X"]), ("Scan", ["X"]), ("Unique", ["X"]),
                   ("ScatterND", ["X", "X", "X"]), ("GridSample", ["X", "X"]),
                   ("Conv", ["X", "X"]), ("LSTM", ["X", "X", "X"]), ("MaxPool", ["X"]),
                   ("ReduceMean", ["X"]), ("CumSum", ["X", "X"]), ("OneHot", ["X", "X", "X"])]
    for opname, ins in unsupported:
        data = model([helper.make_node(opname, ins, ["Y"], name="n_op")],
                     [vi("X", TP.FLOAT, [2, 2])], [vo("Y", TP.FLOAT, 2)])
        add(Case("unsupported", "op_" + opname, data, True, ["n_op"]))
    data = model([helper.make_node("Frob", ["X"], ["Y"], name="n_op", domain="evil.domain")],
                 [vi("X", TP.FLOAT, [2])], [vo("Y", TP.FLOAT, 1)], domains=["evil.domain"])
    add(Case("unsupported", "op_custom_domain", data, True, ["n_op"]))
    for opset in (1, 12, 22, 1000, -1):
        data = model([helper.make_node("Relu", ["X"], ["Y"], name="n_relu")],
                     [vi("X", TP.FLOAT, [2])], [vi("Y", TP.FLOAT, [2])], opset=opset)
        add(Case("unsupported", f"opset_{opset}", data, False, ["opset"]))
    # Valid ops with unusual but legal operands.
    legal = [
        ("softmax_axis", [helper.make_node("Softmax", ["X"], ["Y"], name="n_op", axis=-7)], False),
        ("transpose_perm", [helper.make_node("Transpose", ["X"], ["Y"], name="n_op",
                                             perm=[0, 0])], False),
        ("concat_axis", [helper.make_node("Concat", ["X", "X"], ["Y"], name="n_op", axis=5)], False),
        ("gather_axis", [helper.make_node("Gather", ["X", "X"], ["Y"], name="n_op", axis=3)], False),
        ("flatten_axis", [helper.make_node("Flatten", ["X"], ["Y"], name="n_op", axis=-9)], False),
        ("split_zero", [helper.make_node("Split", ["X"], ["Y"], name="n_op", axis=0)], True),
        ("cast_string", [helper.make_node("Cast", ["X"], ["Y"], name="n_op", to=TP.STRING)], True),
        ("cast_bogus", [helper.make_node("Cast", ["X"], ["Y"], name="n_op", to=1234)], False),
        ("layernorm_axis", [helper.make_node("LayerNormalization", ["X", "X"], ["Y"],
                                             name="n_op", axis=4)], False),
        ("argmax_axis", [helper.make_node("ArgMax", ["X"], ["Y"], name="n_op", axis=9)], False),
        ("trilu_k", [const("k", i64("k_", [I64_MIN], [])),
                     helper.make_node("Trilu", ["X", "k"], ["Y"], name="n_op")], True),
        ("trilu_k_max", [const("k", i64("k_", [I64_MAX], [])),
                         helper.make_node("Trilu", ["X", "k"], ["Y"], name="n_op", upper=0)], True),
        ("clip_inf", [helper.make_node("Clip", ["X", "", ""], ["Y"], name="n_op")], True),
        ("where_bcast", [const("c", helper.make_tensor("c_", TP.BOOL, [2, 1, 1], [1, 0])),
                         helper.make_node("Where", ["c", "X", "X"], ["Y"], name="n_op")], True),
        ("gemm_bad", [helper.make_node("Gemm", ["X", "X"], ["Y"], name="n_op", transA=1,
                                       transB=0, alpha=float("inf"))], True),
        ("unsq_many", [const("a", i64("a_", list(range(0, 60)))),
                       helper.make_node("Unsqueeze", ["X", "a"], ["Y"], name="n_op")], True),
        ("squeeze_bad", [const("a", i64("a_", [0])),
                         helper.make_node("Squeeze", ["X", "a"], ["Y"], name="n_op")], False),
    ]
    for lname, nodes, valid in legal:
        data = model(nodes, [vi("X", TP.FLOAT, [2, 2])],
                     [vo("Y", TP.FLOAT, 62 if lname == "unsq_many" else 2)])
        add(Case("odd-operands", lname, data, valid, ["n_op"],
                 runs=[("2x2", [np.ones([2, 2], np.float32)], False)]))

    # -- Dynamic dims the model relates; broken at run time. ---------------
    dyn = [
        ("add_ab", [helper.make_node("Add", ["X", "Z"], ["Y"], name="n_add")],
         [vi("X", TP.FLOAT, ["a", 4]), vi("Z", TP.FLOAT, ["b", 4])],
         [("8+2", [np.ones([8, 4]), np.ones([2, 4])], True),
          ("2+8", [np.ones([2, 4]), np.ones([8, 4])], True),
          ("0+0", [np.ones([0, 4]), np.ones([0, 4])], False),
          ("0+3", [np.ones([0, 4]), np.ones([3, 4])], True),
          ("3+3", [np.ones([3, 4]), np.ones([3, 4])], False)]),
        ("matmul_k", [helper.make_node("MatMul", ["X", "Z"], ["Y"], name="n_mm")],
         [vi("X", TP.FLOAT, ["m", "k"]), vi("Z", TP.FLOAT, ["k2", "n"])],
         [("k 5 vs 3", [np.ones([2, 5]), np.ones([3, 4])], True),
          ("k 0 vs 3", [np.ones([2, 0]), np.ones([3, 4])], True),
          ("k 3 vs 3", [np.ones([2, 3]), np.ones([3, 4])], False),
          ("m 0", [np.ones([0, 3]), np.ones([3, 4])], False)]),
        ("mul_same_sym", [helper.make_node("Mul", ["X", "Z"], ["Y"], name="n_mul")],
         [vi("X", TP.FLOAT, ["a", "b"]), vi("Z", TP.FLOAT, ["a", "b"])],
         [("4x4 * 4x1", [np.ones([4, 4]), np.ones([4, 1])], True),
          ("0x4 * 0x4", [np.ones([0, 4]), np.ones([0, 4])], False),
          ("1x1 * 1x1", [np.ones([1, 1]), np.ones([1, 1])], False)]),
        ("concat_cols", [helper.make_node("Concat", ["X", "Z"], ["Y"], name="n_concat", axis=1)],
         [vi("X", TP.FLOAT, ["a", 2]), vi("Z", TP.FLOAT, ["b", 3])],
         [("rows 4 vs 2", [np.ones([4, 2]), np.ones([2, 3])], True),
          ("rows 0 vs 0", [np.ones([0, 2]), np.ones([0, 3])], False)]),
        ("gather_dyn", [helper.make_node("Gather", ["X", "I"], ["Y"], name="n_gather", axis=0)],
         [vi("X", TP.FLOAT, ["v", 4]), vi("I", TP.INT64, ["s"])],
         [("empty table", [np.ones([0, 4]), np.zeros([3], np.int64)], True),
          ("id past end", [np.ones([5, 4]), np.array([5, 2**40, -2**62], np.int64)], True),
          ("ok", [np.ones([5, 4]), np.array([0, 4, -1], np.int64)], False)]),
        ("reshape_dyn", [const("s", i64("s_", [-1, 4])),
                         helper.make_node("Reshape", ["X", "s"], ["Y"], name="n_reshape")],
         [vi("X", TP.FLOAT, ["n"])],
         [("n 6", [np.ones([6])], True), ("n 0", [np.ones([0])], False),
          ("n 8", [np.ones([8])], False)]),
        ("slice_dyn", [helper.make_node("Shape", ["X"], ["sh"], name="n_shape"),
                       const("one", i64("o", [1])),
                       helper.make_node("Slice", ["X", "one", "sh"], ["Y"], name="n_slice")],
         [vi("X", TP.FLOAT, ["n"])],
         [("n 0", [np.ones([0])], False), ("n 5", [np.ones([5])], False)]),
    ]
    for dname, nodes, ins, runs in dyn:
        rank = {"reshape_dyn": 2, "slice_dyn": 1, "gather_dyn": 2}.get(dname, 2)
        data = model(nodes, ins, [vo("Y", ins[0].type.tensor_type.elem_type, rank)])
        add(Case("runtime-dims", dname, data, True, ["n_"], runs=runs))

    # -- Files: truncated and garbage. --------------------------------------
    good = model([helper.make_node("Add", ["X", "W"], ["Y"], name="n_add")],
                 [vi("X", TP.FLOAT, [4])], [vi("Y", TP.FLOAT, [4])],
                 [helper.make_tensor("W", TP.FLOAT, [4], [1, 2, 3, 4])])
    rng = np.random.default_rng(23)
    for i, cut in enumerate(sorted(set(int(c) for c in rng.integers(1, len(good), 12)))):
        add(Case("file", f"truncated_{i}", good[:cut], False, ["trunc_", "'"]))
    for i in range(12):
        b = bytearray(good)
        for p in rng.integers(0, len(b), 1 + i):
            b[p] = int(rng.integers(0, 256))
        # Flipped bytes may still parse to a valid model: then it must run.
        add(Case("file", f"flipped_{i}", bytes(b), True, ["flipped_", "'"],
                 runs=[("4", [np.ones([4], np.float32)], False)]))
    for i, blob in enumerate([b"", b"\0" * 64, bytes(rng.integers(0, 256, 300, dtype=np.uint8)),
                              b"\x0a\xff\xff\xff\xff\x0f" + b"A" * 16, b"\x3a" + b"\xff" * 10]):
        add(Case("file", f"garbage_{i}", blob, False, ["garbage_"]))
    return out


# ---------------------------------------------------------------------------
# Running and classifying.

def crashed(result):
    text = result.stderr + result.stdout
    return result.returncode < 0 or any(m in text for m in CRASH_MARKERS)


MEMORY_LIMIT = 8 << 30


def limit_memory():
    # A runaway allocation fails inside the child (and is reported as a
    # crash) instead of driving a shared machine out of memory.
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_tool(argv, timeout, env=None):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, errors="replace",
                           timeout=timeout, env=env, preexec_fn=limit_memory)
    except subprocess.TimeoutExpired:
        return None
    return r


RUNNER = r"""
import sys, numpy as np
from quantopt.runtime import Model, RuntimeFailure
m = Model(sys.argv[1])
inputs = [np.load(p) for p in sys.argv[2:]]
try:
    m.run("main", inputs)
    print("RAN")
except (RuntimeFailure, ValueError) as e:
    print("REFUSED:", e)
"""


def classify_refusal(text, names):
    if "error" not in text.lower():
        return "vague"
    return "refused" if any(n in text for n in names) else "vague"


def sweep(args):
    os.makedirs(args.out, exist_ok=True)
    if args.build:
        quant_opt = os.path.join(args.build, "bin", "quant-opt")
        quant_compile = os.path.join(args.build, "bin", "quant-compile")
        lib_dir = os.path.join(args.build, "lib")
    else:  # from lit: the tools on PATH, the libraries from the environment
        quant_opt, quant_compile = shutil.which("quant-opt"), shutil.which("quant-compile")
        lib_dir = os.environ["QUANTOPT_LIB_DIR"]
    all_cases = cases()
    if args.quick:
        all_cases = all_cases[::3]
        if args.max_compiles is None:
            args.max_compiles = 12
    counts = collections.Counter()
    families = collections.defaultdict(collections.Counter)
    findings = []
    compiles = 0

    def record(case, label, outcome, detail=""):
        if outcome not in ("refused", "passed") and (case.name, label) in KNOWN:
            detail = "known: " + KNOWN[(case.name, label)] + " -- " + detail
            outcome = "known"
        counts[outcome] += 1
        families[case.family][outcome] += 1
        if outcome not in ("refused", "passed"):
            findings.append(f"{outcome:8} {case.family}/{case.name} {label}: {detail}")
        if args.verbose:
            print(f"{outcome:8} {case.family}/{case.name} {label} {detail}", flush=True)

    for case in all_cases:
        path = os.path.join(args.out, case.name + ".onnx")
        with open(path, "wb") as f:
            f.write(case.data)
        names = case.names + [case.name + ".onnx"] if case.family == "file" else case.names
        r = run_tool([quant_opt, path, "-o", os.devnull], args.timeout)
        if r is None:
            record(case, "quant-opt", "hang", f"over {args.timeout} s")
            continue
        if crashed(r):
            record(case, "quant-opt", "crash", r.stderr.strip()[-300:])
            continue
        if r.returncode != 0:
            outcome = classify_refusal(r.stderr, names)
            record(case, "quant-opt", outcome, r.stderr.strip()[:300])
            continue
        if not case.valid:
            record(case, "quant-opt", "silent", "imported an invalid model")
            continue
        if args.max_compiles is not None and compiles >= args.max_compiles:
            record(case, "quant-opt", "passed")
            continue
        compiles += 1
        lib = os.path.join(args.out, case.name + ".so")
        r = run_tool([quant_compile, path, "-o", lib], args.timeout * 3)
        if r is None:
            record(case, "quant-compile", "hang", f"over {args.timeout * 3} s")
            continue
        if crashed(r):
            record(case, "quant-compile", "crash", r.stderr.strip()[-300:])
            continue
        if r.returncode != 0:
            record(case, "quant-compile", classify_refusal(r.stderr, names),
                   r.stderr.strip()[:300])
            continue
        if not case.runs:
            record(case, "quant-compile", "passed")
            continue
        for label, inputs, must_fail in case.runs:
            files = []
            for j, a in enumerate(inputs):
                p = os.path.join(args.out, f"{case.name}.{len(files)}.npy")
                np.save(p, np.asarray(a, dtype=np.int64 if np.asarray(a).dtype == np.int64
                                      else np.float32))
                files.append(p)
            env = dict(os.environ)
            env["PYTHONPATH"] = os.path.join(args.src, "python")
            env["QUANTOPT_LIB_DIR"] = lib_dir
            rr = run_tool([sys.executable, "-c", RUNNER, lib] + files, args.timeout, env)
            if rr is None:
                record(case, "run " + label, "hang", f"over {args.timeout} s")
                continue
            if crashed(rr) or (rr.returncode != 0 and "Traceback" in rr.stderr
                               and "RuntimeFailure" not in rr.stderr):
                record(case, "run " + label, "crash",
                       (rr.stderr or rr.stdout).strip()[-300:])
            elif rr.stdout.startswith("REFUSED"):
                ok = any(n in rr.stdout for n in names + ["input", "output"])
                record(case, "run " + label, "refused" if ok else "vague",
                       rr.stdout.strip()[:300])
            elif rr.stdout.startswith("RAN"):
                record(case, "run " + label, "silent" if must_fail else "passed",
                       "ran on inputs that break the model's dims" if must_fail else "")
            else:
                record(case, "run " + label, "crash", (rr.stderr or rr.stdout).strip()[-300:])

    cols = ["refused", "passed", "vague", "crash", "hang", "silent", "known"]
    print(f"{'family':16}" + "".join(f"{c:>9}" for c in ["cases"] + cols))
    for fam, c in sorted(families.items()):
        print(f"{fam:16}" + "".join(f"{v:>9}" for v in [sum(c.values())] + [c[k] for k in cols]))
    print(f"{'total':16}" + "".join(f"{v:>9}" for v in
                                    [sum(counts.values())] + [counts[k] for k in cols]))
    print(f"models: {len(all_cases)}, compiled: {compiles}")
    for f in findings:
        print("FINDING " + f)
    bad = sum(counts[k] for k in ("vague", "crash", "hang", "silent"))
    return 1 if bad else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", help="build directory (default: tools on PATH, "
                   "libraries from $QUANTOPT_LIB_DIR)")
    p.add_argument("--out", required=True)
    p.add_argument("--src", default=os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
    p.add_argument("--quick", action="store_true")
    p.add_argument("--timeout", type=float, default=20)
    p.add_argument("--max-compiles", type=int, default=None,
                   help="compile at most N models (default: all; 12 with --quick)")
    p.add_argument("--verbose", action="store_true")
    sys.exit(sweep(p.parse_args()))


if __name__ == "__main__":
    main()
