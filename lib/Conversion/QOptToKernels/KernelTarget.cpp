//===- KernelTarget.cpp - Which CPU the quantized kernels are for ---------===//

#include "quant-opt/Conversion/KernelTarget.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

using namespace mlir;
using namespace mlir::qopt;

std::optional<KernelTarget> qopt::parseKernelTarget(llvm::StringRef name) {
  if (name == "native")
    return hostKernelTarget();
  return llvm::StringSwitch<std::optional<KernelTarget>>(name)
      .Case("generic", KernelTarget::Generic)
      .Case("x86-64-avx2", KernelTarget::X86AVX2)
      .Case("x86-64-avx512-vnni", KernelTarget::X86AVX512VNNI)
      .Case("aarch64-dotprod", KernelTarget::AArch64DotProd)
      .Case("aarch64-i8mm", KernelTarget::AArch64I8MM)
      .Default(std::nullopt);
}

MatmulTile qopt::f32MatmulTileFor(KernelTarget target) {
  switch (target) {
  case KernelTarget::X86AVX512VNNI:
    return {6, 64, 128};
  case KernelTarget::X86AVX2:
    return {6, 16, 64};
  case KernelTarget::AArch64DotProd:
  case KernelTarget::AArch64I8MM:
    return {6, 16, 32};
  case KernelTarget::Generic:
    break;
  }
  // Portable code: the host's registers.
  KernelTarget host = hostKernelTarget();
  return host == KernelTarget::Generic ? MatmulTile{6, 16, 64}
                                       : f32MatmulTileFor(host);
}

llvm::SmallVector<int64_t, 2> qopt::f32KernelRowBlocks(KernelTarget target) {
  // 32 zmm registers hold 8 accumulators, the weight row and broadcasts;
  // two FMA pipes with 4-cycle latency need 8 independent chains. With 16
  // ymm registers (AVX2: a 16-wide row is two) 4 rows already use 8.
  if (target == KernelTarget::X86AVX512VNNI)
    return {8, 4};
  return {4};
}

KernelTarget qopt::hostKernelTarget() {
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  auto has = [&](llvm::StringRef f) { return features.lookup(f); };
  llvm::Triple host(llvm::sys::getProcessTriple());
  if (host.isX86()) {
    if (has("avx512vnni") && has("avx512bw") && has("avx512f"))
      return KernelTarget::X86AVX512VNNI;
    if (has("avx2") && has("fma"))
      return KernelTarget::X86AVX2;
  }
  if (host.isAArch64()) {
    if (has("i8mm"))
      return KernelTarget::AArch64I8MM;
    if (has("dotprod"))
      return KernelTarget::AArch64DotProd;
  }
  return KernelTarget::Generic;
}

llvm::StringRef qopt::kernelTargetName(KernelTarget target) {
  switch (target) {
  case KernelTarget::Generic:
    return "generic";
  case KernelTarget::X86AVX2:
    return "x86-64-avx2";
  case KernelTarget::X86AVX512VNNI:
    return "x86-64-avx512-vnni";
  case KernelTarget::AArch64DotProd:
    return "aarch64-dotprod";
  case KernelTarget::AArch64I8MM:
    return "aarch64-i8mm";
  }
  llvm_unreachable("unknown kernel target");
}

CodegenTarget qopt::codegenTargetFor(KernelTarget target) {
  switch (target) {
  case KernelTarget::Generic:
    return {};
  case KernelTarget::X86AVX2:
    return {"x86_64-unknown-linux-gnu", "haswell", ""};
  case KernelTarget::X86AVX512VNNI:
    return {"x86_64-unknown-linux-gnu", "cascadelake", ""};
  case KernelTarget::AArch64DotProd:
    return {"aarch64-unknown-linux-gnu", "generic", "+neon,+dotprod"};
  case KernelTarget::AArch64I8MM:
    return {"aarch64-unknown-linux-gnu", "generic", "+neon,+dotprod,+i8mm"};
  }
  llvm_unreachable("unknown kernel target");
}

llvm::SmallVector<llvm::StringRef>
qopt::requiredCPUFeatures(KernelTarget target) {
  switch (target) {
  case KernelTarget::Generic:
    return {};
  case KernelTarget::X86AVX2: // Haswell.
    return {"avx2", "fma", "bmi2", "f16c"};
  case KernelTarget::X86AVX512VNNI: // Cascade Lake.
    return {"avx2",     "fma",      "avx512f",   "avx512bw",
            "avx512dq", "avx512vl", "avx512vnni"};
  case KernelTarget::AArch64DotProd:
    return {"neon", "dotprod"};
  case KernelTarget::AArch64I8MM:
    return {"neon", "dotprod", "i8mm"};
  }
  llvm_unreachable("unknown kernel target");
}
