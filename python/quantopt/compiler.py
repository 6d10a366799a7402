"""The compiler through its C API (libQuantOptCAPI.so, include/quant-opt-c/): ONNX import,
pass pipelines (qopt-ptq), compilation into a model library plus weight archive.

Errors come back as the compiler's diagnostics, raised as CompilerError.
"""
import ctypes
import json
import re
import warnings

from . import _libraries
from .runtime import Model


class CompilerError(RuntimeError):
    """A failed import, pipeline or compile; `diagnostics` holds every message
    ("LOCATION: error: MESSAGE", notes after their error)."""

    def __init__(self, diagnostics):
        super().__init__("\n".join(diagnostics))
        self.diagnostics = diagnostics


class _Handle(ctypes.Structure):
    """MlirContext, MlirModule, MlirOperation, MlirDiagnostic, ...: one pointer."""
    _fields_ = [("ptr", ctypes.c_void_p)]


class _StringRef(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("length", ctypes.c_size_t)]


class _LogicalResult(ctypes.Structure):
    _fields_ = [("value", ctypes.c_int8)]


def _ref(text):
    """An MlirStringRef of `text` (str or bytes), valid while the result lives."""
    data = text.encode() if isinstance(text, str) else bytes(text)
    ref = _StringRef(ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p), len(data))
    ref.keep = data
    return ref


_StringCallback = ctypes.CFUNCTYPE(None, _StringRef, ctypes.c_void_p)
# MlirLogicalResult (*)(MlirDiagnostic, void *): ctypes callbacks cannot return a
# structure; MlirLogicalResult's one int8_t is returned as an int8_t is.
_DiagnosticHandler = ctypes.CFUNCTYPE(ctypes.c_int8, _Handle, ctypes.c_void_p)

_lib = None


def _capi():
    global _lib
    if _lib is None:
        lib = _libraries.load(_libraries.COMPILER)
        functions = {
            "qoptContextCreate": (_Handle, []),
            "qoptImportONNXFile": (_Handle, [_Handle, _StringRef]),
            "qoptRunPassPipeline": (_LogicalResult, [_Handle, _StringRef]),
            "qoptCompileModel": (_LogicalResult, [_Handle, _StringRef, _StringRef, _StringRef]),
            "qoptPrintRecipes": (None, [_StringCallback, ctypes.c_void_p]),
            "mlirContextDestroy": (None, [_Handle]),
            "mlirContextAttachDiagnosticHandler":
                (ctypes.c_uint64, [_Handle, _DiagnosticHandler, ctypes.c_void_p, ctypes.c_void_p]),
            "mlirModuleCreateParse": (_Handle, [_Handle, _StringRef]),
            "mlirModuleDestroy": (None, [_Handle]),
            "mlirModuleGetOperation": (_Handle, [_Handle]),
            "mlirOperationPrint": (None, [_Handle, _StringCallback, ctypes.c_void_p]),
            "mlirDiagnosticGetSeverity": (ctypes.c_int, [_Handle]),
            "mlirDiagnosticGetLocation": (_Handle, [_Handle]),
            "mlirDiagnosticGetNumNotes": (ctypes.c_ssize_t, [_Handle]),
            "mlirDiagnosticGetNote": (_Handle, [_Handle, ctypes.c_ssize_t]),
            "mlirDiagnosticPrint": (None, [_Handle, _StringCallback, ctypes.c_void_p]),
            "mlirLocationPrint": (None, [_Handle, _StringCallback, ctypes.c_void_p]),
        }
        for name, (restype, argtypes) in functions.items():
            function = getattr(lib, name)
            function.restype, function.argtypes = restype, argtypes
        _lib = lib
    return _lib


def _printed(print_function, handle):
    """What an mlir*Print function writes for `handle`, as str."""
    chunks = []
    callback = _StringCallback(lambda ref, _: chunks.append(ctypes.string_at(ref.data, ref.length)))
    print_function(handle, callback, None)
    return b"".join(chunks).decode(errors="replace")


_SEVERITIES = ["error", "warning", "note", "remark"]


def _location(handle):
    """A location as the tools print it: `file:line:col`, or None if unknown."""
    text = _printed(_capi().mlirLocationPrint, handle)
    text = re.sub(r'^loc\((.*)\)$', r"\1", text)
    text = re.sub(r'^"(.*)":(\d+):(\d+)$', r"\1:\2:\3", text)
    return None if text == "unknown" else text


class _Context:
    """An MlirContext with quant-opt's dialects and passes (qoptContextCreate) whose
    diagnostics are collected, to be raised or warned about by the call that caused them."""

    def __init__(self):
        lib = _capi()
        self.handle = lib.qoptContextCreate()
        self.diagnostics = []  # (severity, text) since the last check()
        self._handler = _DiagnosticHandler(self._collect)  # kept alive with the context
        lib.mlirContextAttachDiagnosticHandler(self.handle, self._handler, None, None)

    def _collect(self, diagnostic, _):
        lib = _capi()
        severity = _SEVERITIES[lib.mlirDiagnosticGetSeverity(diagnostic)]
        lines = [self._format(diagnostic, severity)]
        for i in range(lib.mlirDiagnosticGetNumNotes(diagnostic)):
            lines.append(self._format(lib.mlirDiagnosticGetNote(diagnostic, i), "note"))
        self.diagnostics.append((severity, "\n".join(lines)))
        return 1  # handled

    @staticmethod
    def _format(diagnostic, severity):
        message = _printed(_capi().mlirDiagnosticPrint, diagnostic)
        location = _location(_capi().mlirDiagnosticGetLocation(diagnostic))
        return f"{location}: {severity}: {message}" if location else f"{severity}: {message}"

    def check(self, succeeded):
        """Raises CompilerError with the errors reported since the last check unless
        `succeeded`; warns about the warnings either way."""
        collected, self.diagnostics = self.diagnostics, []
        for severity, text in collected:
            if severity == "warning":
                warnings.warn(text, stacklevel=3)
        if not succeeded:
            raise CompilerError([text for severity, text in collected if severity == "error"]
                                or ["error: the call failed without a diagnostic"])

    def destroy(self):
        if self.handle:
            _capi().mlirContextDestroy(self.handle)
            self.handle = None


class Module:
    """An MLIR module in a context of its own. `str(module)` is its IR; `close()` (or
    leaving a `with` block) frees it."""

    def __init__(self, context, handle):
        self._context, self._handle = context, handle

    @classmethod
    def parse(cls, text):
        """A module parsed from MLIR's textual form."""
        context = _Context()
        handle = _capi().mlirModuleCreateParse(context.handle, _ref(text))
        return cls._own(context, handle)

    @classmethod
    def _own(cls, context, handle):
        try:
            context.check(bool(handle.ptr))
        except CompilerError:
            context.destroy()
            raise
        return cls(context, handle)

    def _checked(self):
        if self._handle is None:
            raise ValueError("the module is closed")
        return self._handle

    def run_pipeline(self, pipeline):
        """Runs a textual pass pipeline anchored on the module, e.g.
        `builtin.module(qopt-ptq{recipe=w8})`, transforming the module in place."""
        result = _capi().qoptRunPassPipeline(self._checked(), _ref(pipeline))
        self._context.check(result.value)
        return self

    def __str__(self):
        return _printed(_capi().mlirOperationPrint, _capi().mlirModuleGetOperation(self._checked()))

    def close(self):
        if self._handle is not None:
            _capi().mlirModuleDestroy(self._handle)
            self._handle = None
            self._context.destroy()

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()

    def __del__(self):
        if getattr(self, "_handle", None) is not None:
            self.close()


def import_onnx(path):
    """Imports an ONNX model (.onnx or .onnxtext, external data beside it) as
    `quant-opt MODEL` does; raises CompilerError naming the file if it cannot."""
    context = _Context()
    return Module._own(context, _capi().qoptImportONNXFile(context.handle, _ref(str(path))))


def _option_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_option_value(v) for v in value)
    return str(value)


def _options(options):
    """`key=value ...` from keyword arguments (calibration_data= -> calibration-data=)."""
    return " ".join(f"{key.replace('_', '-')}={_option_value(value)}"
                    for key, value in options.items())


def recipes():
    """qopt-ptq's recipes, from the compiler's one recipe table: a list of dicts with
    name, alias, format, bits, granularity, group_size, activations and summary."""
    chunks = []
    callback = _StringCallback(lambda ref, _: chunks.append(ctypes.string_at(ref.data, ref.length)))
    _capi().qoptPrintRecipes(callback, None)
    return json.loads(b"".join(chunks))


def quantize(module, recipe="w8", **options):
    """Quantizes `module` in place with qopt-ptq{recipe=RECIPE OPTIONS}; the options are
    qopt-ptq's (`quant-opt --help`, docs/quantization.md), e.g. smooth=True,
    calibration_data="train.txt", int8_weights="lm_head". Returns the module."""
    values = _options(dict(recipe=recipe, **options))
    for key, value in options.items():
        if any(c.isspace() or c in "{}" for c in _option_value(value)):
            raise ValueError(f"qopt-ptq option {key}={value!r}: spaces and braces are not "
                             "supported in values")
    return module.run_pipeline(f"builtin.module(qopt-ptq{{{values}}})")


def compile(module, output, weights=None, **options):
    """Compiles a copy of `module` into the library `output` and the weight archive
    `weights` (default: OUTPUT with the extension .weights), as quant-compile does; the
    options are quant-compile's (e.g. target="generic", parallel=False, O=2). Returns the
    loaded Model, or None for outputs the runtime does not load (emit= other than so,
    standalone=True)."""
    result = _capi().qoptCompileModel(module._checked(), _ref(str(output)),
                                      _ref(str(weights or "")), _ref(_options(options)))
    module._context.check(result.value)
    if options.get("emit", "so") != "so" or options.get("standalone"):
        return None
    return Model(output, weights)
