"""Prints whether two train.py checkpoints hold bit-identical model weights."""
import sys

import torch

a, b = (torch.load(p)["model"] for p in sys.argv[1:3])
same = a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
print("same weights" if same else "different weights")
