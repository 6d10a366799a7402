"""Trains the shipped GPT-2-architecture model on Brown (CPU, seeded, resumable).

  PYTHONPATH=scripts /usr/bin/python3 -m training.train --data build-train/data \
      --out build-train/run [--resume] [--minutes 100]

The step count is fixed from the measured throughput after the first steps so the
run fits --minutes, then stored in the checkpoint so a resumed run follows the
same schedule. Checkpoints: OUT/ckpt.pt (every --save-every steps and at the end).
"""
import argparse
import math
import os
import random
import time

from . import jemalloc  # noqa: F401  (re-executes the command; first)
from . import blas  # noqa: F401  (must precede torch)

import numpy as np
import torch
import torch.nn.functional as F

from .lm_loss import lm_loss
from .model import GPT2Config, GPT2LMHeadModel


def sliding_window_nll(model, ids, window=128, stride=64, batch=16):
    """Token-level NLL sum and count over `ids`, HF's sliding-window recipe: each
    window scores only the tokens not scored by the previous window."""
    model.eval()
    starts = list(range(0, max(len(ids) - 1, 1), stride))
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(starts), batch):
            chunk = starts[i:i + batch]
            xs, ys = [], []
            for s in chunk:
                end = min(s + window, len(ids) - 1)
                x = ids[s:end]
                y = ids[s + 1:end + 1].copy()
                if s > 0:  # the first window - stride tokens were scored before
                    y[:window - stride] = -100
                pad = window - len(x)
                xs.append(np.pad(x, (0, pad)))
                ys.append(np.pad(y, (0, pad), constant_values=-100))
            logits, _ = model(torch.from_numpy(np.stack(xs)).long())
            t = torch.from_numpy(np.stack(ys)).long()
            total += F.cross_entropy(logits.reshape(-1, logits.size(-1)), t.reshape(-1),
                                     ignore_index=-100, reduction="sum").item()
            count += int((t != -100).sum())
    model.train()
    return total, count


def load_onnx_weights(model, path):
    """Copies the initializers torch.onnx.export named after parameters
    (`model.transformer.*`) into `model`; the tied LM head follows wte."""
    import onnx
    from onnx import numpy_helper
    state = model.state_dict()
    found = set()
    for init in onnx.load(path).graph.initializer:
        key = init.name[len("model."):] if init.name.startswith("model.") else None
        if key in state:
            state[key].copy_(torch.from_numpy(numpy_helper.to_array(init).copy()))
            found.add(key)
    missing = [k for k in state if k.startswith("transformer.") and k not in found]
    if missing:
        raise SystemExit(f"{path}: no weights for {missing[:5]}")
    print(f"initialized {len(found)} tensors from {path}", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--minutes", type=float, default=100)
    p.add_argument("--steps", type=int, default=0, help="fix the step count instead of --minutes")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--embd", type=int, default=256)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--bf16", action="store_true",
                   help="bf16 matmuls (CPU autocast; fp32 weights, optimizer and softmax)")
    p.add_argument("--chunk", type=int, default=128, help="LM-loss rows per chunk")
    p.add_argument("--save-every", type=int, default=200)
    p.add_argument("--eval-every", type=int, default=1000)
    p.add_argument("--eval-tokens", type=int, default=20000,
                   help="held-out tokens scored at every --eval-every")
    p.add_argument("--final-eval-tokens", type=int, default=0,
                   help="held-out tokens scored at the end (0: all)")
    p.add_argument("--stop-after", type=int, default=0,
                   help="leave after this many steps of this invocation (--resume goes on)")
    p.add_argument("--init-onnx", help="warm start: weights from an exported model "
                   "(e.g. models/gpt2-brown.onnx; its config must match)")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    train = np.load(os.path.join(args.data, "train.npy"))
    heldout = np.load(os.path.join(args.data, "heldout.npy"))
    cfg = GPT2Config(n_positions=args.seq, n_embd=args.embd, n_layer=args.layers,
                     n_head=args.heads, dropout=args.dropout)
    model = GPT2LMHeadModel(cfg)
    if args.init_onnx:
        load_onnx_weights(model, args.init_onnx)
    decay = [p_ for n, p_ in model.named_parameters() if p_.dim() >= 2]
    no_decay = [p_ for n, p_ in model.named_parameters() if p_.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))
    step, total_steps, elapsed = 0, args.steps or None, 0.0
    ckpt_path = os.path.join(args.out, "ckpt.pt")
    rng = np.random.default_rng(args.seed)
    if args.resume and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, total_steps, elapsed = ck["step"], ck["total_steps"], ck["elapsed"]
        rng.bit_generator.state = ck["rng"]
        torch.set_rng_state(ck["torch_rng"])
        print(f"resumed at step {step}/{total_steps}")

    def save():
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                    "total_steps": total_steps, "elapsed": elapsed, "config": cfg.__dict__,
                    "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
                    "args": vars(args)}, ckpt_path + ".tmp")
        os.replace(ckpt_path + ".tmp", ckpt_path)

    def lr_at(s):
        if s < args.warmup:
            return args.lr * (s + 1) / args.warmup
        n = total_steps or 10 ** 9
        frac = min(1.0, (s - args.warmup) / max(1, n - args.warmup))
        return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))

    tokens_per_step = args.batch * args.seq
    t0 = time.time()
    window_loss, window_n, probe = 0.0, 0, None
    model.train()
    first_step = step
    while total_steps is None or step < total_steps:
        if args.stop_after and step - first_step >= args.stop_after:
            print(f"stopped at step {step}/{total_steps} (--stop-after); --resume goes on", flush=True)
            return
        starts = rng.integers(0, len(train) - args.seq - 1, size=args.batch)
        x = torch.from_numpy(np.stack([train[s:s + args.seq] for s in starts])).long()
        y = torch.from_numpy(np.stack([train[s + 1:s + args.seq + 1] for s in starts])).long()
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            h, _ = model.transformer(x)
        loss = lm_loss(h.reshape(-1, h.size(-1)), model.lm_head.weight, y.reshape(-1),
                       chunk=args.chunk, matmul_dtype=torch.bfloat16 if args.bf16 else torch.float32)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        window_loss += loss.item()
        window_n += 1
        now = time.time()
        if total_steps is None and step == 30:
            probe = (now - t0) / 30
            total_steps = max(args.warmup * 2, int(args.minutes * 60 / probe))
            print(f"throughput {tokens_per_step / probe:.0f} tokens/s -> {total_steps} steps "
                  f"({total_steps * tokens_per_step / len(train):.2f} epochs)", flush=True)
        if step % 50 == 0:
            spent = elapsed + now - t0
            rate = step / spent if spent else 0
            eta = (total_steps - step) / rate / 60 if rate and total_steps else float("nan")
            print(f"step {step}/{total_steps} loss {window_loss / window_n:.3f} lr {lr_at(step):.2e} "
                  f"{tokens_per_step * rate:.0f} tok/s ETA {eta:.1f} min", flush=True)
            window_loss, window_n = 0.0, 0
        if step % args.save_every == 0 or step == total_steps:
            elapsed += time.time() - t0
            t0 = time.time()
            save()
        if step % args.eval_every == 0 or step == total_steps:
            nll, n = sliding_window_nll(model, heldout[:args.eval_tokens], window=args.seq,
                                        stride=args.seq // 2)
            print(f"step {step}: held-out (first {n} tokens) ppl {math.exp(nll / n):.1f}", flush=True)
    final = heldout[:args.final_eval_tokens] if args.final_eval_tokens else heldout
    nll, n = sliding_window_nll(model, final, window=args.seq, stride=args.seq // 2)
    print(f"final held-out token perplexity {math.exp(nll / n):.2f} over {n} tokens "
          f"(window {args.seq}, stride {args.seq // 2}); wall {elapsed / 60:.1f} min", flush=True)


if __name__ == "__main__":
    main()
