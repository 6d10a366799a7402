//===- onnx-proto-fuzzer.cpp - libFuzzer entry for binary ModelProto ------===//

#include "ImportFuzzer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // External data would resolve against the working directory; the fuzzer
  // runs in an empty directory (see bench/fuzz.sh).
  return fuzzImport(data, size, "fuzz.onnx");
}
