"""Ships a trained checkpoint as the project's default model.

  PYTHONPATH=scripts /usr/bin/python3 -m training.ship --checkpoint build-train/run/ckpt.pt \\
      --data build-train/data --out models/gpt2-brown

With --average CKPT..., the shipped weights are the mean of --checkpoint's and
those checkpoints' (of the same run, e.g. copies kept every 200 steps over the
end of the schedule): averaging the latest weights smooths the noise of the last
updates (Kaddour 2022, "Stop Wasting My Time! Saving Days of ImageNet and BERT
Training with Latest Weight Averaging").

Writes OUT.onnx (opset 17, KV-cache inputs/outputs, fp32: what quant-compile
compiles for both prefill and decode; without torch's constant folding, so the tied
LM head is a Transpose of the embedding table rather than a second copy of it) and OUT.json: the configuration, the
training run's settings, and the PyTorch model's held-out token perplexity with
the sliding-window recipe quant-run uses (window = context, stride = context / 2),
over the whole held-out text and over its first 8192 tokens (what the test suite
checks the compiled model against, to 4 significant digits).
"""
import argparse
import json
import math
import os

from . import jemalloc  # noqa: F401  (re-executes the command; first)
from . import blas  # noqa: F401

import numpy as np
import torch

from .export import export, load_model
from .train import sliding_window_nll

PREFIX_TOKENS = 8192


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--data", required=True, help="training.brown output (heldout.npy)")
    p.add_argument("--out", required=True, help="path without extension")
    p.add_argument("--average", nargs="+", default=[], metavar="CKPT",
                   help="also average these checkpoints' weights (same run)")
    args = p.parse_args()
    ck = torch.load(args.checkpoint)
    load_args = argparse.Namespace(checkpoint=args.checkpoint, mask="buffer", seed=0,
                                   random_124m=False, tiny=False)
    model = load_model(load_args)
    averaged = [ck["step"]]
    if args.average:
        state = {k: v.double() if v.is_floating_point() else v
                 for k, v in model.state_dict().items()}
        for path in args.average:
            other = torch.load(path)
            if other["config"] != ck["config"]:
                raise SystemExit(f"{path}: another model configuration than {args.checkpoint}")
            for k, v in other["model"].items():
                if v.is_floating_point():
                    state[k] += v.double()
            averaged.append(other["step"])
        n = 1 + len(args.average)
        dtypes = {k: v.dtype for k, v in model.state_dict().items()}
        model.load_state_dict({k: (v / n).to(dtypes[k]) if v.is_floating_point() else v
                               for k, v in state.items()})
        print(f"averaged the weights of steps {sorted(averaged)}", flush=True)
    cfg = model.config
    heldout = np.load(os.path.join(args.data, "heldout.npy"))
    window, stride = cfg.n_positions, cfg.n_positions // 2
    result = {}
    with torch.no_grad():
        for name, ids in (("heldout", heldout), (f"heldout_first_{PREFIX_TOKENS}", heldout[:PREFIX_TOKENS])):
            nll, n = sliding_window_nll(model, ids, window=window, stride=stride)
            result[name] = {"perplexity": math.exp(nll / n), "tokens_scored": n}
            print(f"{name}: perplexity {math.exp(nll / n):.4f} over {n} tokens", flush=True)
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        export(model, args.out + ".onnx", opset=17, kv=True, constant_folding=False)
    meta = {
        "description": "GPT-2-architecture model (Hugging Face GPT2LMHeadModel layout, GPT-2 BPE, "
                       "tied LM head) trained from scratch on the Brown corpus; not OpenAI's GPT-2.",
        "config": {k: v for k, v in cfg.__dict__.items() if k != "dropout"},
        "training": {k: ck["args"][k] for k in ("seed", "batch", "seq", "lr", "warmup", "dropout")}
        | {"bf16_matmuls": ck["args"].get("bf16", False), "steps": ck["step"], "wall_minutes": round(ck["elapsed"] / 60, 1),
           "tokens_seen": ck["step"] * ck["args"]["batch"] * ck["args"]["seq"]}
        | ({"averaged_steps": sorted(averaged)} if args.average else {}),
        "evaluation": {"window": window, "stride": stride, "split": "scripts/training/brown.py",
                       **result},
    }
    with open(args.out + ".json", "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(f"wrote {args.out}.onnx and {args.out}.json")


if __name__ == "__main__":
    main()
