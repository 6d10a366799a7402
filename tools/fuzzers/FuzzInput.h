//===- FuzzInput.h - Reading decisions from a fuzzer's bytes ----*- C++ -*-===//

#ifndef QUANT_OPT_TOOLS_FUZZERS_FUZZINPUT_H
#define QUANT_OPT_TOOLS_FUZZERS_FUZZINPUT_H

#include <cstddef>
#include <cstdint>
#include <cstring>

/// Takes integers from the front of the input; zeros once it is used up.
class FuzzInput {
public:
  FuzzInput(const uint8_t *data, size_t size) : data(data), size(size) {}
  bool empty() const { return size == 0; }
  template <typename T> T take() {
    T value = 0;
    size_t n = size < sizeof(T) ? size : sizeof(T);
    memcpy(&value, data, n);
    data += n;
    size -= n;
    return value;
  }
  /// A value in [lo, hi].
  int64_t range(int64_t lo, int64_t hi) {
    uint64_t span = uint64_t(hi - lo) + 1;
    return lo + int64_t(take<uint16_t>() % span);
  }

private:
  const uint8_t *data;
  size_t size;
};

#endif // QUANT_OPT_TOOLS_FUZZERS_FUZZINPUT_H
