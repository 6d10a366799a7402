// RUN: quant-opt %s -split-input-file -qopt-outline-loop-nests | FileCheck %s
// RUN: quant-opt %s -split-input-file '-qopt-outline-loop-nests=min-ops=6' | FileCheck %s --check-prefix=SMALL

// Two equal nests on different buffers share one function; its constants
// are cloned in (the bounds stay constants), the buffers are arguments.
// CHECK-LABEL: func.func @two_layers
// CHECK-SAME: (%[[A:.*]]: memref<8xf32>, %[[B:.*]]: memref<8xf32>)
// CHECK-NEXT: call @qopt_loop_0(%[[A]]) : (memref<8xf32>) -> ()
// CHECK-NEXT: call @qopt_loop_0(%[[B]]) : (memref<8xf32>) -> ()
// CHECK-NEXT: return
// CHECK: func.func private @qopt_loop_0(%[[X:.*]]: memref<8xf32>)
// CHECK-SAME: llvm.linkage = #llvm.linkage<internal>
// CHECK-SAME: passthrough = ["noinline"]
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[C8]]
// CHECK: memref.load %[[X]]
// CHECK-NOT: func.func private @qopt_loop_1
// Nests of 5 ops (for, load, mulf, store, yield) stay with min-ops=6.
// SMALL-LABEL: func.func @two_layers
// SMALL-NOT: call
// SMALL: scf.for
// SMALL: scf.for
func.func @two_layers(%a: memref<8xf32>, %b: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c8 = arith.constant 8 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %c8 step %c1 {
    %x = memref.load %a[%i] : memref<8xf32>
    %y = arith.mulf %x, %x : f32
    memref.store %y, %a[%i] : memref<8xf32>
  }
  scf.for %i = %c0 to %c8 step %c1 {
    %x = memref.load %b[%i] : memref<8xf32>
    %y = arith.mulf %x, %x : f32
    memref.store %y, %b[%i] : memref<8xf32>
  }
  return
}

// -----

// Nests that differ in a constant (the bound) or an op get one function
// each; a nest that reads the same buffer twice takes it once.
// CHECK-LABEL: func.func @different
// CHECK-NEXT: call @qopt_loop_0(%arg0)
// CHECK-NEXT: call @qopt_loop_1(%arg0)
// CHECK-NEXT: call @qopt_loop_2(%arg0)
// CHECK-DAG: func.func private @qopt_loop_0(%{{.*}}: memref<8xf32>)
// CHECK-DAG: func.func private @qopt_loop_1(%{{.*}}: memref<8xf32>)
// CHECK-DAG: func.func private @qopt_loop_2(%{{.*}}: memref<8xf32>)
func.func @different(%a: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %c8 step %c1 {
    %x = memref.load %a[%i] : memref<8xf32>
    %y = arith.mulf %x, %x : f32
    memref.store %y, %a[%i] : memref<8xf32>
  }
  scf.for %i = %c0 to %c4 step %c1 {
    %x = memref.load %a[%i] : memref<8xf32>
    %y = arith.mulf %x, %x : f32
    memref.store %y, %a[%i] : memref<8xf32>
  }
  scf.for %i = %c0 to %c8 step %c1 {
    %x = memref.load %a[%i] : memref<8xf32>
    %y = arith.addf %x, %x : f32
    memref.store %y, %a[%i] : memref<8xf32>
  }
  return
}

// -----

// A nest's results are the function's; values from outside (a dynamic
// bound, a scalar) are arguments in order of first use; a nest inside an
// scf.if is outlined where it is; nested loops go with their outer loop.
// CHECK-LABEL: func.func @results
// CHECK-SAME: (%[[M:.*]]: memref<?x4xf32>, %[[S:.*]]: f32, %[[P:.*]]: i1)
// CHECK: %[[N:.*]] = memref.dim %[[M]]
// CHECK: scf.if %[[P]] -> (f32)
// CHECK-NEXT: %[[R:.*]] = func.call @qopt_loop_0(%[[N]], %[[S]], %[[M]]) : (index, f32, memref<?x4xf32>) -> f32
// CHECK-NEXT: scf.yield %[[R]]
// CHECK: func.func private @qopt_loop_0(%{{.*}}: index, %{{.*}}: f32, %{{.*}}: memref<?x4xf32>) -> f32
// CHECK: scf.for
// CHECK: scf.for
// CHECK: return %{{.*}} : f32
func.func @results(%m: memref<?x4xf32>, %s: f32, %p: i1) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %n = memref.dim %m, %c0 : memref<?x4xf32>
  %r = scf.if %p -> (f32) {
    %sum = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %s) -> (f32) {
      %row = scf.for %j = %c0 to %c4 step %c1 iter_args(%a = %acc) -> (f32) {
        %x = memref.load %m[%i, %j] : memref<?x4xf32>
        %y = arith.addf %a, %x : f32
        scf.yield %y : f32
      }
      scf.yield %row : f32
    }
    scf.yield %sum : f32
  } else {
    scf.yield %s : f32
  }
  return %r : f32
}

// -----

// Parallel loops (the kernels' panels) too, in every public function:
// equal nests in two entry points share a function. Private functions (the
// kernels, already shared) and nests under min-ops keep their loops.
// CHECK-LABEL: func.func @entry_a
// CHECK-NEXT: call @qopt_loop_0(%arg0)
// CHECK-LABEL: func.func @entry_b
// CHECK-NEXT: call @qopt_loop_0(%arg0)
// CHECK-LABEL: func.func private @kernel
// CHECK-NEXT: arith.constant
// CHECK: scf.parallel
// CHECK: func.func private @qopt_loop_0
// CHECK: scf.parallel
func.func @entry_a(%a: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  scf.parallel (%i) = (%c0) to (%c16) step (%c1) {
    %x = memref.load %a[%i] : memref<16xf32>
    %y = arith.negf %x : f32
    memref.store %y, %a[%i] : memref<16xf32>
    scf.reduce
  }
  return
}
func.func @entry_b(%b: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  scf.parallel (%i) = (%c0) to (%c16) step (%c1) {
    %x = memref.load %b[%i] : memref<16xf32>
    %y = arith.negf %x : f32
    memref.store %y, %b[%i] : memref<16xf32>
    scf.reduce
  }
  return
}
func.func private @kernel(%k: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  scf.parallel (%i) = (%c0) to (%c16) step (%c1) {
    %x = memref.load %k[%i] : memref<16xf32>
    %y = arith.negf %x : f32
    memref.store %y, %k[%i] : memref<16xf32>
    scf.reduce
  }
  return
}
