// RUN: quant-opt %s -split-input-file -verify-diagnostics -qopt-externalize-weights="archive=%t.weights min-bytes=16"
// RUN: not quant-opt %s -split-input-file -qopt-externalize-weights 2>&1 | FileCheck %s --check-prefix=NOPATH
// RUN: not quant-opt %s -split-input-file -qopt-externalize-weights="archive=%t.missing/dir/x.weights" 2>&1 | FileCheck %s --check-prefix=BADPATH

// NOPATH: error: qopt-externalize-weights needs archive=<path>
// BADPATH: error: cannot write weight archive '{{.*}}missing/dir/x.weights'

// A weight used by a function that does not receive the archive.
memref.global "private" constant @w : memref<8xf32> = dense<1.0>
func.func @main() {
  return
}
func.func private @helper() {
  // expected-error @below {{weight 'w' is used outside a public function; only entry points receive the weight archive}}
  %w = memref.get_global @w : memref<8xf32>
  return
}
