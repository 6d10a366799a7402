"""ONNX export recipes for the GPT-2 definition, the way users export GPT-2.

  PYTHONPATH=scripts /usr/bin/python3 -m training.export \
      (--checkpoint CKPT | --random-124m | --random-geometry 124m|355m|774m|1.5b | --tiny) [--opset 13|14|17] [--kv-cache]
      [--fp16] [--mask buffer|trilu] [--external-data] -o out.onnx

Inputs: `input_ids` int64 [batch, sequence]; with --kv-cache also
`past_key_values.N.key/value` [batch, heads, past_sequence, head_dim]. Outputs:
`logits` [batch, sequence, vocab] and, with --kv-cache, `present.N.key/value`.
Positions are derived from the past length inside the graph (no position_ids input),
as GPT2LMHeadModel does when none are given.
"""
import argparse
import os

from . import blas  # noqa: F401

import torch

from .model import GPT2Config, GPT2LMHeadModel


class _Wrapper(torch.nn.Module):
    """Flattens past/present into named tensors for export."""

    def __init__(self, model, kv):
        super().__init__()
        self.model, self.kv = model, kv

    def forward(self, input_ids, *past):
        pkv = None
        if self.kv:
            pkv = [(past[2 * i], past[2 * i + 1]) for i in range(len(past) // 2)]
        logits, presents = self.model(input_ids, pkv)
        if not self.kv:
            return logits
        return (logits,) + tuple(t for kv in presents for t in kv)


# The published GPT-2 sizes: (d_model, layers, heads).
GEOMETRIES = {"124m": (768, 12, 12), "355m": (1024, 24, 16), "774m": (1280, 36, 20),
              "1.5b": (1600, 48, 25)}


def load_model(args):
    if args.checkpoint:
        ck = torch.load(args.checkpoint)
        cfg = GPT2Config(**ck["config"])
        cfg.dropout = 0.0
        model = GPT2LMHeadModel(cfg)
        model.load_state_dict(ck["model"])
    else:
        torch.manual_seed(args.seed)
        geometry = "124m" if args.random_124m else getattr(args, "random_geometry", None)
        if geometry:
            d, layers, heads = GEOMETRIES[geometry]
            cfg = GPT2Config(n_positions=1024, n_embd=d, n_layer=layers, n_head=heads)
        else:
            cfg = GPT2Config(vocab_size=1000, n_positions=32, n_embd=64, n_layer=2, n_head=4)
        model = GPT2LMHeadModel(cfg)
    model.config.mask = args.mask
    for m in model.modules():
        if hasattr(m, "mask"):
            m.mask = args.mask
    return model.eval()


def fp16_weights(path):
    """Stores float initializers as FLOAT16, each followed by a Cast to FLOAT.

    torch 1.13 cannot run LayerNorm in half precision on the CPU, so it cannot trace
    an fp16 model; this gives the fp16-weight file users get from float16 converters
    with fp32 inputs and outputs (keep_io_types)."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper
    m = onnx.load(path)
    g = m.graph
    casts = []
    for init in g.initializer:
        if init.data_type != onnx.TensorProto.FLOAT:
            continue
        arr = numpy_helper.to_array(init).astype(np.float16)
        name = init.name
        init.CopyFrom(numpy_helper.from_array(arr, name + "_fp16"))
        casts.append(helper.make_node("Cast", [name + "_fp16"], [name], to=onnx.TensorProto.FLOAT,
                                      name=name + "_cast"))
    nodes = list(g.node)
    del g.node[:]
    g.node.extend(casts + nodes)
    onnx.save(m, path)


def export(model, path, opset=17, kv=False, fp16=False, external_data=False, seq=8, past=4,
           constant_folding=True):
    """constant_folding=False keeps the tied LM head as a Transpose of wte instead of
    a second, transposed copy of the embedding table (half the file for small models)."""
    cfg = model.config
    dtype = torch.float32
    ids = torch.randint(0, cfg.vocab_size, (1, seq))
    args, names, axes = (ids,), ["input_ids"], {"input_ids": {0: "batch", 1: "sequence"}}
    outputs = ["logits"]
    axes["logits"] = {0: "batch", 1: "sequence"}
    if kv:
        hd = cfg.n_embd // cfg.n_head
        for i in range(cfg.n_layer):
            for kind in ("key", "value"):
                name = f"past_key_values.{i}.{kind}"
                args += (torch.randn(1, cfg.n_head, past, hd, dtype=dtype),)
                names.append(name)
                axes[name] = {0: "batch", 2: "past_sequence"}
                out = f"present.{i}.{kind}"
                outputs.append(out)
                axes[out] = {0: "batch", 2: "total_sequence"}
    if external_data:
        # torch writes a model over 2 GB as one file per tensor next to it: export into
        # a scratch directory, then save the model with one data file beside `path`.
        import tempfile
        import onnx
        with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(path))) as tmp:
            scratch = os.path.join(tmp, "model.onnx")
            torch.onnx.export(_Wrapper(model, kv), args, scratch, input_names=names,
                              output_names=outputs, dynamic_axes=axes, opset_version=opset,
                              do_constant_folding=constant_folding)
            if fp16:
                fp16_weights(scratch)
            m = onnx.load(scratch)
            onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                            location=os.path.basename(path) + ".data", size_threshold=1024)
        return
    torch.onnx.export(_Wrapper(model, kv), args, path, input_names=names, output_names=outputs,
                      dynamic_axes=axes, opset_version=opset, do_constant_folding=constant_folding)
    if fp16:
        fp16_weights(path)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint")
    src.add_argument("--random-124m", action="store_true", help="GPT-2 124M geometry, random weights")
    src.add_argument("--random-geometry", choices=sorted(GEOMETRIES),
                     help="a GPT-2 size's geometry with random weights")
    src.add_argument("--tiny", action="store_true", help="2 layers, d=64, vocab 1000 (tests)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--opset", type=int, default=17, choices=[13, 14, 17])
    p.add_argument("--kv-cache", action="store_true")
    p.add_argument("--fp16", action="store_true")
    p.add_argument("--mask", choices=["buffer", "trilu"], default="buffer")
    p.add_argument("--external-data", action="store_true")
    p.add_argument("-o", "--output", required=True)
    args = p.parse_args()
    with torch.no_grad():
        export(load_model(args), args.output, args.opset, args.kv_cache, args.fp16, args.external_data)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
