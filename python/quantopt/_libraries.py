"""Finds and loads (once) the project's shared libraries for ctypes.

A library is looked up in $QUANTOPT_LIB_DIR if that is set (and only there), else in
the build tree next to this source tree (build/lib), then in the installed prefix
(sys.prefix/lib), then wherever the dynamic loader finds it (LD_LIBRARY_PATH,
ld.so.cache): docs/python.md.
"""
import ctypes
import os
import sys

COMPILER = "libQuantOptCAPI.so"  # the compiler's C API, include/quant-opt-c/
RUNTIME = "libqopt_runtime.so"   # the runtime's C API, qopt_runtime.h

# The source tree this package sits in (python/quantopt), when it is run from there.
SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_SOURCE_BUILD = os.path.join(SOURCE_ROOT, "build", "lib")
_loaded = {}


def path(name):
    """Where `name` is loaded from (a bare name: the dynamic loader's search)."""
    directory = os.environ.get("QUANTOPT_LIB_DIR")
    if directory:
        return os.path.join(directory, name)
    for directory in (_SOURCE_BUILD, os.path.join(sys.prefix, "lib")):
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate):
            return candidate
    return name


def load(name):
    """The library `name` as a ctypes.CDLL, loaded on first use."""
    if name not in _loaded:
        where = path(name)
        try:
            _loaded[name] = ctypes.CDLL(where)
        except OSError as error:
            raise OSError(f"quantopt: cannot load {where} ({error}); build it "
                          "(scripts/build.sh) or set QUANTOPT_LIB_DIR to the directory "
                          "that holds it") from None
    return _loaded[name]
