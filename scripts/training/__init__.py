"""The shipped model's data, definition and training (not part of the `quantopt` package):
the Brown corpus splits, GPT-2's reference BPE, the GPT-2 definition in torch, training,
shipping and the ONNX export recipes. Run with `PYTHONPATH=scripts /usr/bin/python3 -m
training.<module>`; docs/python.md and docs/training.md."""
