//===- GuardedBuffer.h - Memory whose neighbours fault ----------*- C++ -*-===//
//
// The compiled model is not instrumented by the sanitizers, so the runtime
// fuzzer gives it inputs in buffers that end at an inaccessible page (and
// start right after one): a read or write past either end is a SIGSEGV the
// fuzzer reports, not a silent read of the heap.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_TOOLS_FUZZERS_GUARDEDBUFFER_H
#define QUANT_OPT_TOOLS_FUZZERS_GUARDEDBUFFER_H

#include <cstddef>
#include <cstdlib>
#include <sys/mman.h>
#include <unistd.h>

class GuardedBuffer {
public:
  /// `bytes` accessible bytes ending at a guard page (so the start is only
  /// aligned to `align`, not to a page).
  explicit GuardedBuffer(size_t bytes, size_t align = 64) {
    size_t page = sysconf(_SC_PAGESIZE);
    size_t rounded = (bytes + align - 1) / align * align;
    size_t body = (rounded + page - 1) / page * page;
    mappedBytes = body + 2 * page;
    void *m = mmap(nullptr, mappedBytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (m == MAP_FAILED)
      abort();
    mapping = static_cast<char *>(m);
    if (body && mprotect(mapping + page, body, PROT_READ | PROT_WRITE))
      abort();
    data = mapping + page + body - rounded;
  }
  ~GuardedBuffer() { munmap(mapping, mappedBytes); }
  GuardedBuffer(const GuardedBuffer &) = delete;
  GuardedBuffer &operator=(const GuardedBuffer &) = delete;

  char *data;

private:
  char *mapping;
  size_t mappedBytes;
};

#endif // QUANT_OPT_TOOLS_FUZZERS_GUARDEDBUFFER_H
