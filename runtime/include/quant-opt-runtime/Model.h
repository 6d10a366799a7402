//===- Model.h - A compiled model and its weights, loaded -------*- C++ -*-===//
//
// Loads a shared library written by quant-compile, reads its metadata
// (`qopt_model_meta`), maps its weight archive after checking the
// fingerprint, and calls its entry points through the packed interface
// (`qopt_entry_<name>(void **args)`) with MLIR memref descriptors.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_RUNTIME_MODEL_H
#define QUANT_OPT_RUNTIME_MODEL_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace quantopt::rt {

struct TensorSpec {
  std::string name;
  std::string dtype;          // MLIR spelling: f32, f16, i64, i8, ...
  std::vector<int64_t> shape; // -1 for dynamic dims.
  size_t elementBytes = 0;
};

struct EntryPoint {
  std::string name;
  std::vector<TensorSpec> inputs, outputs;
  bool weightsArgument = false;
  /// The entry updates its KV cache inputs in place (qopt-kv-cache-in-place):
  /// inputs are the token ids, the cache buffers [batch, heads, capacity,
  /// head_dim] and `past_sequence_length`; the only output is the logits.
  bool kvCacheInPlace = false;
  /// What the entry checks about its inputs before running (shapes the
  /// model assumes equal, ids inside their tables, ...): the message of
  /// each check, by the status the entry returns (1-based).
  std::vector<std::string> checks;
  /// The most positions the model can run (its position table's rows), 0
  /// if the compiler found none.
  int64_t context = 0;
  int32_t (*function)(void **) = nullptr;
};

/// A dense row-major tensor. Outputs own their buffer (allocated by the
/// compiled code); inputs are usually views of the caller's memory.
class Tensor {
public:
  Tensor() = default;
  Tensor(std::vector<int64_t> shape, void *data, std::shared_ptr<void> owner)
      : shape(std::move(shape)), data(data), owner(std::move(owner)) {}
  /// A view of memory the caller keeps alive.
  static Tensor view(std::vector<int64_t> shape, const void *data) {
    return Tensor(std::move(shape), const_cast<void *>(data), nullptr);
  }
  int64_t numElements() const;
  template <typename T> T *as() const { return static_cast<T *>(data); }

  std::vector<int64_t> shape;
  void *data = nullptr;

private:
  std::shared_ptr<void> owner;
};

class Model {
public:
  /// Loads a model library and its weight archive. A bundle (several
  /// targets) loads the first variant this CPU runs, or $QOPT_VARIANT, with
  /// that variant's own archive; `weights` is then not used.
  static llvm::Expected<std::unique_ptr<Model>> load(llvm::StringRef library,
                                                     llvm::StringRef weights);
  /// A model whose code is already in this process (JIT-compiled by
  /// qopt-calibrate): `lookup` returns the address of a symbol or null.
  /// `name` is used in messages.
  static llvm::Expected<std::unique_ptr<Model>>
  fromSymbols(std::function<void *(llvm::StringRef)> lookup,
              llvm::StringRef name, llvm::StringRef weights);
  ~Model();
  Model(const Model &) = delete;
  Model &operator=(const Model &) = delete;

  const std::vector<EntryPoint> &entryPoints() const { return entries; }
  const EntryPoint *lookup(llvm::StringRef name) const;

  /// Calls `entry` with `inputs` (checked against the entry's ranks, static
  /// dims and buffer sizes here, and against the shape assumptions of the
  /// model by the entry itself) and returns its outputs, or an error naming
  /// the check that failed.
  llvm::Expected<std::vector<Tensor>> run(const EntryPoint &entry,
                                          llvm::ArrayRef<Tensor> inputs) const;

  /// Sets the threads of the model's parallel loops (its OpenMP runtime's
  /// omp_set_num_threads, which is process-wide). False if the model has
  /// none: compiled with --parallel=false, or JIT-compiled in process.
  bool setThreads(int threads) const;

  size_t weightBytes() const { return weightsSize; }
  /// The metadata JSON the compiler embedded (qopt_model_meta).
  const std::string &metadata() const { return metadataText; }
  /// The target of the variant loaded from a bundle (quant-compile with
  /// several targets), empty for a single-target library.
  const std::string &variant() const { return variantTarget; }

private:
  Model() = default;
  /// load(), refusing a bundle unless `bundleAllowed` (a bundle's variants
  /// are model libraries, never bundles again).
  static llvm::Expected<std::unique_ptr<Model>>
  loadLibrary(llvm::StringRef library, llvm::StringRef weights,
              bool bundleAllowed);
  llvm::Error initialize(std::function<void *(llvm::StringRef)> lookup,
                         llvm::StringRef name, llvm::StringRef weights);

  void *handle = nullptr;
  void *libraryBase = nullptr; // To recognise outputs that are constants.
  void *weightsMapping = nullptr;
  size_t weightsMappingSize = 0;
  char *weightsData = nullptr;
  size_t weightsSize = 0;
  std::vector<EntryPoint> entries;
  std::string metadataText;
  std::string variantTarget;
  void (*ompSetNumThreads)(int) = nullptr;
};

} // namespace quantopt::rt

#endif // QUANT_OPT_RUNTIME_MODEL_H
