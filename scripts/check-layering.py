#!/usr/bin/env python3
"""Checks quant-opt's layering (cmake/layers.json, bottom to top) against
the CMake target graph the build writes (<build>/layering/targets.json, from
cmake/QuantOptLinkGraph.cmake) and the #include lines of the sources:

  - no library or tool links a library of a layer above its own;
  - no file includes a header of a layer above its own, nor a prefix its
    layer forbids (the runtime: no MLIR);
  - no target compiles a source file that lives in another target's folder
    (the deepest folder whose CMakeLists.txt declares targets owns a file);
  - every target and source file is in some layer.

Prints one line per violation and exits 1 if there is any.
"""
import argparse
import json
import os
import re
import sys

SOURCE_DIRS = ["lib", "include", "runtime", "tools", "bench", "examples",
               "plugins", "unittests"]
SCANNED = (".h", ".hpp", ".c", ".cc", ".cpp", ".inc", ".td")
COMPILED = (".c", ".cc", ".cpp", ".cxx")
INCLUDE = re.compile(r'^\s*#?\s*include\s*[<"]([^>"]+)[>"]')
# Where a project include path points to, by its first component.
INCLUDE_ROOTS = {"quant-opt/": "include/", "quant-opt-c/": "include/",
                 "quant-opt-runtime/": "runtime/include/"}


class Layers:
    def __init__(self, path):
        with open(path) as f:
            self.layers = json.load(f)["layers"]
        self.prefixes = sorted(
            ((p.rstrip("/"), rank) for rank, layer in enumerate(self.layers)
             for p in layer["paths"]), key=lambda x: -len(x[0]))

    def rank(self, rel_path):
        """The layer of a path relative to the source root, or None."""
        for prefix, rank in self.prefixes:
            if rel_path == prefix or rel_path.startswith(prefix + "/"):
                return rank
        return None

    def name(self, rank):
        return self.layers[rank]["name"]


def target_name(link):
    """A link item as a target name: $<LINK_ONLY:X> -> X."""
    m = re.fullmatch(r"\$<LINK_ONLY:([^>]+)>", link)
    return m.group(1) if m else link


def check_links(graph, layers, rel, errors):
    for name, target in sorted(graph.items()):
        folder = rel(target["source_dir"])
        rank = layers.rank(folder)
        if rank is None:
            errors.append(f"{name}: declared in {folder}/, which no layer of "
                          "cmake/layers.json covers")
            continue
        for link in sorted(set(map(target_name, target["links"]))):
            if link not in graph or link == name:
                continue
            dep_rank = layers.rank(rel(graph[link]["source_dir"]))
            if dep_rank is not None and dep_rank > rank:
                errors.append(
                    f"{name} (layer {layers.name(rank)}, {folder}/) links "
                    f"{link} (layer {layers.name(dep_rank)}), a layer above it")


def check_sources(graph, rel, src_root, errors):
    folders = {t["source_dir"] for t in graph.values()}

    def owner(path):
        best = None
        for folder in folders:
            if path.startswith(folder + os.sep) and (
                    best is None or len(folder) > len(best)):
                best = folder
        return best

    for name, target in sorted(graph.items()):
        for source in target["sources"]:
            if "$<" in source or not source.endswith(COMPILED):
                continue
            path = os.path.normpath(os.path.join(target["source_dir"], source))
            if not path.startswith(src_root + os.sep):
                continue  # generated in the build tree
            folder = owner(path)
            if folder != target["source_dir"]:
                errors.append(
                    f"{name} ({rel(target['source_dir'])}/) compiles "
                    f"{rel(path)}, which belongs to {rel(folder)}/: link the "
                    "library built there instead")


def resolve(include, including_file, src_root):
    for prefix, root in INCLUDE_ROOTS.items():
        if include.startswith(prefix):
            return os.path.join(src_root, root, include)
    local = os.path.normpath(os.path.join(os.path.dirname(including_file),
                                          include))
    return local if os.path.exists(local) else None


def check_includes(layers, rel, src_root, errors):
    for top in SOURCE_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(src_root, top)):
            dirnames.sort()
            for filename in sorted(filenames):
                if not filename.endswith(SCANNED):
                    continue
                path = os.path.join(dirpath, filename)
                rank = layers.rank(rel(path))
                if rank is None:
                    errors.append(f"{rel(path)}: in no layer of "
                                  "cmake/layers.json")
                    continue
                forbidden = layers.layers[rank].get("forbid_includes", [])
                with open(path, errors="replace") as f:
                    for number, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        include = m.group(1)
                        where = f"{rel(path)}:{number} (layer {layers.name(rank)})"
                        if any(include.startswith(p) for p in forbidden):
                            errors.append(f"{where} includes {include}, which "
                                          f"layer {layers.name(rank)} may not use")
                            continue
                        target = resolve(include, path, src_root)
                        dep_rank = layers.rank(rel(target)) if target else None
                        if dep_rank is not None and dep_rank > rank:
                            errors.append(
                                f"{where} includes {include} (layer "
                                f"{layers.name(dep_rank)}), a layer above it")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src-root", required=True)
    parser.add_argument("--graph", required=True,
                        help="targets.json written by cmake/QuantOptLinkGraph.cmake")
    parser.add_argument("--layers", help="default: <src-root>/cmake/layers.json")
    args = parser.parse_args()
    src_root = os.path.realpath(args.src_root)
    layers = Layers(args.layers or os.path.join(src_root, "cmake", "layers.json"))
    with open(args.graph) as f:
        graph = json.load(f)
    for target in graph.values():
        target["source_dir"] = os.path.normpath(
            os.path.join(src_root, target["source_dir"]))

    def rel(path):
        return os.path.relpath(path, src_root)

    errors = []
    check_links(graph, layers, rel, errors)
    check_sources(graph, rel, src_root, errors)
    check_includes(layers, rel, src_root, errors)
    for error in errors:
        print(f"layering violation: {error}")
    if errors:
        print(f"{len(errors)} layering violation(s); the layers are declared "
              "in cmake/layers.json (bottom to top)")
        return 1
    print(f"layering: {len(graph)} targets and their sources respect "
          f"{len(layers.layers)} layers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
