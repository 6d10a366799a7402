//===- onnx-text-fuzzer.cpp - libFuzzer entry for ONNX text syntax --------===//

#include "ImportFuzzer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzzImport(data, size, "fuzz.onnxtext");
}
