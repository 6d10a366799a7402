// RUN: not quant-opt %s -qopt-insert-runtime-checks=max-bytes=0 -o /dev/null 2>&1 | FileCheck %s

// The bound must be positive; the error names the option and the value and
// does not print the module.
// CHECK: error: qopt-insert-runtime-checks: max-bytes must be positive, got 0
// CHECK-NOT: func.func
func.func @f(%x: tensor<?xf32>) -> tensor<?xf32> {
  return %x : tensor<?xf32>
}
