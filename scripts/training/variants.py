"""Exports every GPT-2 variant the importer must take, on a tiny random config.

  PYTHONPATH=scripts /usr/bin/python3 -m training.variants --out DIR

Writes gpt2_<variant>.onnx for: opsets 13, 14, 17; with and without KV cache;
fp32 and fp16 weights; causal mask as a buffer and built with Trilu/Where; and
one with external data. Each is checked with onnx.checker. Also writes
gpt2_<variant>.input.npy (seeded token ids) and gpt2_<variant>.logits.npy (the
torch model's logits on them, with an empty past for KV variants).
"""
import argparse
import os

from . import blas  # noqa: F401

import numpy as np
import onnx
import torch

from .export import export
from .model import GPT2Config, GPT2LMHeadModel

VARIANTS = {
    "op13": dict(opset=13),
    "op14": dict(opset=14),
    "op17": dict(opset=17),
    "op13_kv": dict(opset=13, kv=True),
    "op14_kv": dict(opset=14, kv=True),
    "op17_kv": dict(opset=17, kv=True),
    "op17_fp16": dict(opset=17, fp16=True),
    "op14_trilu": dict(opset=14, mask="trilu"),
    "op17_trilu_kv": dict(opset=17, mask="trilu", kv=True),
    "op17_extdata": dict(opset=17, external_data=True),
}


def tiny_model(mask):
    torch.manual_seed(0)
    cfg = GPT2Config(vocab_size=1000, n_positions=32, n_embd=64, n_layer=2, n_head=4, mask=mask)
    return GPT2LMHeadModel(cfg).eval()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--only", nargs="*", help="variant names (default: all)")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    ids = np.random.default_rng(0).integers(0, 1000, size=(1, 8)).astype(np.int64)
    for name, spec in VARIANTS.items():
        if args.only and name not in args.only:
            continue
        spec = dict(spec)
        model = tiny_model(spec.pop("mask", "buffer"))
        path = os.path.join(args.out, f"gpt2_{name}.onnx")
        with torch.no_grad():
            export(model, path, **spec)
            logits, _ = model(torch.from_numpy(ids))
        onnx.checker.check_model(path)
        np.save(os.path.join(args.out, f"gpt2_{name}.input.npy"), ids)
        np.save(os.path.join(args.out, f"gpt2_{name}.logits.npy"), logits.numpy())
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
