//===- Model.cpp - A compiled model and its weights, loaded ---------------===//

#include "quant-opt-runtime/Model.h"
#include "quant-opt-runtime/ABI.h"
#include "quant-opt-runtime/WeightArchive.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/xxhash.h"
#include "llvm/TargetParser/Host.h"

#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <malloc.h>
#include <map>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace quantopt::rt;

static llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static size_t elementBytesOf(llvm::StringRef dtype) {
  return llvm::StringSwitch<size_t>(dtype)
      .Cases({"f64", "i64", "index"}, 8)
      .Cases({"f32", "i32"}, 4)
      .Cases({"f16", "bf16", "i16"}, 2)
      .Cases({"i8", "i1"}, 1)
      .Default(0);
}

int64_t Tensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

static llvm::Expected<std::vector<TensorSpec>>
parseSpecs(const llvm::json::Array *values, llvm::StringRef what) {
  if (!values)
    return fail("model metadata: entry has no " + what);
  std::vector<TensorSpec> specs;
  for (const llvm::json::Value &v : *values) {
    const llvm::json::Object *o = v.getAsObject();
    const llvm::json::Array *shape = o ? o->getArray("shape") : nullptr;
    auto name = o ? o->getString("name") : std::nullopt;
    auto dtype = o ? o->getString("dtype") : std::nullopt;
    if (!shape || !name || !dtype)
      return fail("model metadata: malformed " + what);
    TensorSpec spec;
    spec.name = name->str();
    spec.dtype = dtype->str();
    spec.elementBytes = elementBytesOf(*dtype);
    if (!spec.elementBytes)
      return fail("model metadata: unsupported element type " + *dtype +
                  " for '" + *name + "'");
    for (const llvm::json::Value &d : *shape)
      spec.shape.push_back(d.getAsInteger().value_or(-1));
    specs.push_back(std::move(spec));
  }
  return specs;
}

/// The variant of a bundle to load: $QOPT_VARIANT if set, else the first
/// whose required CPU features this CPU has. Its library and weights are
/// named relative to the bundle's directory.
static llvm::Expected<std::pair<std::string, std::string>>
selectVariant(const llvm::json::Array &variants, llvm::StringRef bundle,
              std::string &chosen) {
  llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
  const char *forced = std::getenv("QOPT_VARIANT");
  std::string listed;
  for (const llvm::json::Value &v : variants) {
    const llvm::json::Object *o = v.getAsObject();
    auto target = o ? o->getString("target") : std::nullopt;
    auto library = o ? o->getString("library") : std::nullopt;
    auto weights = o ? o->getString("weights") : std::nullopt;
    const llvm::json::Array *required = o ? o->getArray("requires") : nullptr;
    if (!target || !library || !weights || !required)
      return fail("'" + bundle + "': malformed variant in bundle metadata");
    listed += (listed.empty() ? "" : ", ") + target->str();
    std::string missing;
    for (const llvm::json::Value &f : *required)
      if (auto feature = f.getAsString(); !feature || !host.lookup(*feature))
        missing += " " + feature.value_or("?").str();
    if (forced && *target != forced)
      continue;
    if (!missing.empty()) {
      if (forced)
        return fail("'" + bundle + "': QOPT_VARIANT=" + forced +
                    " needs CPU features this CPU lacks:" + missing);
      continue;
    }
    chosen = target->str();
    llvm::SmallString<128> dir(bundle);
    llvm::sys::path::remove_filename(dir);
    llvm::SmallString<128> libraryPath(dir), weightsPath(dir);
    llvm::sys::path::append(libraryPath, *library);
    llvm::sys::path::append(weightsPath, *weights);
    return std::make_pair(std::string(libraryPath), std::string(weightsPath));
  }
  if (forced)
    return fail("'" + bundle + "' has no variant '" + forced +
                "' (QOPT_VARIANT); it has: " + listed);
  return fail("'" + bundle + "': this CPU runs none of its variants (" +
              listed + ")");
}

llvm::Expected<std::unique_ptr<Model>> Model::load(llvm::StringRef library,
                                                   llvm::StringRef weights) {
  return loadLibrary(library, weights, /*bundleAllowed=*/true);
}

llvm::Expected<std::unique_ptr<Model>>
Model::loadLibrary(llvm::StringRef library, llvm::StringRef weights,
                   bool bundleAllowed) {
  std::unique_ptr<Model> model(new Model());
  std::string libraryPath = library.str();
  // A path without a slash would be searched for in the system directories.
  if (library.find('/') == llvm::StringRef::npos)
    libraryPath = "./" + libraryPath;
  // dlopen would wait on a FIFO and map a device: only regular files.
  struct stat st;
  if (stat(libraryPath.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    return fail("cannot load compiled model '" + library +
                "': not a regular file");
  model->handle = dlopen(libraryPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!model->handle)
    return fail("cannot load compiled model '" + library + "': " + dlerror());
  void *handle = model->handle;
  auto lookup = [handle](llvm::StringRef symbol) {
    return dlsym(handle, symbol.str().c_str());
  };
  // A bundle: load the variant for this CPU instead (with its own weights).
  if (auto *text = static_cast<const char *>(lookup("qopt_model_meta"))) {
    llvm::Expected<llvm::json::Value> meta = llvm::json::parse(text);
    const llvm::json::Object *root = meta ? meta->getAsObject() : nullptr;
    if (const llvm::json::Array *variants =
            root ? root->getArray("variants") : nullptr) {
      if (!bundleAllowed)
        return fail("'" + library +
                    "' is a bundle, named as a variant of another bundle");
      std::string chosen;
      auto paths = selectVariant(*variants, library, chosen);
      if (!paths)
        return paths.takeError();
      auto variant =
          loadLibrary(paths->first, paths->second, /*bundleAllowed=*/false);
      if (!variant)
        return variant.takeError();
      (*variant)->variantTarget = chosen;
      return variant;
    }
    if (!meta)
      llvm::consumeError(meta.takeError()); // Reported by initialize.
  }
  if (llvm::Error error = model->initialize(lookup, library, weights))
    return std::move(error);
  return model;
}

llvm::Expected<std::unique_ptr<Model>>
Model::fromSymbols(std::function<void *(llvm::StringRef)> lookup,
                   llvm::StringRef name, llvm::StringRef weights) {
  std::unique_ptr<Model> model(new Model());
  if (llvm::Error error = model->initialize(std::move(lookup), name, weights))
    return std::move(error);
  return model;
}

llvm::Error Model::initialize(std::function<void *(llvm::StringRef)> lookup,
                              llvm::StringRef library,
                              llvm::StringRef weights) {
  Model *model = this;
  // Compiled code mallocs its intermediate buffers (logits, unpacked
  // weights: tens of MB) at every call. glibc would serve each from a fresh
  // mmap and fault in zeroed pages every time; keep them in the heap.
  static bool heapTuned = [] {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    return true;
  }();
  (void)heapTuned;
  // From the libomp a parallel model links (dlsym searches its needs).
  ompSetNumThreads =
      reinterpret_cast<void (*)(int)>(lookup("omp_set_num_threads"));
  auto *metaText = static_cast<const char *>(lookup("qopt_model_meta"));
  if (!metaText)
    return fail("'" + library +
                "' is not a quant-opt compiled model (no qopt_model_meta)");
  model->metadataText = metaText;
  llvm::Expected<llvm::json::Value> meta = llvm::json::parse(metaText);
  if (!meta)
    return fail("'" + library + "': corrupt model metadata: " +
                llvm::toString(meta.takeError()));
  const llvm::json::Object *root = meta->getAsObject();
  if (!root || root->getInteger("abi") != kRuntimeABIVersion)
    return fail("'" + library +
                "' was compiled for another runtime ABI "
                "(expected version " +
                llvm::Twine(kRuntimeABIVersion) + ")");

  const llvm::json::Array *entries = root->getArray("entries");
  for (const llvm::json::Value &v : entries ? *entries : llvm::json::Array()) {
    const llvm::json::Object *o = v.getAsObject();
    auto name = o ? o->getString("name") : std::nullopt;
    auto symbol = o ? o->getString("symbol") : std::nullopt;
    if (!name || !symbol)
      return fail("'" + library + "': malformed entry in model metadata");
    EntryPoint entry;
    entry.name = name->str();
    entry.weightsArgument = o->getBoolean("weights_argument").value_or(false);
    if (auto kvCache = o->getString("kv_cache")) {
      if (*kvCache != "in-place")
        return fail("'" + library + "': unknown KV cache kind '" + *kvCache +
                    "'");
      entry.kvCacheInPlace = true;
    }
    auto inputs = parseSpecs(o->getArray("inputs"), "inputs");
    if (!inputs)
      return inputs.takeError();
    auto outputs = parseSpecs(o->getArray("outputs"), "outputs");
    if (!outputs)
      return outputs.takeError();
    if (const llvm::json::Array *checks = o->getArray("checks"))
      for (const llvm::json::Value &c : *checks)
        entry.checks.push_back(c.getAsString().value_or("?").str());
    entry.context = o->getInteger("context").value_or(0);
    if (entry.context < 0)
      return fail("'" + library + "': negative context in model metadata");
    entry.inputs = std::move(*inputs);
    entry.outputs = std::move(*outputs);
    entry.function = reinterpret_cast<int32_t (*)(void **)>(lookup(*symbol));
    if (!entry.function)
      return fail("'" + library + "' has no symbol " + *symbol);
    model->entries.push_back(std::move(entry));
  }
  Dl_info info;
  if (!model->entries.empty() &&
      dladdr(reinterpret_cast<void *>(model->entries[0].function), &info))
    model->libraryBase = info.dli_fbase;

  if (const llvm::json::Object *w = root->getObject("weights")) {
    // Non-blocking: a FIFO must be refused, not waited on.
    int fd = open(weights.str().c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
      return fail("cannot open weight archive '" + weights +
                  "': " + strerror(errno));
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
      close(fd);
      return fail("weight archive '" + weights + "' is not a regular file");
    }
    size_t size = st.st_size;
    void *mapping =
        size ? mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    close(fd);
    if (mapping == MAP_FAILED)
      return fail("cannot map weight archive '" + weights + "'");
    model->weightsMapping = mapping;
    model->weightsMappingSize = size;
    WeightArchiveHeader header;
    if (size < sizeof(header))
      return fail("'" + weights + "' is too short to be a weight archive");
    memcpy(&header, mapping, sizeof(header));
    if (memcmp(header.magic, kWeightArchiveMagic, sizeof(header.magic)))
      return fail("'" + weights + "' is not a quant-opt weight archive");
    if (header.dataOffset != kWeightArchiveHeaderBytes ||
        header.dataBytes > size - header.dataOffset)
      return fail("weight archive '" + weights + "' is truncated");
    // The index follows the data and lies inside the file (tools read it).
    if (header.indexOffset < header.dataOffset + header.dataBytes ||
        header.indexOffset > size ||
        header.indexBytes > size - header.indexOffset)
      return fail("weight archive '" + weights +
                  "' has its index outside the file (offset " +
                  llvm::Twine(header.indexOffset) + ", " +
                  llvm::Twine(header.indexBytes) + " bytes, file " +
                  llvm::Twine(uint64_t(size)) + " bytes)");
    std::string fingerprint = llvm::utohexstr(header.fingerprint, true);
    if (static_cast<int64_t>(header.dataBytes) != w->getInteger("bytes") ||
        fingerprint != w->getString("fingerprint"))
      return fail("weight archive '" + weights + "' (fingerprint " +
                  fingerprint + ") does not belong to '" + library +
                  "' (built against " +
                  w->getString("fingerprint").value_or("?") + ")");
    model->weightsData = static_cast<char *>(mapping) + header.dataOffset;
    model->weightsSize = header.dataBytes;
    // Weights are read front to back by every forward pass.
    madvise(mapping, size, MADV_WILLNEED);
  }
  return llvm::Error::success();
}

Model::~Model() {
  if (weightsMapping)
    munmap(weightsMapping, weightsMappingSize);
  // The library stays loaded: outputs may still point at its constants.
}

bool Model::setThreads(int threads) const {
  if (!ompSetNumThreads || threads < 1)
    return false;
  ompSetNumThreads(threads);
  return true;
}

const EntryPoint *Model::lookup(llvm::StringRef name) const {
  for (const EntryPoint &e : entries)
    if (e.name == name)
      return &e;
  return nullptr;
}

namespace {
/// An MLIR ranked memref descriptor: {allocated, aligned, offset, sizes[r],
/// strides[r]}, every field 8 bytes.
struct Descriptor {
  std::vector<int64_t> words;
  Descriptor(void *data, llvm::ArrayRef<int64_t> shape) {
    size_t rank = shape.size();
    words.resize(3 + 2 * rank);
    words[0] = words[1] = reinterpret_cast<int64_t>(data);
    words[2] = 0;
    int64_t stride = 1;
    for (size_t i = rank; i-- > 0;) {
      words[3 + i] = shape[i];
      words[3 + rank + i] = stride;
      stride *= shape[i];
    }
  }
};
} // namespace

llvm::Expected<std::vector<Tensor>>
Model::run(const EntryPoint &entry, llvm::ArrayRef<Tensor> inputs) const {
  if (inputs.size() != entry.inputs.size())
    return fail("entry '" + entry.name + "' takes " +
                llvm::Twine(entry.inputs.size()) + " inputs, got " +
                llvm::Twine(inputs.size()));
  std::vector<Descriptor> descriptors;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorSpec &spec = entry.inputs[i];
    if (inputs[i].shape.size() != spec.shape.size())
      return fail("input '" + spec.name + "' has rank " +
                  llvm::Twine(inputs[i].shape.size()) + ", expected " +
                  llvm::Twine(spec.shape.size()));
    for (size_t d = 0; d < spec.shape.size(); ++d)
      if (inputs[i].shape[d] < 0 ||
          (spec.shape[d] >= 0 && spec.shape[d] != inputs[i].shape[d]))
        return fail("input '" + spec.name + "' dim " + llvm::Twine(d) + " is " +
                    llvm::Twine(inputs[i].shape[d]) + ", expected " +
                    llvm::Twine(spec.shape[d]));
    int64_t elements = 1, bytes = 0;
    for (int64_t d : inputs[i].shape)
      if (__builtin_mul_overflow(elements, d, &elements) ||
          __builtin_mul_overflow(elements, int64_t(spec.elementBytes), &bytes))
        return fail("input '" + spec.name +
                    "' is too large (its byte size "
                    "overflows)");
    if (elements && !inputs[i].data)
      return fail("input '" + spec.name + "' has no data");
    descriptors.emplace_back(inputs[i].data, inputs[i].shape);
  }
  if (entry.weightsArgument)
    descriptors.emplace_back(weightsData,
                             llvm::ArrayRef<int64_t>{(int64_t)weightsSize});

  // The results struct: the outputs' descriptors back to back.
  std::vector<size_t> resultOffsets;
  size_t resultWords = 0;
  for (const TensorSpec &spec : entry.outputs) {
    resultOffsets.push_back(resultWords);
    resultWords += 3 + 2 * spec.shape.size();
  }
  std::vector<int64_t> results(resultWords);
  std::vector<void *> args;
  if (!entry.outputs.empty())
    args.push_back(results.data());
  for (Descriptor &d : descriptors)
    args.push_back(d.words.data());
  if (int32_t status = entry.function(args.data())) {
    if (status > 0 && size_t(status) <= entry.checks.size())
      return fail("entry '" + entry.name +
                  "' refused its inputs: " + entry.checks[status - 1]);
    return fail("entry '" + entry.name + "' failed with status " +
                llvm::Twine(status));
  }

  // Outputs own malloc'ed buffers, except buffers that are inputs, weights or
  // constants in the library; several outputs may share one buffer.
  std::map<void *, std::shared_ptr<void>> owners;
  std::vector<Tensor> outputs;
  for (size_t i = 0; i < entry.outputs.size(); ++i) {
    const TensorSpec &spec = entry.outputs[i];
    const int64_t *w = results.data() + resultOffsets[i];
    size_t rank = spec.shape.size();
    auto *allocated = reinterpret_cast<void *>(w[0]);
    auto *aligned = reinterpret_cast<char *>(w[1]);
    std::vector<int64_t> shape(w + 3, w + 3 + rank);
    int64_t stride = 1;
    for (size_t d = rank; d-- > 0;) {
      if (shape[d] != 1 && w[3 + rank + d] != stride)
        return fail("output '" + spec.name + "' is not contiguous");
      stride *= shape[d];
    }
    std::shared_ptr<void> &owner = owners[allocated];
    bool foreign = (allocated >= static_cast<void *>(weightsData) &&
                    allocated < static_cast<void *>(weightsData + weightsSize));
    for (const Tensor &in : inputs)
      foreign |= allocated == in.data;
    Dl_info info;
    foreign |= dladdr(allocated, &info) && info.dli_fbase == libraryBase;
    if (!owner && !foreign && allocated)
      owner = std::shared_ptr<void>(allocated, free);
    outputs.emplace_back(std::move(shape), aligned + w[2] * spec.elementBytes,
                         owner);
  }
  return outputs;
}
