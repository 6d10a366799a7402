"""quant-opt's Python package: bindings for the runtime's C API (runtime.py).

Training, data, result generators and the test drivers are in scripts/ (not installed)."""
