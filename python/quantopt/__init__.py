"""quant-opt from Python: import an ONNX model, quantize it, compile it, run it.

    import quantopt
    module = quantopt.import_onnx("models/gpt2-brown.onnx")
    quantopt.quantize(module, recipe="w8")              # qopt-ptq{recipe=w8}, in place
    model = quantopt.compile(module, "w8.so")           # and w8.weights
    model.perplexity(open("heldout.txt").read())        # as quant-run perplexity
    model.generate("The jury said", 20)                 # as quant-run generate
    model.compare(quantopt.Model("fp32.so"), text)      # as quant-run compare

The compiler half calls libQuantOptCAPI.so (the C API, include/quant-opt-c/), the runtime
half libqopt_runtime.so (qopt_runtime.h), both through ctypes; each is loaded when first
used. docs/python.md.
"""
from .compiler import CompilerError, Module, compile, import_onnx, quantize, recipes
from .runtime import LanguageModel, Model, RuntimeFailure, Tokenizer

__all__ = ["CompilerError", "LanguageModel", "Model", "Module", "RuntimeFailure", "Tokenizer",
           "compile", "import_onnx", "quantize", "recipes"]
