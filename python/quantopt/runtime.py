"""Python bindings (ctypes) for the quant-opt runtime's C API (qopt_runtime.h).

    from quantopt.runtime import Model
    m = Model("model.so")                      # weights: model.weights
    outputs = m.run("main", [np.array(...)])  # numpy arrays in, numpy arrays out

    from quantopt.runtime import LanguageModel
    lm = LanguageModel("model.so")  # the runtime owns the KV cache; context: the model's
    logits = lm.forward([464, 3290])         # [2, vocab]: prefill
    last = lm.forward_last([318])            # [vocab]: one decode step

The library is libqopt_runtime.so, found as _libraries.py says (QUANTOPT_LIB_DIR first).
"""
import ctypes
import json
import os

import numpy as np

from . import _libraries

MAX_RANK = 8

# MLIR element types -> numpy (signless integers read as signed).
DTYPES = {"f32": np.float32, "f64": np.float64, "f16": np.float16, "i64": np.int64,
          "i32": np.int32, "i16": np.int16, "i8": np.int8, "i1": np.bool_, "bf16": np.uint16}


class Tensor(ctypes.Structure):
    _fields_ = [("rank", ctypes.c_int32), ("shape", ctypes.c_int64 * MAX_RANK),
                ("data", ctypes.c_void_p), ("owner", ctypes.c_void_p)]


_lib = None


def _load_library():
    global _lib
    if _lib is None:
        lib = _libraries.load(_libraries.RUNTIME)
        lib.qopt_model_load.restype = ctypes.c_void_p
        lib.qopt_model_load.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p]
        lib.qopt_model_free.argtypes = [ctypes.c_void_p]
        lib.qopt_model_metadata.restype = ctypes.c_char_p
        lib.qopt_model_metadata.argtypes = [ctypes.c_void_p]
        lib.qopt_model_variant.restype = ctypes.c_char_p
        lib.qopt_model_variant.argtypes = [ctypes.c_void_p]
        lib.qopt_model_run.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(Tensor),
                                       ctypes.c_size_t, ctypes.POINTER(Tensor), ctypes.c_size_t,
                                       ctypes.c_void_p]
        lib.qopt_tensor_release.argtypes = [ctypes.POINTER(Tensor)]
        lib.qopt_string_free.argtypes = [ctypes.c_void_p]
        lib.qopt_lm_load.restype = ctypes.c_void_p
        lib.qopt_lm_load.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p]
        lib.qopt_lm_free.argtypes = [ctypes.c_void_p]
        lib.qopt_lm_vocab_size.restype = ctypes.c_int64
        lib.qopt_lm_vocab_size.argtypes = [ctypes.c_void_p]
        lib.qopt_lm_context_length.restype = ctypes.c_size_t
        lib.qopt_lm_context_length.argtypes = [ctypes.c_void_p]
        for forward in (lib.qopt_lm_forward, lib.qopt_lm_forward_last):
            forward.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int32), ctypes.c_size_t,
                                ctypes.POINTER(ctypes.c_float), ctypes.c_void_p]
        lib.qopt_lm_reset.argtypes = [ctypes.c_void_p]
        lib.qopt_lm_set_context_limit.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
        lib.qopt_lm_model_context.restype = ctypes.c_size_t
        lib.qopt_lm_model_context.argtypes = [ctypes.c_void_p]
        lib.qopt_lm_set_threads.argtypes = [ctypes.c_void_p, ctypes.c_int]
        _lib = lib
    return _lib


class RuntimeFailure(RuntimeError):
    pass


def _check(status, error):
    if status:
        message = ctypes.cast(error, ctypes.c_char_p).value.decode(errors="replace")
        _load_library().qopt_string_free(error)
        raise RuntimeFailure(message)


def _load(function, library, weights):
    """Calls qopt_model_load or qopt_lm_load (weights default: LIBRARY's
    .weights beside it) and returns the handle, or raises RuntimeFailure."""
    if weights is None:
        weights = os.path.splitext(library)[0] + ".weights"
    error = ctypes.c_void_p()
    handle = function(os.path.abspath(library).encode(), weights.encode(), ctypes.byref(error))
    _check(not handle, error)
    return handle


class Model:
    def __init__(self, library, weights=None):
        lib = _load_library()
        self._handle = _load(lib.qopt_model_load, library, weights)
        self.metadata = json.loads(lib.qopt_model_metadata(self._handle))
        # The target of the variant a bundle loaded; "" for a one-target library.
        self.variant = lib.qopt_model_variant(self._handle).decode()
        self.entries = {e["name"]: e for e in self.metadata["entries"]}

    def run(self, entry, inputs):
        """Runs `entry` on numpy arrays (converted to the entry's element
        types, made contiguous) and returns its outputs as numpy arrays."""
        lib = _load_library()
        spec = self.entries[entry]
        if len(inputs) != len(spec["inputs"]):
            raise ValueError(f"{entry} takes {len(spec['inputs'])} inputs, got {len(inputs)}")
        keep, args = [], (Tensor * max(1, len(inputs)))()
        for i, (array, s) in enumerate(zip(inputs, spec["inputs"])):
            a = np.require(array, dtype=DTYPES[s["dtype"]], requirements="C")  # keeps 0-d
            if a.ndim > MAX_RANK:
                raise ValueError("rank above 8")
            keep.append(a)
            args[i].rank = a.ndim
            for d, n in enumerate(a.shape):
                args[i].shape[d] = n
            args[i].data = a.ctypes.data if a.size else ctypes.addressof(ctypes.c_int64())
        outs = (Tensor * max(1, len(spec["outputs"])))()
        error = ctypes.c_void_p()
        _check(lib.qopt_model_run(self._handle, entry.encode(), args, len(inputs), outs,
                                  len(spec["outputs"]), ctypes.byref(error)), error)
        results = []
        for i, s in enumerate(spec["outputs"]):
            shape = tuple(outs[i].shape[d] for d in range(outs[i].rank))
            dtype = np.dtype(DTYPES[s["dtype"]])
            n = int(np.prod(shape)) if shape else 1
            raw = ctypes.string_at(outs[i].data, n * dtype.itemsize) if n else b""
            results.append(np.frombuffer(raw, dtype=dtype).reshape(shape).copy())
            lib.qopt_tensor_release(ctypes.byref(outs[i]))
        return results

    def __del__(self):
        if getattr(self, "_handle", None):
            _load_library().qopt_model_free(self._handle)
            self._handle = None


class LanguageModel:
    """A compiled causal language model whose KV cache the runtime owns
    (qopt_lm_*): `forward` feeds tokens after the cached context."""

    def __init__(self, library, weights=None, context_limit=0, threads=0):
        lib = _load_library()
        self._handle = _load(lib.qopt_lm_load, library, weights)
        self.vocab_size = lib.qopt_lm_vocab_size(self._handle)
        # 0: the model's own context (its position table's rows), the most
        # it can run; a larger limit raises RuntimeFailure.
        error = ctypes.c_void_p()
        _check(lib.qopt_lm_set_context_limit(self._handle, context_limit, ctypes.byref(error)), error)
        self.model_context = lib.qopt_lm_model_context(self._handle)
        if threads:
            lib.qopt_lm_set_threads(self._handle, threads)

    def _forward(self, function, tokens, rows):
        ids = np.ascontiguousarray(tokens, dtype=np.int32)
        logits = np.empty((rows, self.vocab_size), np.float32)
        error = ctypes.c_void_p()
        _check(function(self._handle, ids.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
                        ids.size, logits.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                        ctypes.byref(error)), error)
        return logits

    def forward(self, tokens):
        """The logits of every new token, [len(tokens), vocab]."""
        return self._forward(_load_library().qopt_lm_forward, tokens, len(tokens))

    def forward_last(self, tokens):
        """The logits of the last new token only, [vocab]."""
        return self._forward(_load_library().qopt_lm_forward_last, tokens, 1)[0]

    def reset(self):
        _load_library().qopt_lm_reset(self._handle)

    @property
    def context_length(self):
        return _load_library().qopt_lm_context_length(self._handle)

    def __del__(self):
        if getattr(self, "_handle", None):
            _load_library().qopt_lm_free(self._handle)
            self._handle = None
