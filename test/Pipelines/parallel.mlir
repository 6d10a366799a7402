// qopt-lower-to-llvm with parallel=true (the default, as in quant-compile):
// the kernels' column panels (scf.forall) and the column panels of large f32
// matmuls (scf.parallel) become OpenMP worksharing loops, each in its own
// parallel region; with parallel=false they stay serial loops and nothing
// refers to OpenMP. The matmul's loop nests are outlined from @main
// (qopt-outline-loop-nests), their parallel regions with them.
// RUN: quant-opt %s --qopt-lower-to-llvm | FileCheck %s --check-prefix=OMP
// RUN: quant-opt %s --qopt-lower-to-llvm=parallel=false | FileCheck %s --check-prefix=SERIAL

// OMP-LABEL: llvm.func @main
// OMP-NOT: omp.parallel
// OMP: llvm.call @qopt_loop_
// OMP-LABEL: llvm.func @qopt_kernel_w8s_f32_k4_n40_g4
// OMP: omp.parallel
// OMP:   omp.wsloop
// OMP:     omp.loop_nest
// OMP-LABEL: llvm.func internal @qopt_loop_
// OMP: omp.parallel
// OMP:   omp.wsloop
// OMP:     omp.loop_nest

// SERIAL-NOT: omp.
// SERIAL: llvm.func @main
// SERIAL: llvm.func @qopt_kernel_w8s_f32_k4_n40_g4
// SERIAL-NOT: omp.
func.func @main(%x: tensor<?x4xf32>, %a: tensor<?x256xf32>,
                %b: tensor<256x256xf32>) -> (tensor<?x40xf32>, tensor<?x256xf32>) {
  %w8 = arith.constant dense<3> : tensor<4x40xi8>
  %0 = qopt.qmatmul %x, %w8 weight !quant.uniform<i8<-127:127>:f32, 0.1> : tensor<?x4xf32>, tensor<4x40xi8> -> tensor<?x40xf32>
  %c0 = arith.constant 0 : index
  %m = tensor.dim %a, %c0 : tensor<?x256xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty(%m) : tensor<?x256xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x256xf32>) -> tensor<?x256xf32>
  %1 = linalg.matmul ins(%a, %b : tensor<?x256xf32>, tensor<256x256xf32>) outs(%acc : tensor<?x256xf32>) -> tensor<?x256xf32>
  return %0, %1 : tensor<?x40xf32>, tensor<?x256xf32>
}
