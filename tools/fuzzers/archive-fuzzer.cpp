//===- archive-fuzzer.cpp - libFuzzer entry for the weight archive reader -===//
//
// Loads the compiled model $QOPT_FUZZ_MODEL with the input as its weight
// archive (an in-memory file): the header, sizes and fingerprint must be
// checked before the data is handed to the model, so every input but the
// real archive is refused with an error, and the real one loads.
//
//===----------------------------------------------------------------------===//

#include "quant-opt-runtime/Model.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

using namespace quantopt::rt;

static const char *modelPath = nullptr;

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  modelPath = getenv("QOPT_FUZZ_MODEL");
  if (!modelPath) {
    fprintf(stderr, "archive-fuzzer: set QOPT_FUZZ_MODEL to a compiled "
                    "model (.so)\n");
    exit(2);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int fd = memfd_create("archive", MFD_CLOEXEC);
  if (fd < 0 || write(fd, data, size) != ssize_t(size))
    abort();
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  auto model = Model::load(modelPath, path);
  if (!model)
    llvm::consumeError(model.takeError());
  close(fd);
  return 0;
}
