"""The quantopt package's API on the shipped model, against the tools: the module
quantopt.quantize and quantopt.compile make scores the perplexity, compare results and
greedy text that quant-run gives for it.

    api_test.py WORK_DIR MODEL.onnx HELDOUT.txt TOKENIZER_DIR
"""
import json
import os
import subprocess
import sys
import unittest

import quantopt

WORK, MODEL, HELDOUT, TOKENIZER = sys.argv[1:5]
TOKENS = 2048


def quant_run(*args):
    return subprocess.run(["quant-run", *args, "--tokenizer-dir", TOKENIZER], check=True,
                          capture_output=True, text=True).stdout


class API(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with quantopt.import_onnx(MODEL) as module:
            cls.fp32 = quantopt.compile(module, os.path.join(WORK, "fp32.so"),
                                        os.path.join(WORK, "fp32-weights.bin"))
            cls.text = str(module)
            quantopt.quantize(module, recipe="w8")
            cls.w8 = quantopt.compile(module, os.path.join(WORK, "w8.so"))
        with open(HELDOUT) as f:
            cls.heldout = f.read()

    def test_module_prints_its_ir(self):
        self.assertIn("func.func @main(", self.text)
        self.assertIn("linalg.", self.text)

    def test_compile_writes_the_weights_it_is_told(self):
        self.assertTrue(os.path.isfile(os.path.join(WORK, "fp32-weights.bin")))
        self.assertTrue(os.path.isfile(os.path.join(WORK, "w8.weights")))

    def test_perplexity_equals_quant_run(self):
        printed = quant_run(os.path.join(WORK, "w8.so"), "perplexity", HELDOUT,
                            "--max-tokens", str(TOKENS))
        expected = printed.split()[1]  # "perplexity 351.2345 over ..."
        ppl = self.w8.perplexity(self.heldout, max_tokens=TOKENS, tokenizer=TOKENIZER)
        print(f"perplexity: quantopt {ppl:.4f} ({ppl!r}), quant-run {expected}")
        self.assertEqual(f"{ppl:.4f}", expected)

    def test_perplexity_of_tokens_equals_that_of_their_text(self):
        tokenizer = quantopt.Tokenizer(TOKENIZER)
        ids = tokenizer.encode(self.heldout)[:300]
        self.assertEqual(self.w8.perplexity(ids), self.w8.perplexity(tokenizer.decode(ids),
                                                                     tokenizer=tokenizer))

    def test_compare_equals_quant_run(self):
        report = os.path.join(WORK, "compare.json")
        quant_run(os.path.join(WORK, "w8.so"), "compare", HELDOUT, "--reference",
                  os.path.join(WORK, "fp32.so"), "--reference-weights",
                  os.path.join(WORK, "fp32-weights.bin"), "--max-tokens", str(TOKENS),
                  "--json", report)
        with open(report) as f:
            expected = json.load(f)
        got = self.w8.compare(self.fp32, self.heldout, max_tokens=TOKENS, tokenizer=TOKENIZER)
        print("compare:", {k: round(v, 6) for k, v in got.items()})
        for key in ("tokens", "windows"):
            self.assertEqual(got[key], expected[key], key)
        for key in ("perplexity", "reference_perplexity", "ppl_delta_percent", "mean_kl",
                    "max_kl", "top1_agreement"):
            self.assertAlmostEqual(got[key], expected[key], places=6, msg=key)

    def test_generate_equals_quant_run(self):
        printed = quant_run(os.path.join(WORK, "w8.so"), "generate", "The jury said",
                            "--max-new-tokens", "12")
        continuation = self.w8.generate("The jury said", 12, tokenizer=TOKENIZER)
        print(f"generate: {continuation!r}")
        self.assertEqual("The jury said" + continuation + "\n", printed)

    def test_model_is_the_runtime_wrapper(self):
        self.assertIsInstance(self.w8, quantopt.Model)
        self.assertIn("main", self.w8.entries)
        self.assertEqual(self.w8.language_model.vocab_size, 50257)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
