//===- Passes.td - quant-opt's conversion passes -----------*- tablegen -*-===//

#ifndef QUANT_OPT_CONVERSION_PASSES_TD
#define QUANT_OPT_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertQOptToLinalgPass : Pass<"convert-qopt-to-linalg", "func::FuncOp"> {
  let summary = "Lower qopt ops to linalg/arith on tensors (the scalar "
                "reference lowering)";
  let description = [{
    - `qopt.observe` forwards its input (statistics are compile-time only);
    - `qopt.fake_quant` with a per-tensor type becomes an elementwise
      `linalg.generic` (round half to even, saturate, dequantize); per-axis
      and sub-channel types go through upstream `quant.qcast`/`quant.dcast`;
    - `qopt.dynamic_fake_quant` becomes a per-row range reduction and an
      elementwise quantize-dequantize;
    - `qopt.qmatmul` with a float activation dequantizes its packed weight
      (unpacking nibbles, per-group scales and zero points) into a
      `[K, N]` f32 tensor at run time and multiplies with `linalg.matmul`;
      with a quantized activation, it quantizes the input (static or per
      row), centres both operands on their zero points, multiplies in
      int32 with `linalg.matmul` and scales the int32 result once.
    This is the reference every fast kernel is tested against: plain,
    exact integer arithmetic, no target-specific code.

    Before:
    ```mlir
    %w = arith.constant dense<[[1, 2], [3, 4], [5, 6], [7, 8]]> : tensor<4x2xi8>
    %y = qopt.qmatmul %x, %w weight !quant.uniform<i8<-127:127>:f32:1, {0.1, 0.2}>
        : tensor<?x4xf32>, tensor<4x2xi8> -> tensor<?x2xf32>
    ```
    After (the weight dequantized at run time, then an f32 matmul):
    ```mlir
    %scales = arith.constant dense<[[1.000000e-01, 2.000000e-01]]> : tensor<1x2xf32>
    %zps = arith.constant dense<0> : tensor<1x2xi32>
    %wf = linalg.generic {indexing_maps = [#map, #map1, #map1, #map], iterator_types = ["parallel", "parallel"]}
        ins(%w, %scales, %zps : tensor<4x2xi8>, tensor<1x2xf32>, tensor<1x2xi32>) outs(%e : tensor<4x2xf32>) {
    ^bb0(%q: i8, %s: f32, %z: i32, %out: f32):
      %i = arith.extsi %q : i8 to i32
      %c = arith.subi %i, %z : i32
      %f = arith.sitofp %c : i32 to f32
      %v = arith.mulf %f, %s : f32
      linalg.yield %v : f32
    } -> tensor<4x2xf32>
    %y = linalg.matmul ins(%x, %wf : tensor<?x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<?x2xf32>) -> tensor<?x2xf32>
    ```
  }];
  let dependentDialects = ["linalg::LinalgDialect", "arith::ArithDialect",
                           "math::MathDialect", "tensor::TensorDialect",
                           "quant::QuantDialect"];
}

def ConvertQOptToKernelsPass
    : Pass<"convert-qopt-to-kernels", "ModuleOp"> {
  let summary = "Lower qopt.qmatmul to vectorized INT8/INT4 kernels for a "
                "target CPU";
  let description = [{
    Every `qopt.qmatmul` whose weight is a constant becomes a call to a
    private kernel function (one per shape and scheme, shared by the layers
    that have them) whose weights are repacked at compile time into panels
    of 16 output columns:
    - float activations (W8/W4, per tensor, per channel or in groups): the
      weight bytes of each panel row are unpacked in registers (mask,
      shift, convert) and multiplied into f32 accumulators for a block of
      4 rows, group by group; group scales (and zero points, as a bias on
      group sums of x) are applied once per group;
    - quantized activations (W8A8, W4A8; static or dynamic per row): x is
      quantized exactly as the reference lowering does (when x is the only
      use of an elementwise producer, inside it: one parallel loop over
      the rows computes each row, its range and its bytes, and the f32 x
      is never stored) and the int32 products are summed, per group of K, with the target's dot-product
      instructions (4-bit weights unpacked from nibbles in registers):
      `generic` (portable vector ops), `x86-64-avx2` (vpmaddwd; vpmaddubsw
      for 4-bit weights),
      `x86-64-avx512-vnni` (vpdpbusd), `aarch64-dotprod` (sdot),
      `aarch64-i8mm` (usmmla); zero points are folded into column and row
      sums, so the result equals the reference bit for bit.
    `target=native` picks the best of these for the host. Other qopt ops,
    and qmatmuls whose weight is not a constant, are left for
    `convert-qopt-to-linalg`.

    Before:
    ```mlir
    %y = qopt.qmatmul %x, %w input !quant.uniform<u8:f32, 0.05:10>
        weight !quant.uniform<i8<-127:127>:f32:1, {0.1, 0.2, 0.3}>
        : tensor<?x6xf32>, tensor<6x3xi8> -> tensor<?x3xf32>
    ```
    After, with `target=x86-64-avx2` (x quantized to bytes; the weight repacked
    into one panel; a kernel per shape):
    ```mlir
    %xq = linalg.generic {...} ins(%x : tensor<?x6xf32>) outs(%e : tensor<?x6xi8>) {...}
    %wp = arith.constant dense_resource<kernel_weight> : tensor<1x3x32xi8>
    %y = call @qopt_kernel_w8a8_x86_64_avx2_k6_n3(%xq, %wp, %colsums, %scales, %zps, %xscales)
        : (tensor<?x6xi8>, tensor<1x3x32xi8>, tensor<1x16xi32>, tensor<1x16xf32>, tensor<?xi32>, tensor<?xf32>) -> tensor<?x3xf32>
    ...
    func.func private @qopt_kernel_w8a8_x86_64_avx2_k6_n3(...) -> tensor<?x3xf32> {
      ... qopt.pure_intrinsic "llvm.x86.avx2.pmadd.wd"(%a, %b) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32> ...
    }
    ```
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"native\"",
           "Kernel target: generic, x86-64-avx2, x86-64-avx512-vnni, "
           "aarch64-dotprod, aarch64-i8mm or native (the host's best)">,
    Option<"fuseInputQuantization", "fuse-input-quantization", "bool",
           /*default=*/"true",
           "Quantize a W8A8/W4A8 input inside its elementwise producer "
           "(LayerNorm, GELU), row by row, instead of in passes over the "
           "producer's f32 result">,
  ];
  let dependentDialects = [
    "linalg::LinalgDialect", "arith::ArithDialect", "tensor::TensorDialect",
    "scf::SCFDialect", "vector::VectorDialect", "func::FuncDialect",
    "LLVM::LLVMDialect", "arm_neon::ArmNeonDialect"];
}

def ConvertF32MatmulsToKernelsPass
    : Pass<"convert-f32-matmuls-to-kernels", "ModuleOp"> {
  let summary = "Lower f32 matmuls with constant weights to the panel "
                "kernels, their weights packed at compile time";
  let description = [{
    A contraction `C[..., n] = sum_k A[..., k] * B[k, n]` on tensors (a
    `linalg.matmul` or the generic that elementwise fusion makes of a linear
    layer whose result is reshaped) whose `B` is an f32 constant and whose
    `C` starts as zeros becomes a call to a private kernel function shared
    by every layer of that shape: `B` is repacked into panels of 16 columns
    `[ceil(N / 16), K, 16]` (zeros past N), so a panel is one contiguous
    stream; the kernel is the float-activation kernel of
    `convert-qopt-to-kernels` without unpacking, with the same row blocks,
    independent accumulators for one row (decode) and `scf.forall` over
    panels. Contractions with non-constant operands (attention) are left for
    `qopt-vectorize-contractions`.

    A tied LM head stores its weight twice: the embedding table `E [N, K]`
    (read by the lookup's `tensor.extract E[t, k]`) and its transpose, the
    LM head's `B`. When a constant only read by `tensor.extract` holds
    exactly (bitwise) the transpose of a packed `B`, the lookups read the
    packed weight instead, at `[t / 16, k, t % 16]`, and the table is
    erased: the weight archive then holds it once.

    `row-blocks` sets how many rows of `A` share each 16-wide row of a
    panel (one accumulator register per row): the whole blocks of the first
    size, then of the next, then single rows. More rows amortize the weight
    load and give the FMA units more independent chains, but need more
    registers (the pipeline takes 8 then 4 on AVX-512, 4 elsewhere).

    Before:
    ```mlir
    %w = arith.constant dense<1.5> : tensor<4x20xf32>
    %y = linalg.matmul ins(%x, %w : tensor<?x4xf32>, tensor<4x20xf32>)
        outs(%acc : tensor<?x20xf32>) -> tensor<?x20xf32>
    ```
    After (two panels of 16 columns, the second padded with zeros):
    ```mlir
    %wp = arith.constant dense_resource<kernel_weight> : tensor<2x4x16xf32>
    %y = call @qopt_kernel_f32_k4_n20(%x, %wp) : (tensor<?x4xf32>, tensor<2x4x16xf32>) -> tensor<?x20xf32>
    ...
    func.func private @qopt_kernel_f32_k4_n20(%a: tensor<?x4xf32>, %b: tensor<2x4x16xf32>) -> tensor<?x20xf32> {
      ... scf.forall (%panel) in (2) { ... vector.fma ... } ...
    }
    ```
  }];
  let options = [
    ListOption<"rowBlocks", "row-blocks", "int64_t",
               "Rows per register block, largest first (default: 4)">,
  ];
  let dependentDialects = [
    "linalg::LinalgDialect", "arith::ArithDialect", "tensor::TensorDialect",
    "scf::SCFDialect", "vector::VectorDialect", "func::FuncDialect"];
}

def ConvertQOptIntrinsicsToLLVMPass
    : Pass<"convert-qopt-intrinsics-to-llvm", "ModuleOp"> {
  let summary = "Turn qopt.pure_intrinsic into llvm.call_intrinsic";
  let description = [{
    Runs after bufferization and buffer deallocation (which cannot see
    through `llvm.call_intrinsic`'s unknown memory effects).

    Before:
    ```mlir
    %0 = qopt.pure_intrinsic "llvm.x86.avx2.pmadd.wd"(%a, %b) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
    ```
    After:
    ```mlir
    %0 = llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%a, %b) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
    ```
  }];
  let dependentDialects = ["LLVM::LLVMDialect"];
}

#endif // QUANT_OPT_CONVERSION_PASSES_TD
