//===- WeightArchive.h - The compiled model's weight file format -*- C++
//-*-===//
//
// Shared by the compiler (qopt-externalize-weights writes it) and the runtime
// (which maps it and hands its data region to the compiled entry points).
//
//   offset 0   WeightArchiveHeader (64 bytes, little-endian)
//   offset 64  data region: tensors at 64-byte aligned offsets relative to
//              the start of the data region (so absolute offsets are 64-byte
//              aligned too, and vector loads of a mapped file are aligned)
//   then       a JSON index (indexOffset, indexBytes): [{"name", "offset",
//              "bytes", "type"}], for tools and for humans; the compiled code
//              does not need it, it has the offsets baked in.
//
// `fingerprint` is xxh3-64 of the data region. The compiled model records
// the data size and fingerprint it was built against; the runtime compares
// them before running, so a stale or foreign archive is refused.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_RUNTIME_WEIGHTARCHIVE_H
#define QUANT_OPT_RUNTIME_WEIGHTARCHIVE_H

#include <cstdint>

namespace quantopt::rt {

constexpr char kWeightArchiveMagic[8] = {'Q', 'O', 'P', 'T',
                                         'W', 'T', 'S', '1'};
constexpr uint64_t kWeightArchiveAlignment = 64;
constexpr uint64_t kWeightArchiveHeaderBytes = 64;

struct WeightArchiveHeader {
  char magic[8];
  uint64_t dataOffset;  // Always kWeightArchiveHeaderBytes.
  uint64_t dataBytes;   // Size of the data region.
  uint64_t fingerprint; // xxh3-64 of the data region.
  uint64_t indexOffset; // JSON index, after the data region.
  uint64_t indexBytes;
  uint64_t tensorCount;
  uint64_t reserved;
};
static_assert(sizeof(WeightArchiveHeader) == kWeightArchiveHeaderBytes);

} // namespace quantopt::rt

#endif // QUANT_OPT_RUNTIME_WEIGHTARCHIVE_H
