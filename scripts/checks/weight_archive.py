"""Reads a compiled model's weight archive (runtime/include/quant-opt-runtime/WeightArchive.h).

  PYTHONPATH=scripts /usr/bin/python3 -m checks.weight_archive FILE.weights [--dump NAME]

Prints the header and the index (one tensor per line); --dump prints a tensor's values.
"""
import argparse
import json
import re
import struct

MAGIC = b"QOPTWTS1"
HEADER = struct.Struct("<8s7Q")
_DTYPES = {"f32": "<f4", "f16": "<f2", "f64": "<f8", "i64": "<i8", "i32": "<i4",
           "i16": "<i2", "i8": "i1", "bf16": "<u2"}


def read(path):
    """(header dict, index list, raw bytes of the data region)."""
    with open(path, "rb") as f:
        blob = f.read()
    magic, data_offset, data_bytes, fingerprint, index_offset, index_bytes, count, _ = \
        HEADER.unpack_from(blob)
    if magic != MAGIC:
        raise ValueError(f"{path}: not a quant-opt weight archive")
    header = {"data_offset": data_offset, "data_bytes": data_bytes,
              "fingerprint": f"{fingerprint:x}", "tensors": count}
    index = json.loads(blob[index_offset:index_offset + index_bytes])
    return header, index, blob[data_offset:data_offset + data_bytes]


def tensor(entry, data):
    import numpy as np
    m = re.match(r"memref<((?:\d+x)*)(\w+)>", entry["type"])
    shape = [int(d) for d in m.group(1).split("x") if d]
    raw = data[entry["offset"]:entry["offset"] + entry["bytes"]]
    return np.frombuffer(raw, dtype=_DTYPES[m.group(2)]).reshape(shape)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("archive")
    p.add_argument("--dump")
    args = p.parse_args()
    header, index, data = read(args.archive)
    print(" ".join(f"{k}={v}" for k, v in header.items()))
    for e in index:
        aligned = "aligned" if e["offset"] % 64 == 0 else "MISALIGNED"
        print(f"{e['name']} offset={e['offset']} bytes={e['bytes']} {e['type']} {aligned}")
        if e["name"] == args.dump:
            print(tensor(e, data).reshape(-1).tolist())


if __name__ == "__main__":
    main()
