//===- KernelTarget.h - Which CPU the quantized kernels are for -*- C++ -*-===//
//
// A kernel target names an instruction set for the quantized matmul kernels
// (convert-qopt-to-kernels) and, with it, what LLVM generates code for: the
// triple, CPU and features of the target machine.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_CONVERSION_KERNELTARGET_H
#define QUANT_OPT_CONVERSION_KERNELTARGET_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace mlir::qopt {

enum class KernelTarget {
  /// Portable vector code (vector/arith ops only); LLVM picks instructions.
  Generic,
  /// x86-64 with AVX2 and FMA: 16-bit multiply-add pairs (vpmaddwd), exact.
  X86AVX2,
  /// x86-64 with AVX-512 VNNI: u8 x s8 dot products of four (vpdpbusd).
  X86AVX512VNNI,
  /// AArch64 with the dot-product extension: s8 x s8 sums of four (sdot).
  AArch64DotProd,
  /// AArch64 with the 8-bit matrix multiply extension: 2x8 by 8x2 tiles
  /// (usmmla).
  AArch64I8MM,
};

/// The target named `name` (`generic`, `x86-64-avx2`, `x86-64-avx512-vnni`,
/// `aarch64-dotprod`, `aarch64-i8mm`, or `native` for the best the host
/// supports); nullopt for other names.
std::optional<KernelTarget> parseKernelTarget(llvm::StringRef name);

/// The best kernel target for the host CPU.
KernelTarget hostKernelTarget();

llvm::StringRef kernelTargetName(KernelTarget target);

/// What LLVM should generate code for with `target`: an empty triple and
/// CPU mean the host's (then features are the host's too).
struct CodegenTarget {
  std::string triple, cpu, features;
};
CodegenTarget codegenTargetFor(KernelTarget target);

/// The CPU features (LLVM's names, as llvm::sys::getHostCPUFeatures reports
/// them) a CPU needs to run code compiled for `target`: its kernels'
/// instructions and the main extensions of the CPU LLVM generates code for.
/// Empty for `generic`, which runs on the host it was compiled on.
llvm::SmallVector<llvm::StringRef> requiredCPUFeatures(KernelTarget target);

/// Register blocks of the f32 matmul (qopt-vectorize-contractions) that
/// fit the target's vector registers: rows x columns, and the columns of
/// the one-row (decode) block. 6 x 2 AVX2 vectors use 12 of 16 ymm; 6 x 4
/// AVX-512 or NEON vectors 24 of 32; one row of 8 vectors leaves room for
/// the loads.
struct MatmulTile {
  int64_t rows, columns, gemvColumns;
};
MatmulTile f32MatmulTileFor(KernelTarget target);

/// Row blocks of the f32 weight kernels (convert-f32-matmuls-to-kernels) on
/// `target`: one 16-wide accumulator register per row.
llvm::SmallVector<int64_t, 2> f32KernelRowBlocks(KernelTarget target);

/// The names accepted by parseKernelTarget, for help texts and diagnostics.
inline constexpr const char *kKernelTargetNames =
    "generic, x86-64-avx2, x86-64-avx512-vnni, aarch64-dotprod, "
    "aarch64-i8mm, native";

} // namespace mlir::qopt

#endif // QUANT_OPT_CONVERSION_KERNELTARGET_H
