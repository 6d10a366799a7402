"""Drivers the test suite and the docs use to check the compiler (not part of the `quantopt`
package): ONNX conformance and backend sweeps, logit comparisons (with ONNX Runtime's,
ort_logits.js), weight-archive dumps, small MLIR test modules. Run with
`PYTHONPATH=python:scripts /usr/bin/python3 -m checks.<module>`; docs/python.md."""
