"""Compares quant-run's perplexity line with the reference in a model's JSON.

  check_perplexity.py PPL_OUTPUT MODEL.json KEY

Exits 1 unless both agree to 4 significant digits and score the same tokens.
"""
import json
import re
import sys

out, meta, key = sys.argv[1:]
m = re.search(r"perplexity ([0-9.]+) over (\d+) tokens", open(out).read())
got, tokens = float(m.group(1)), int(m.group(2))
ref = json.load(open(meta))["evaluation"][key]
same = f"{got:.4g}" == f"{ref['perplexity']:.4g}" and tokens == ref["tokens_scored"]
print(f"compiled {got:.4f} PyTorch {ref['perplexity']:.4f} over {tokens} tokens: "
      + ("equal to 4 significant digits" if same else
         f"DIFFERENT (reference scored {ref['tokens_scored']} tokens)"))
sys.exit(0 if same else 1)
