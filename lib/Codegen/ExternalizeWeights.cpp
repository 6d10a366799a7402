//===- ExternalizeWeights.cpp - Large constants into a weight archive -----===//

#include "quant-opt-runtime/WeightArchive.h"
#include "quant-opt/Codegen/Passes.h"
#include "quant-opt/Dialect/QOpt/Utils/ConstantData.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/xxhash.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTEXTERNALIZEWEIGHTSPASS
#include "quant-opt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {
/// The bytes of a constant global in the layout a memref of its type has in
/// memory (splats are expanded into `storage`), or failure if the initializer
/// has no such byte image here.
FailureOr<ArrayRef<char>> globalBytes(memref::GlobalOp global,
                                      std::vector<char> &storage) {
  MemRefType type = global.getType();
  Attribute init = *global.getInitialValue();
  ArrayRef<char> bytes = qopt::denseConstantBytes(init, type);
  if (!bytes.empty())
    return bytes;
  auto splat = dyn_cast<SplatElementsAttr>(init);
  if (!splat || !qopt::wholeByteWidth(type.getElementType()))
    return failure();
  ArrayRef<char> element = splat.getRawData();
  storage.reserve(type.getNumElements() * element.size());
  for (int64_t i = 0, e = type.getNumElements(); i < e; ++i)
    storage.insert(storage.end(), element.begin(), element.end());
  return ArrayRef<char>(storage);
}

struct Entry {
  memref::GlobalOp global;
  uint64_t offset;
  ArrayRef<char> bytes;
  std::unique_ptr<std::vector<char>> storage; // Expanded splats only.
  uint64_t hash;
  bool stored; // False: the same bytes are stored for an earlier entry.
};

struct QOptExternalizeWeightsPass
    : qopt::impl::QOptExternalizeWeightsPassBase<QOptExternalizeWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (archivePath.empty()) {
      module.emitError("qopt-externalize-weights needs archive=<path>");
      return signalPassFailure();
    }
    // Pick the globals and lay out the data region.
    // Globals with the same bytes share one copy: entry points that were
    // copied from one another (qopt-last-position-logits) repack the same
    // weights into distinct but equal globals.
    std::vector<Entry> entries;
    llvm::DenseMap<std::pair<uint64_t, size_t>, size_t> firstWithContents;
    uint64_t dataBytes = 0;
    for (auto global : module.getOps<memref::GlobalOp>()) {
      if (!global.getConstant() || !global.getInitialValue() ||
          global.isExternal())
        continue;
      auto storage = std::make_unique<std::vector<char>>();
      FailureOr<ArrayRef<char>> bytes = globalBytes(global, *storage);
      if (failed(bytes) || static_cast<int64_t>(bytes->size()) < minBytes)
        continue;
      uint64_t hash = llvm::xxh3_64bits(ArrayRef<uint8_t>(
          reinterpret_cast<const uint8_t *>(bytes->data()), bytes->size()));
      auto [it, fresh] =
          firstWithContents.try_emplace({hash, bytes->size()}, entries.size());
      if (!fresh && entries[it->second].bytes == *bytes) {
        const Entry &same = entries[it->second];
        entries.push_back({global, same.offset, *bytes, std::move(storage),
                           hash, /*stored=*/false});
        continue;
      }
      uint64_t offset =
          llvm::alignTo(dataBytes, quantopt::rt::kWeightArchiveAlignment);
      dataBytes = offset + bytes->size();
      entries.push_back(
          {global, offset, *bytes, std::move(storage), hash, /*stored=*/true});
    }
    dataBytes = llvm::alignTo(dataBytes, quantopt::rt::kWeightArchiveAlignment);
    if (failed(writeArchive(module, entries, dataBytes)))
      return signalPassFailure();

    // Every public function takes the data region as its last argument.
    MLIRContext *ctx = &getContext();
    Type archiveType =
        MemRefType::get({ShapedType::kDynamic}, IntegerType::get(ctx, 8));
    llvm::DenseMap<Operation *, Value> archiveArg;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isPrivate() || func.isExternal())
        continue;
      unsigned index = func.getNumArguments();
      if (failed(func.insertArgument(index, archiveType,
                                     DictionaryAttr::get(ctx), func.getLoc())))
        return signalPassFailure();
      archiveArg[func] = func.getArgument(index);
    }

    llvm::DenseMap<StringAttr, const Entry *> bySymbol;
    for (Entry &e : entries)
      bySymbol[e.global.getSymNameAttr()] = &e;
    WalkResult walk = module.walk([&](memref::GetGlobalOp get) {
      auto it = bySymbol.find(get.getNameAttr().getAttr());
      if (it == bySymbol.end())
        return WalkResult::advance();
      auto func = get->getParentOfType<func::FuncOp>();
      Value archive = func ? archiveArg.lookup(func) : Value();
      if (!archive) {
        get.emitError("weight '")
            << get.getName()
            << "' is used outside a public function; only entry points "
               "receive the weight archive";
        return WalkResult::interrupt();
      }
      OpBuilder b(get);
      Value offset =
          arith::ConstantIndexOp::create(b, get.getLoc(), it->second->offset);
      Value view = memref::ViewOp::create(b, get.getLoc(), get.getType(),
                                          archive, offset, ValueRange{});
      get.replaceAllUsesWith(view);
      get.erase();
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();
    for (Entry &e : entries)
      e.global.erase();
  }

  LogicalResult writeArchive(ModuleOp module, MutableArrayRef<Entry> entries,
                             uint64_t dataBytes) {
    std::error_code error;
    llvm::ToolOutputFile file(archivePath, error, llvm::sys::fs::OF_None);
    if (error)
      return module.emitError("cannot write weight archive '")
             << archivePath << "': " << error.message();
    // Tensors are streamed from their blobs, never copied into one buffer;
    // the fingerprint hashes each tensor's offset and contents.
    llvm::json::Array index;
    std::vector<uint64_t> hashes;
    for (Entry &e : entries) {
      hashes.push_back(e.offset);
      hashes.push_back(e.hash);
      std::string type;
      llvm::raw_string_ostream(type) << e.global.getType();
      index.push_back(
          llvm::json::Object{{"name", e.global.getSymName()},
                             {"offset", static_cast<int64_t>(e.offset)},
                             {"bytes", static_cast<int64_t>(e.bytes.size())},
                             {"type", type}});
    }
    hashes.push_back(dataBytes);
    std::string indexText;
    llvm::raw_string_ostream(indexText) << llvm::json::Value(std::move(index));

    quantopt::rt::WeightArchiveHeader header{};
    std::copy(std::begin(quantopt::rt::kWeightArchiveMagic),
              std::end(quantopt::rt::kWeightArchiveMagic), header.magic);
    header.dataOffset = quantopt::rt::kWeightArchiveHeaderBytes;
    header.dataBytes = dataBytes;
    header.fingerprint = llvm::xxh3_64bits(
        ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(hashes.data()),
                          hashes.size() * sizeof(uint64_t)));
    header.indexOffset = header.dataOffset + dataBytes;
    header.indexBytes = indexText.size();
    header.tensorCount = entries.size();
    llvm::raw_fd_ostream &os = file.os();
    os.write(reinterpret_cast<const char *>(&header), sizeof(header));
    uint64_t written = 0;
    for (const Entry &e : entries) {
      if (!e.stored)
        continue;
      os.write_zeros(e.offset - written);
      os.write(e.bytes.data(), e.bytes.size());
      written = e.offset + e.bytes.size();
    }
    os.write_zeros(dataBytes - written);
    os << indexText;
    os.flush();
    if (os.has_error())
      return module.emitError("cannot write weight archive '")
             << archivePath << "': " << os.error().message();
    file.keep();

    Builder b(module.getContext());
    module->setAttr(
        "qopt.weights",
        b.getDictionaryAttr(
            {b.getNamedAttr("bytes", b.getI64IntegerAttr(dataBytes)),
             b.getNamedAttr("fingerprint",
                            b.getStringAttr(llvm::utohexstr(
                                header.fingerprint, /*LowerCase=*/true))),
             b.getNamedAttr("tensors", b.getI64IntegerAttr(entries.size()))}));
    return success();
  }
};
} // namespace
