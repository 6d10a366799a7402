// qopt-approximate-math: GELU's powf(x, 3) becomes multiplications, tanh
// and exp become inline polynomial arithmetic (no libm call left), on
// scalars and vectors; other math ops stay.
// RUN: quant-opt %s -split-input-file --qopt-approximate-math | FileCheck %s
// RUN: quant-opt %s -split-input-file --qopt-approximate-math | FileCheck %s --check-prefix=GONE

// GONE-NOT: math.powf
// GONE-NOT: math.tanh
// GONE-NOT: math.exp
// GONE-NOT: math.erf

// CHECK-LABEL: func.func @gelu_softmax
// CHECK: arith.mulf %[[X:.*]], %[[X]] : f32
// CHECK: math.sqrt
// CHECK: return
func.func @gelu_softmax(%x: f32, %v: vector<8xf32>) -> (f32, f32, vector<8xf32>, f32, f32) {
  %c3 = arith.constant 3.0 : f32
  %cube = math.powf %x, %c3 : f32
  %t = math.tanh %cube : f32
  %e = math.exp %v : vector<8xf32>
  %s = math.sqrt %x : f32
  %erf = math.erf %x : f32
  return %cube, %t, %e, %s, %erf : f32, f32, vector<8xf32>, f32, f32
}
