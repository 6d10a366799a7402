// Fails in qopt-externalize-weights after the weight archive is written
// (the global is used outside an entry point): outputs.test checks that the
// archive written by then is not left at the output path.
memref.global "private" constant @w : memref<512xf32> = dense<1.0>
func.func private @helper() -> memref<512xf32> {
  %0 = memref.get_global @w : memref<512xf32>
  return %0 : memref<512xf32>
}
func.func @main() -> memref<512xf32> {
  %0 = func.call @helper() : () -> memref<512xf32>
  return %0 : memref<512xf32>
}
