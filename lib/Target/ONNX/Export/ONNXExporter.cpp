//===- ONNXExporter.cpp - Quantized weights back into the ONNX graph ------===//
//
// The module says what to quantize and how (qopt.qmatmul: integer storage and
// a `!quant` type per linear layer, named by its ONNX node); the original
// ONNX graph says everything else. Exporting rewrites only the quantized
// nodes of the original graph, as ONNX Runtime's quantizers do, so the rest
// of the model stays byte-for-byte what the user shipped.
//
// Every format is exact: ONNX Runtime computes what our compiled model
// computes up to float summation order. What a format cannot express exactly
// (dynamic per-token activations, blocks MatMulNBits does not allow) is
// refused with a diagnostic naming the node.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Target/ONNX/ONNXExporter.h"

#include "quant-opt/Target/ONNX/ModelLoader.h"

#include "quant-opt/Dialect/QOpt/IR/QOptOps.h"
#include "quant-opt/Dialect/QOpt/Utils/ConstantData.h"
#include "quant-opt/Dialect/QOpt/Utils/ObservedOps.h"
#include "quant-opt/Dialect/QOpt/Utils/QuantParams.h"
#include "quant-opt/Support/FileSafety.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/ToolOutputFile.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <optional>

#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/onnx_pb.h>

using namespace mlir;
using namespace mlir::qopt;

namespace {

// ONNX TensorProto data types the exporter writes.
constexpr int32_t kFloat = 1, kUInt8 = 2, kInt8 = 3, kInt32 = 6, kUInt4 = 21,
                  kInt4 = 22;
// Blockwise DequantizeLinear and INT4/UINT4 DequantizeLinear need opset 21,
// which needs IR version 10.
constexpr int64_t kBlockwiseOpset = 21, kInt4IRVersion = 10;
constexpr StringLiteral kMicrosoftDomain = "com.microsoft";

//===----------------------------------------------------------------------===//
// The module side: qopt.qmatmul ops, unpacked
//===----------------------------------------------------------------------===//

/// One quantized linear layer: its weight [K, N] as storage values and the
/// parameters of each group of G rows in a column.
struct QuantLayer {
  Operation *op;
  std::string name;
  int64_t k = 0, n = 0;
  unsigned bits = 8;
  bool isSigned = true;
  bool perTensor = false, perChannel = false;
  int64_t groupSize = 0;             // Along K; K when not blockwise.
  std::vector<int16_t> values;       // [K, N].
  std::vector<AffineParams> params;  // [ceil(K / G), N], 1 per tensor.
  quant::UniformQuantizedType input; // Static activation, or null.
  bool dynamicInput = false;
  std::vector<float> smoothing;    // [K] factors of the input (SmoothQuant).
  std::vector<int32_t> groupIndex; // GPTQ's g_idx [K], or empty.
  /// A quantized embedding table (qopt.qgather on an ONNX Gather): K = D,
  /// N = V, the float table [V, D] is the weight transposed.
  bool isTable = false;
  Value storage; // The stored weight (shared by a tied LM head).

  int64_t groupOf(int64_t row) const {
    return groupIndex.empty() ? row / groupSize : groupIndex[row];
  }
  const AffineParams &at(int64_t row, int64_t col) const {
    return perTensor ? params[0] : params[groupOf(row) * n + col];
  }
  bool blockwise() const { return !perTensor && !perChannel; }
};

/// Reads the stored weight `storage` [K, N] of type `qtype`, in groups of
/// `groupSize` along K, into `l`.
LogicalResult readStoredWeight(QuantLayer &l, Value storage, Type qtype,
                               int64_t groupSize);

FailureOr<QuantLayer> readLayer(QMatmulOp op) {
  QuantLayer l;
  l.op = op;
  l.name = locationName(op.getLoc());
  if (l.name.empty())
    return emitError(op.getLoc(),
                     "qopt.qmatmul has no ONNX node name in its location "
                     "(was the module imported from ONNX?)");
  l.k = op.getInput().getType().getDimSize(1);
  l.n = op.getOutput().getType().getDimSize(1);
  if (failed(readStoredWeight(l, op.getWeight(), op.getWeightType(),
                              op.getGroupSize())))
    return failure();
  if (Value groupIndex = op.getGroupIndex()) {
    auto indexConstant = groupIndex.getDefiningOp<arith::ConstantOp>();
    ArrayRef<char> indexBytes =
        indexConstant
            ? denseConstantBytes(indexConstant.getValue(),
                                 cast<ShapedType>(groupIndex.getType()))
            : ArrayRef<char>();
    if ((int64_t)indexBytes.size() != l.k * 4)
      return emitError(op.getLoc())
             << "node '" << l.name
             << "': the group index is not a readable constant";
    l.groupIndex.resize(l.k);
    std::memcpy(l.groupIndex.data(), indexBytes.data(), l.k * 4);
    for (int32_t g : l.groupIndex)
      if (g < 0 || g >= groupCount(l.k, l.groupSize))
        return emitError(op.getLoc()) << "node '" << l.name << "': group index "
                                      << g << " is not a group";
  }

  if (auto input = op.getInputType()) {
    l.input = dyn_cast<quant::UniformQuantizedType>(*input);
    if (!l.input || l.input.getStorageTypeIntegralWidth() != 8)
      return emitError(op.getLoc())
             << "node '" << l.name
             << "': only per-tensor 8-bit static activations "
                "are exported, got "
             << *input;
  }
  l.dynamicInput = op.getDynamicInput();
  if (Attribute attr = op->getAttr("qopt.smoothing")) {
    auto factors = dyn_cast<DenseElementsAttr>(attr);
    if (!factors || !factors.getElementType().isF32() ||
        factors.getNumElements() != l.k)
      return emitError(op.getLoc())
             << "node '" << l.name << "': qopt.smoothing must hold " << l.k
             << " f32 factors, got " << attr;
    auto values = factors.getValues<float>();
    l.smoothing.assign(values.begin(), values.end());
  }
  return l;
}

LogicalResult readStoredWeight(QuantLayer &l, Value storage, Type qtype,
                               int64_t groupSize) {
  Location loc = l.op->getLoc();
  auto type = cast<quant::QuantizedType>(qtype);
  l.storage = storage;
  l.bits = type.getStorageTypeIntegralWidth();
  l.isSigned = type.isSigned();
  l.perTensor = isa<quant::UniformQuantizedType>(type);
  l.perChannel = isa<quant::UniformQuantizedPerAxisType>(type);
  l.groupSize = groupSize;
  if (l.groupSize <= 0)
    return emitError(loc) << "node '" << l.name << "': group size "
                          << l.groupSize << " is not positive";
  if (l.perTensor) {
    l.params.push_back(paramsOf(type, {0, 0}));
  } else {
    // The last group is shorter when G does not divide K.
    int64_t groups = groupCount(l.k, l.groupSize);
    l.params.reserve(groups * l.n);
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t c = 0; c < l.n; ++c)
        l.params.push_back(paramsOf(type, {g * l.groupSize, c}));
  }
  auto constant = storage.getDefiningOp<arith::ConstantOp>();
  if (!constant)
    return emitError(loc) << "node '" << l.name
                          << "': the packed weight is not a constant";
  auto storageType = cast<RankedTensorType>(storage.getType());
  int64_t rowBytes = storageType.getDimSize(1);
  ArrayRef<char> bytes = denseConstantBytes(constant.getValue(), storageType);
  std::vector<char> splat;
  if (bytes.empty()) {
    auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
    if (!dense || !dense.isSplat())
      return emitError(loc) << "node '" << l.name
                            << "': cannot read the packed weight constant";
    splat.assign(
        l.k * rowBytes,
        static_cast<char>(dense.getSplatValue<APInt>().getZExtValue() & 0xFF));
    bytes = splat;
  }
  l.values.resize(l.k * l.n);
  for (int64_t r = 0; r < l.k; ++r)
    for (int64_t c = 0; c < l.n; ++c) {
      auto byte =
          static_cast<uint8_t>(bytes[r * rowBytes + (l.bits == 8 ? c : c / 2)]);
      int v = l.bits == 8 ? byte : (c % 2 ? byte >> 4 : byte & 0xF);
      if (l.isSigned && v >= (1 << (l.bits - 1)))
        v -= 1 << l.bits;
      l.values[r * l.n + c] = static_cast<int16_t>(v);
    }
  return success();
}

/// A quantized embedding table: the weight of its ONNX Gather, transposed.
FailureOr<QuantLayer> readTable(QGatherOp op) {
  QuantLayer l;
  l.op = op;
  l.isTable = true;
  l.name = locationName(op.getLoc());
  if (l.name.empty())
    return emitError(op.getLoc(),
                     "qopt.qgather has no ONNX node name in its location "
                     "(was the module imported from ONNX?)");
  l.k = op.getRowWidth();
  l.n = op.getNumRows();
  if (failed(readStoredWeight(l, op.getTable(), op.getTableType(),
                              op.getGroupSize())))
    return failure();
  return l;
}

//===----------------------------------------------------------------------===//
// The ONNX side
//===----------------------------------------------------------------------===//

onnx::TensorProto makeTensor(StringRef name, int32_t type,
                             ArrayRef<int64_t> dims, std::string data) {
  onnx::TensorProto t;
  t.set_name(name.str());
  t.set_data_type(type);
  for (int64_t d : dims)
    t.add_dims(d);
  t.set_raw_data(std::move(data));
  return t;
}

std::string floatBytes(ArrayRef<float> values) {
  std::string s(values.size() * sizeof(float), '\0');
  std::memcpy(s.data(), values.data(), s.size());
  return s;
}

void setIntAttr(onnx::NodeProto &node, StringRef name, int64_t value) {
  for (onnx::AttributeProto &a : *node.mutable_attribute())
    if (a.name() == name) {
      a.set_type(onnx::AttributeProto::INT);
      a.set_i(value);
      return;
    }
  onnx::AttributeProto *a = node.add_attribute();
  a->set_name(name.str());
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

const onnx::AttributeProto *findAttr(const onnx::NodeProto &node,
                                     StringRef name) {
  for (const onnx::AttributeProto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t intAttr(const onnx::NodeProto &node, StringRef name, int64_t dflt) {
  const onnx::AttributeProto *a = findAttr(node, name);
  return a ? a->i() : dflt;
}

float floatAttr(const onnx::NodeProto &node, StringRef name, float dflt) {
  const onnx::AttributeProto *a = findAttr(node, name);
  return a ? a->f() : dflt;
}

bool isDefaultDomain(const std::string &domain) {
  return domain.empty() || domain == "ai.onnx";
}

void countSubgraphUses(const onnx::GraphProto &g, llvm::StringMap<int> &uses);

/// Adds every name `node` reads to `uses`, including what its subgraphs
/// read (recursively): outer-scope values they capture must not be removed.
void countNodeUses(const onnx::NodeProto &node, llvm::StringMap<int> &uses) {
  for (const std::string &in : node.input())
    if (!in.empty())
      ++uses[in];
  for (const onnx::AttributeProto &a : node.attribute()) {
    if (a.has_g())
      countSubgraphUses(a.g(), uses);
    for (const onnx::GraphProto &sub : a.graphs())
      countSubgraphUses(sub, uses);
  }
}

/// Adds every name a subgraph reads (its nodes' inputs and its outputs).
void countSubgraphUses(const onnx::GraphProto &g, llvm::StringMap<int> &uses) {
  for (const onnx::NodeProto &node : g.node())
    countNodeUses(node, uses);
  for (const onnx::ValueInfoProto &out : g.output())
    ++uses[out.name()];
}

/// Where a node's float weight comes from: an initializer or Constant node,
/// possibly through a Transpose (the tied LM head reads Transpose(wte)).
struct WeightSource {
  std::string tensorName;
  const onnx::TensorProto *tensor = nullptr;
  bool transposed = false;
  std::vector<int> viaNodes; // Transpose / Constant nodes on the way.
};

/// One diagnostic per refusal, in the importer's style: the file, the node,
/// its op type and opset.
class Exporter {
public:
  Exporter(ModuleOp module, StringRef path, const ONNXExportOptions &options)
      : module(module), path(path.str()), options(options),
        fileLoc(FileLineColLoc::get(module.getContext(), path, 0, 0)) {}

  LogicalResult run(StringRef outputPath, ONNXExportSummary &summary);

private:
  InFlightDiagnostic nodeError(const onnx::NodeProto &node, StringRef name) {
    InFlightDiagnostic d = emitError(fileLoc);
    d << "node '" << name << "' (" << node.op_type() << ", opset "
      << defaultOpset << "): ";
    return d;
  }

  LogicalResult collectLayers();
  void indexGraph();
  FailureOr<WeightSource> resolveWeight(const onnx::NodeProto &node,
                                        StringRef name, StringRef value);
  FailureOr<std::vector<float>> readFloats(const onnx::TensorProto &t,
                                           const onnx::NodeProto &node,
                                           StringRef name);
  LogicalResult checkLayer(const QuantLayer &l, int nodeIndex);
  LogicalResult rewriteQDQ(const QuantLayer &l, int nodeIndex);
  LogicalResult rewriteMatMulNBits(const QuantLayer &l, int nodeIndex);
  std::string addDequantizeLinear(const QuantLayer &l, int nodeIndex,
                                  const std::string &base);
  LogicalResult rewriteTable(const QuantLayer &l, int nodeIndex);
  void addSmoothingMul(const QuantLayer &l, int nodeIndex);
  void addActivationQDQ(const QuantLayer &l, int nodeIndex);
  LogicalResult upgradeOpset();
  void removeDeadWeights(ONNXExportSummary &summary);
  LogicalResult write(StringRef outputPath);

  std::string fresh(StringRef base) {
    std::string name = base.str();
    for (int i = 1; names.contains(name); ++i)
      name = (base + "_" + Twine(i)).str();
    names.insert(name);
    return name;
  }
  std::string addInitializer(onnx::TensorProto t) {
    std::string name = t.name();
    newInitializers.push_back(std::move(t));
    return name;
  }

  ModuleOp module;
  std::string path;
  ONNXExportOptions options;
  Location fileLoc;

  onnx_import::LoadedModel loaded;
  onnx::GraphProto *graph = nullptr;
  int64_t defaultOpset = 0;
  std::vector<QuantLayer> layers;
  llvm::StringMap<int> nodeByName; // -1 when the name is ambiguous.
  llvm::StringMap<int> producer;
  llvm::StringMap<int> initializerIndex;
  llvm::StringSet<> names;
  bool needsOpset21 = false;
  /// Stored weights already dequantized in the graph: node, output.
  DenseMap<Value, std::pair<int, std::string>> dequantized;

  // Rewrites, applied in one pass over the node list at the end.
  std::vector<std::vector<onnx::NodeProto>> before, after;
  std::vector<std::optional<onnx::NodeProto>> replacement;
  std::vector<onnx::TensorProto> newInitializers;
  std::vector<int> candidateNodes;
  std::vector<std::string> candidateInitializers;
};

LogicalResult Exporter::collectLayers() {
  llvm::StringMap<Operation *> seen;
  // Contractions per node name: a quantized node that also keeps a float
  // product (outlier decomposition) is more than its ONNX node can say.
  llvm::StringMap<int> contractions;
  WalkResult walk = module.walk([&](Operation *op) -> WalkResult {
    StringRef opName = op->getName().getStringRef();
    if (isa<QMatmulOp, linalg::MatmulOp, linalg::BatchMatmulOp>(op) ||
        opName == "qopt.fmatmul")
      ++contractions[locationName(op->getLoc())];
    if (opName == "qopt.fake_quant" || opName == "qopt.dynamic_fake_quant" ||
        opName == "qopt.fmatmul") {
      std::string node = locationName(op->getLoc());
      emitError(op->getLoc())
          << opName << " (node '" << node
          << "') cannot be exported: only qopt.qmatmul "
             "(integer weights from qopt-quantize) is written to "
             "ONNX; simulated quantization (fake=true, "
             "attention=true) and float weight formats are not";
      return WalkResult::interrupt();
    }
    FailureOr<QuantLayer> layer = failure();
    if (auto qmatmul = dyn_cast<QMatmulOp>(op))
      layer = readLayer(qmatmul);
    else if (auto gather = dyn_cast<QGatherOp>(op))
      layer = readTable(gather);
    else
      return WalkResult::advance();
    if (failed(layer))
      return WalkResult::interrupt();
    if (seen.count(layer->name)) {
      emitError(op->getLoc()) << "two quantized ops are named after ONNX node '"
                              << layer->name << "'";
      return WalkResult::interrupt();
    }
    seen[layer->name] = op;
    layers.push_back(std::move(*layer));

    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  // Tables last: a tied embedding reuses its LM head's DequantizeLinear.
  std::vector<QuantLayer> ordered;
  for (bool tables : {false, true})
    for (QuantLayer &l : layers)
      if (l.isTable == tables)
        ordered.push_back(std::move(l));
  layers = std::move(ordered);
  for (const QuantLayer &l : layers)
    if (contractions.lookup(l.name) > 1)
      return emitError(l.op->getLoc())
             << "node '" << l.name
             << "' is quantized only in part (a float matmul next to the "
                "quantized one, e.g. outlier-threshold), which one ONNX node "
                "cannot express";
  if (llvm::none_of(layers, [](const QuantLayer &l) { return !l.isTable; }))
    return emitError(module.getLoc())
           << "the module has no qopt.qmatmul: nothing to export (quantize it "
              "first, e.g. with qopt-ptq{recipe=w8}; fake=true keeps float "
              "weights)";
  return success();
}

void Exporter::indexGraph() {
  for (const onnx::OperatorSetIdProto &opset : loaded.model->opset_import())
    if (isDefaultDomain(opset.domain()))
      defaultOpset = opset.version();
  const auto &nodes = graph->node();
  for (int i = 0; i < nodes.size(); ++i) {
    const onnx::NodeProto &node = nodes[i];
    // The importer's name for unnamed nodes (GraphImporter::importNode).
    std::string name = node.name().empty()
                           ? node.op_type() + "_" + std::to_string(i)
                           : node.name();
    auto [it, inserted] = nodeByName.try_emplace(name, i);
    if (!inserted)
      it->second = -1;
    names.insert(node.name());
    for (const std::string &out : node.output()) {
      producer[out] = i;
      names.insert(out);
    }
  }
  for (int i = 0; i < graph->initializer_size(); ++i) {
    initializerIndex[graph->initializer(i).name()] = i;
    names.insert(graph->initializer(i).name());
  }
  for (const onnx::ValueInfoProto &v : graph->input())
    names.insert(v.name());
  for (const onnx::ValueInfoProto &v : graph->output())
    names.insert(v.name());
  before.resize(nodes.size());
  after.resize(nodes.size());
  replacement.resize(nodes.size());
}

FailureOr<WeightSource> Exporter::resolveWeight(const onnx::NodeProto &node,
                                                StringRef name,
                                                StringRef value) {
  WeightSource src;
  std::string current = value.str();
  // At most one Transpose on the way (what exporters emit for tied heads).
  for (int depth = 0; depth < 3; ++depth) {
    auto init = initializerIndex.find(current);
    if (init != initializerIndex.end()) {
      src.tensorName = current;
      src.tensor = &graph->initializer(init->second);
      return src;
    }
    auto prod = producer.find(current);
    if (prod == producer.end())
      break;
    const onnx::NodeProto &p = graph->node(prod->second);
    if (!isDefaultDomain(p.domain()))
      break;
    if (p.op_type() == "Constant") {
      const onnx::AttributeProto *v = findAttr(p, "value");
      if (!v || !v->has_t())
        break;
      src.tensorName = current;
      src.tensor = &v->t();
      src.viaNodes.push_back(prod->second);
      return src;
    }
    if (p.op_type() != "Transpose" || p.input_size() != 1 || src.transposed)
      break;
    if (const onnx::AttributeProto *perm = findAttr(p, "perm"))
      if (perm->ints_size() != 2 || perm->ints(0) != 1 || perm->ints(1) != 0)
        break;
    src.transposed = true;
    src.viaNodes.push_back(prod->second);
    current = p.input(0);
  }
  return nodeError(node, name)
         << "the weight '" << value
         << "' is not a constant initializer (nor a Constant or its "
            "Transpose)";
}

FailureOr<std::vector<float>> Exporter::readFloats(const onnx::TensorProto &t,
                                                   const onnx::NodeProto &node,
                                                   StringRef name) {
  if (t.data_type() != kFloat)
    return nodeError(node, name)
           << "the weight '" << t.name() << "' has ONNX data type "
           << t.data_type() << "; only float32 weights are exported";
  int64_t count = 1;
  for (int64_t d : t.dims())
    count *= d;
  std::vector<float> values(count);
  StringRef bytes;
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    auto it = loaded.externalData.find(t.name());
    if (it != loaded.externalData.end())
      bytes = it->second.bytes;
  } else if (t.has_raw_data()) {
    bytes = t.raw_data();
  } else if (t.float_data_size() == count) {
    std::copy(t.float_data().begin(), t.float_data().end(), values.begin());
    return values;
  }
  if (bytes.size() != static_cast<size_t>(count) * sizeof(float))
    return nodeError(node, name)
           << "cannot read the weight '" << t.name() << "' (" << bytes.size()
           << " bytes for " << count << " floats)";
  std::memcpy(values.data(), bytes.data(), bytes.size());
  return values;
}

/// Whether the quantized weight is a quantization of the node's float
/// weight: catches a module made from another model (or passes that
/// rewrote weights and other nodes together, which this export would lose).
LogicalResult Exporter::checkLayer(const QuantLayer &l, int nodeIndex) {
  const onnx::NodeProto &node = graph->node(nodeIndex);
  bool isGemm = node.op_type() == "Gemm";
  if (l.isTable &&
      (!isDefaultDomain(node.domain()) || node.op_type() != "Gather" ||
       intAttr(node, "axis", 0) != 0))
    return nodeError(node, l.name)
           << "expected a Gather on axis 0 for a quantized embedding table";
  if (!l.isTable && (!isDefaultDomain(node.domain()) ||
                     (node.op_type() != "MatMul" && !isGemm)))
    return nodeError(node, l.name)
           << "expected a MatMul or Gemm node for a quantized linear layer";
  if (node.input_size() < 2)
    return nodeError(node, l.name) << "has no weight input";
  // A table [V, D] is the stored [D, V] weight transposed.
  int weightInput = l.isTable ? 0 : 1;
  FailureOr<WeightSource> src =
      resolveWeight(node, l.name, node.input(weightInput));
  if (failed(src))
    return failure();
  bool transposed =
      l.isTable ? !src->transposed
                : src->transposed ^ (isGemm && intAttr(node, "transB", 0));
  const onnx::TensorProto &t = *src->tensor;
  int64_t rows = transposed ? l.n : l.k, cols = transposed ? l.k : l.n;
  if (t.dims_size() != 2 || t.dims(0) != rows || t.dims(1) != cols)
    return nodeError(node, l.name)
           << "the weight '" << t.name() << "' is not " << rows << "x" << cols
           << " as the quantized layer (K = " << l.k << ", N = " << l.n
           << (transposed ? ", stored transposed" : "") << ") needs";
  FailureOr<std::vector<float>> w = readFloats(t, node, l.name);
  if (failed(w))
    return failure();
  // Either every value rounds to its step (or saturates towards it), as
  // min/max and clipped quantization do however coarse, or the weight as a
  // whole is close (weights that a quantizer adjusted, GPTQ-style).
  // Unrelated weights fail both: their relative error is near 1.4.
  double err = 0, norm = 0;
  bool rounded = true;
  for (int64_t r = 0; r < l.k; ++r)
    for (int64_t c = 0; c < l.n; ++c) {
      float v = (*w)[transposed ? c * l.k + r : r * l.n + c];
      if (!l.smoothing.empty()) // The module's row r is the float row / f_r.
        v /= l.smoothing[r];
      int64_t qv = l.values[r * l.n + c];
      const AffineParams &p = l.at(r, c);
      float q = dequantizeValue(qv, p);
      err += double(v - q) * (v - q);
      norm += double(v) * v;
      rounded &= std::fabs(v - q) <= 0.5001 * p.scale + 1e-6 * std::fabs(v) ||
                 (qv == p.qmax && v > q) || (qv == p.qmin && v < q);
    }
  double rel = norm > 0 ? std::sqrt(err / norm) : std::sqrt(err);
  if (!rounded && !(rel <= 0.5))
    return nodeError(node, l.name)
           << llvm::formatv("the quantized weight does not match the float "
                            "weight '{0}' (relative error {1:f3}): was the "
                            "module quantized from this model?",
                            t.name(), rel);
  candidateNodes.insert(candidateNodes.end(), src->viaNodes.begin(),
                        src->viaNodes.end());
  candidateInitializers.push_back(src->tensorName);
  return success();
}

/// A DequantizeLinear of `l`'s stored weight [K, N] (new initializers named
/// after `base`), placed before node `nodeIndex`; returns its output.
std::string Exporter::addDequantizeLinear(const QuantLayer &l, int nodeIndex,
                                          const std::string &base) {
  if (l.bits == 4 || l.blockwise())
    needsOpset21 = true;
  // ONNX Runtime fuses u8 activations x s8 weights into kernels that
  // saturate 16-bit pair sums on x86 without VNNI; shifted to u8 (q + 128,
  // zero point + 128) the same weights dequantize identically and run on
  // its exact u8 x u8 kernels everywhere.
  bool shift =
      l.input && l.bits == 8 && l.isSigned && options.unsignedActivatedWeights;
  int64_t offset = shift ? 128 : 0;
  bool isSigned = l.isSigned && !shift;
  int32_t type =
      l.bits == 4 ? (isSigned ? kInt4 : kUInt4) : (isSigned ? kInt8 : kUInt8);
  // Storage values row-major [K, N]; 4-bit two per byte over the flattened
  // tensor, low nibble first, as ONNX packs INT4/UINT4.
  std::string data;
  if (l.bits == 8) {
    data.resize(l.values.size());
    for (size_t i = 0; i < l.values.size(); ++i)
      data[i] = static_cast<char>(l.values[i] + offset);
  } else {
    data.assign((l.values.size() + 1) / 2, '\0');
    for (size_t i = 0; i < l.values.size(); ++i) {
      auto nibble = static_cast<uint8_t>(l.values[i] & 0xF);
      data[i / 2] = static_cast<char>(static_cast<uint8_t>(data[i / 2]) |
                                      (i % 2 ? nibble << 4 : nibble));
    }
  }
  std::vector<float> scales;
  std::vector<int64_t> zps;
  SmallVector<int64_t> paramDims;
  for (const AffineParams &p : l.params) {
    scales.push_back(p.scale);
    zps.push_back(p.zeroPoint + offset);
  }
  if (l.perChannel)
    paramDims = {l.n};
  else if (l.blockwise())
    paramDims = {groupCount(l.k, l.groupSize), l.n}; // Ragged as ONNX's.
  std::string zpData;
  if (l.bits == 8) {
    for (int64_t z : zps)
      zpData.push_back(static_cast<char>(z));
  } else {
    zpData.assign((zps.size() + 1) / 2, '\0');
    for (size_t i = 0; i < zps.size(); ++i) {
      auto nibble = static_cast<uint8_t>(zps[i] & 0xF);
      zpData[i / 2] = static_cast<char>(static_cast<uint8_t>(zpData[i / 2]) |
                                        (i % 2 ? nibble << 4 : nibble));
    }
  }
  std::string q = addInitializer(
      makeTensor(fresh(base + "_quantized"), type, {l.k, l.n}, data));
  std::string s = addInitializer(makeTensor(fresh(base + "_scale"), kFloat,
                                            paramDims, floatBytes(scales)));
  std::string z = addInitializer(
      makeTensor(fresh(base + "_zero_point"), type, paramDims, zpData));

  onnx::NodeProto dq;
  dq.set_name(fresh(base + "_DequantizeLinear"));
  dq.set_op_type("DequantizeLinear");
  dq.add_input(q);
  dq.add_input(s);
  dq.add_input(z);
  std::string dqOut = fresh(base + "_DequantizeLinear_Output");
  dq.add_output(dqOut);
  if (l.perChannel)
    setIntAttr(dq, "axis", 1);
  if (l.blockwise()) {
    setIntAttr(dq, "axis", 0);
    setIntAttr(dq, "block_size", l.groupSize);
  }
  before[nodeIndex].push_back(std::move(dq));

  return dqOut;
}

/// Scales and zero points as ONNX tensors: scalars per tensor, [N] per
/// channel, [K/G, N] per block.
LogicalResult Exporter::rewriteQDQ(const QuantLayer &l, int nodeIndex) {
  const onnx::NodeProto &original = graph->node(nodeIndex);
  if (l.dynamicInput)
    return nodeError(original, l.name)
           << "dynamic per-token activation quantization (w8a8-dynamic) has "
              "no exact standard ONNX form (DynamicQuantizeLinear is per "
              "tensor); export a weight-only or w8a8-static module";
  if (!l.groupIndex.empty())
    return nodeError(original, l.name)
           << "a group index (GPTQ act-order without static groups) has no "
              "QDQ form (blockwise DequantizeLinear groups contiguous rows): "
              "use --format=matmulnbits, which takes it as g_idx";
  std::string dqOut = addDequantizeLinear(l, nodeIndex, original.input(1));
  dequantized[l.storage] = {nodeIndex, dqOut};
  onnx::NodeProto node = original;
  node.set_input(1, dqOut);
  if (node.op_type() == "Gemm" && intAttr(node, "transB", 0))
    setIntAttr(node, "transB", 0); // The DequantizeLinear output is [K, N].
  replacement[nodeIndex] = std::move(node);
  addSmoothingMul(l, nodeIndex);
  if (l.input)
    addActivationQDQ(l, nodeIndex);
  return success();
}

/// An embedding table: Gather(Transpose(DequantizeLinear(q)), ids). A tied
/// LM head exported as QDQ already dequantizes the same stored weight: its
/// DequantizeLinear moves before the Gather (the first reader) and serves
/// both, so the file stores the table once.
LogicalResult Exporter::rewriteTable(const QuantLayer &l, int nodeIndex) {
  const onnx::NodeProto &original = graph->node(nodeIndex);
  std::string dqOut;
  auto shared = dequantized.find(l.storage);
  if (shared != dequantized.end()) {
    int headIndex = shared->second.first;
    std::string output = shared->second.second;
    dqOut = output;
    if (headIndex > nodeIndex) {
      auto &nodes = before[headIndex];
      auto it = llvm::find_if(nodes, [&](const onnx::NodeProto &n) {
        return n.output_size() == 1 && n.output(0) == output;
      });
      if (it != nodes.end()) {
        before[nodeIndex].push_back(std::move(*it));
        nodes.erase(it);
      }
    }
  } else {
    dqOut = addDequantizeLinear(l, nodeIndex, original.input(0));
  }
  onnx::NodeProto transpose;
  transpose.set_name(fresh(original.input(0) + "_Transpose"));
  transpose.set_op_type("Transpose");
  transpose.add_input(dqOut);
  std::string table = fresh(original.input(0) + "_dequantized");
  transpose.add_output(table);
  onnx::AttributeProto *perm = transpose.add_attribute();
  perm->set_name("perm");
  perm->set_type(onnx::AttributeProto::INTS);
  perm->add_ints(1);
  perm->add_ints(0);
  before[nodeIndex].push_back(std::move(transpose));
  onnx::NodeProto node = original;
  node.set_input(0, table);
  replacement[nodeIndex] = std::move(node);
  return success();
}

/// A smoothed layer (qopt-smooth-activations) multiplies its input by the
/// per-channel factors first, as the module does inside the input's
/// producer.
void Exporter::addSmoothingMul(const QuantLayer &l, int nodeIndex) {
  if (l.smoothing.empty())
    return;
  onnx::NodeProto &node = *replacement[nodeIndex];
  std::string base = l.name + "/input";
  std::string factors =
      addInitializer(makeTensor(fresh(base + "_smoothing"), kFloat, {l.k},
                                floatBytes(ArrayRef<float>(l.smoothing))));
  onnx::NodeProto mul;
  mul.set_name(fresh(base + "_smoothing_Mul"));
  mul.set_op_type("Mul");
  mul.add_input(node.input(0));
  mul.add_input(factors);
  std::string out = fresh(base + "_smoothing_Mul_Output");
  mul.add_output(out);
  before[nodeIndex].push_back(std::move(mul));
  node.set_input(0, out);
}

/// QuantizeLinear -> DequantizeLinear on the node's activation with the
/// static per-tensor parameters; a Clip first when the range is narrower
/// than the ONNX type (symmetric [-127, 127]), since QuantizeLinear
/// saturates to the full type.
void Exporter::addActivationQDQ(const QuantLayer &l, int nodeIndex) {
  onnx::NodeProto &node = *replacement[nodeIndex];
  std::string x = node.input(0);
  bool isSigned = l.input.isSigned();
  int32_t type = isSigned ? kInt8 : kUInt8;
  float scale = static_cast<float>(l.input.getScale());
  int64_t zp = l.input.getZeroPoint();
  int64_t qmin = l.input.getStorageTypeMin(),
          qmax = l.input.getStorageTypeMax();
  std::string base = l.name + "/input";
  std::string s = addInitializer(makeTensor(
      fresh(base + "_scale"), kFloat, {}, floatBytes(ArrayRef<float>(scale))));
  std::string z = addInitializer(makeTensor(fresh(base + "_zero_point"), type,
                                            {}, std::string(1, char(zp))));
  if (qmin != (isSigned ? -128 : 0) || qmax != (isSigned ? 127 : 255)) {
    float lo = static_cast<float>(qmin - zp) * scale,
          hi = static_cast<float>(qmax - zp) * scale;
    std::string loName =
        addInitializer(makeTensor(fresh(base + "_clip_min"), kFloat, {},
                                  floatBytes(ArrayRef<float>(lo))));
    std::string hiName =
        addInitializer(makeTensor(fresh(base + "_clip_max"), kFloat, {},
                                  floatBytes(ArrayRef<float>(hi))));
    onnx::NodeProto clip;
    clip.set_name(fresh(base + "_Clip"));
    clip.set_op_type("Clip");
    clip.add_input(x);
    clip.add_input(loName);
    clip.add_input(hiName);
    x = fresh(base + "_Clip_Output");
    clip.add_output(x);
    before[nodeIndex].push_back(std::move(clip));
  }
  onnx::NodeProto quantize;
  quantize.set_name(fresh(base + "_QuantizeLinear"));
  quantize.set_op_type("QuantizeLinear");
  quantize.add_input(x);
  quantize.add_input(s);
  quantize.add_input(z);
  std::string qOut = fresh(base + "_QuantizeLinear_Output");
  quantize.add_output(qOut);
  onnx::NodeProto dequantize;
  dequantize.set_name(fresh(base + "_DequantizeLinear"));
  dequantize.set_op_type("DequantizeLinear");
  dequantize.add_input(qOut);
  dequantize.add_input(s);
  dequantize.add_input(z);
  std::string dqOut = fresh(base + "_DequantizeLinear_Output");
  dequantize.add_output(dqOut);
  before[nodeIndex].push_back(std::move(quantize));
  before[nodeIndex].push_back(std::move(dequantize));
  node.set_input(0, dqOut);
}

/// The largest power of two dividing `g`, capped at 128 (ONNX Runtime's
/// default block size): per-channel and larger groups repeat their scale in
/// every block, which is exact.
int64_t matMulNBitsBlock(int64_t g) {
  int64_t block = 1;
  while (block < 128 && g % (block * 2) == 0)
    block *= 2;
  return block;
}

LogicalResult Exporter::rewriteMatMulNBits(const QuantLayer &l, int nodeIndex) {
  const onnx::NodeProto &original = graph->node(nodeIndex);
  if (l.dynamicInput || l.input)
    return nodeError(original, l.name)
           << "MatMulNBits is weight-only; this layer also quantizes its "
              "activation ("
           << (l.dynamicInput ? "dynamic per token" : "static")
           << "): use --format=qdq"
           << (l.dynamicInput ? " with a w8a8-static module" : "");
  int64_t block = matMulNBitsBlock(l.groupSize);
  if (!l.groupIndex.empty() && block != l.groupSize)
    return nodeError(original, l.name)
           << "with a group index MatMulNBits' blocks must be the groups, but "
              "the group size "
           << l.groupSize << " is not a power of two >= 16";
  if (block < 16)
    return nodeError(original, l.name)
           << "MatMulNBits needs blocks of a power of two >= 16 along K, but "
           << (l.blockwise()
                   ? "the group size is " + std::to_string(l.groupSize)
                   : "K is " + std::to_string(l.k) + " (one scale per column)")
           << ", which has no such divisor; use --format=qdq";
  bool isGemm = original.op_type() == "Gemm";
  if (isGemm && (intAttr(original, "transA", 0) ||
                 floatAttr(original, "alpha", 1.0f) != 1.0f))
    return nodeError(original, l.name)
           << "Gemm with transA or alpha != 1 has no MatMulNBits form; use "
              "--format=qdq";
  bool hasBias = isGemm && original.input_size() > 2 &&
                 !original.input(2).empty() &&
                 floatAttr(original, "beta", 1.0f) != 0.0f;
  if (hasBias && floatAttr(original, "beta", 1.0f) != 1.0f)
    return nodeError(original, l.name)
           << "Gemm with beta != 1 has no MatMulNBits form; use --format=qdq";

  // Codes are unsigned: signed storage q is stored as q + 2^(bits-1), the
  // zero point moving with it (MatMulNBits' default zero point is that
  // offset, so symmetric weights need no zero points at all).
  int64_t offset = l.isSigned ? int64_t(1) << (l.bits - 1) : 0;
  // A K that is not a multiple of the block ends in a padded block, as
  // MatMulNBits defines it (its rows beyond K hold the zero point).
  int64_t blocks = groupCount(l.k, block), blob = block * l.bits / 8;
  std::string packed(l.n * blocks * blob, '\0');
  std::vector<float> scales(l.n * blocks);
  std::vector<int64_t> zps(l.n * blocks);
  bool defaultZeroPoints = true;
  for (int64_t c = 0; c < l.n; ++c)
    for (int64_t b = 0; b < blocks; ++b) {
      // Block b's scale; with a group index, group b's (= block b's).
      const AffineParams &p =
          l.groupIndex.empty() ? l.at(b * block, c) : l.params[b * l.n + c];
      scales[c * blocks + b] = p.scale;
      zps[c * blocks + b] = p.zeroPoint + offset;
      defaultZeroPoints &= p.zeroPoint + offset == int64_t(1) << (l.bits - 1);
      for (int64_t i = 0; i < block; ++i) {
        int64_t row = b * block + i;
        auto code =
            static_cast<uint8_t>(row < l.k ? l.values[row * l.n + c] + offset
                                           : p.zeroPoint + offset);
        char &byte = packed[(c * blocks + b) * blob + i * l.bits / 8];
        byte = static_cast<char>(
            static_cast<uint8_t>(byte) |
            (l.bits == 8 ? code : (i % 2 ? code << 4 : code & 0xF)));
      }
    }
  std::string base = original.input(1);
  onnx::NodeProto node;
  node.set_name(original.name());
  node.set_op_type("MatMulNBits");
  node.set_domain(kMicrosoftDomain.str());
  node.add_input(original.input(0));
  node.add_input(addInitializer(
      makeTensor(fresh(base + "_Q" + std::to_string(l.bits)), kUInt8,
                 {l.n, blocks, blob}, std::move(packed))));
  node.add_input(addInitializer(makeTensor(fresh(base + "_scales"), kFloat,
                                           {l.n, blocks}, floatBytes(scales))));
  if (!defaultZeroPoints) {
    int64_t zpBlob = (blocks * l.bits + 7) / 8;
    std::string zpData(l.n * zpBlob, '\0');
    for (int64_t c = 0; c < l.n; ++c)
      for (int64_t b = 0; b < blocks; ++b) {
        auto code = static_cast<uint8_t>(zps[c * blocks + b]);
        char &byte = zpData[c * zpBlob + b * l.bits / 8];
        byte = static_cast<char>(
            static_cast<uint8_t>(byte) |
            (l.bits == 8 ? code : (b % 2 ? code << 4 : code & 0xF)));
      }
    node.add_input(addInitializer(makeTensor(fresh(base + "_zero_points"),
                                             kUInt8, {l.n, zpBlob}, zpData)));
  }
  // A constant 1-D bias of N elements is MatMulNBits' own bias input;
  // anything else (other shapes, run-time values) is added afterwards.
  bool biasInput = false;
  if (hasBias) {
    auto it = initializerIndex.find(original.input(2));
    if (it != initializerIndex.end()) {
      const onnx::TensorProto &c = graph->initializer(it->second);
      biasInput =
          c.data_type() == kFloat && c.dims_size() == 1 && c.dims(0) == l.n;
    }
  }
  if (!l.groupIndex.empty()) {
    while (node.input_size() < 4)
      node.add_input("");
    std::string gidx(l.k * 4, '\0');
    std::memcpy(gidx.data(), l.groupIndex.data(), l.k * 4);
    node.add_input(addInitializer(
        makeTensor(fresh(base + "_g_idx"), kInt32, {l.k}, std::move(gidx))));
  }
  if (biasInput) {
    while (node.input_size() < 5)
      node.add_input("");
    node.add_input(original.input(2));
  }
  setIntAttr(node, "K", l.k);
  setIntAttr(node, "N", l.n);
  setIntAttr(node, "bits", l.bits);
  setIntAttr(node, "block_size", block);
  setIntAttr(node, "accuracy_level", options.accuracyLevel);
  if (hasBias && !biasInput) {
    std::string product = fresh(original.name() + "_MatMulNBits_Output");
    node.add_output(product);
    onnx::NodeProto add;
    add.set_name(fresh(original.name() + "_bias_Add"));
    add.set_op_type("Add");
    add.add_input(product);
    add.add_input(original.input(2));
    add.add_output(original.output(0));
    after[nodeIndex].push_back(std::move(add));
  } else {
    node.add_output(original.output(0));
  }
  replacement[nodeIndex] = std::move(node);
  addSmoothingMul(l, nodeIndex);
  return success();
}

/// Ops whose meaning changed between the model's opset and 21 for an
/// attribute the node uses: bumping the opset would silently break them.
std::optional<std::string> opsetHazard(const onnx::NodeProto &node,
                                       int64_t opset) {
  static const llvm::StringSet<> reduceAxes = {
      "ReduceMean",   "ReduceMax",       "ReduceMin",
      "ReduceProd",   "ReduceL1",        "ReduceL2",
      "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"};
  if (opset < 18 && reduceAxes.contains(node.op_type()) &&
      findAttr(node, "axes"))
    return std::string("its 'axes' attribute became an input at opset 18");
  if (opset < 18 && node.op_type() == "Split" &&
      (node.input_size() < 2 || node.input(1).empty()))
    return std::string(
        "without a 'split' input it needs 'num_outputs' from opset 18");
  if (opset < 20 && node.op_type() == "DFT" && findAttr(node, "axis"))
    return std::string("its 'axis' attribute became an input at opset 20");
  if (opset < 20 && node.op_type() == "GridSample")
    return std::string("its 'mode' values changed at opset 20");
  if (opset < 21 && node.op_type() == "GroupNormalization")
    return std::string("its scale and bias changed shape at opset 21");
  return std::nullopt;
}

LogicalResult Exporter::upgradeOpset() {
  if (!needsOpset21 || defaultOpset >= kBlockwiseOpset)
    return success();
  std::function<LogicalResult(const onnx::GraphProto &)> check =
      [&](const onnx::GraphProto &g) -> LogicalResult {
    for (int i = 0; i < g.node_size(); ++i) {
      const onnx::NodeProto &node = g.node(i);
      if (isDefaultDomain(node.domain()))
        if (std::optional<std::string> why = opsetHazard(node, defaultOpset))
          return emitError(fileLoc)
                 << "node '"
                 << (node.name().empty()
                         ? node.op_type() + "_" + std::to_string(i)
                         : node.name())
                 << "' (" << node.op_type() << ", opset " << defaultOpset
                 << "): 4-bit and blockwise "
                 << "DequantizeLinear need opset " << kBlockwiseOpset
                 << ", but this node cannot move there: " << *why
                 << "; use --format=matmulnbits (any opset) or export the "
                    "float model at a newer opset";
      for (const onnx::AttributeProto &a : node.attribute()) {
        if (a.has_g() && failed(check(a.g())))
          return failure();
        for (const onnx::GraphProto &sub : a.graphs())
          if (failed(check(sub)))
            return failure();
      }
    }
    return success();
  };
  if (failed(check(*graph)))
    return failure();
  for (onnx::OperatorSetIdProto &opset : *loaded.model->mutable_opset_import())
    if (isDefaultDomain(opset.domain()))
      opset.set_version(kBlockwiseOpset);
  if (loaded.model->ir_version() < kInt4IRVersion)
    loaded.model->set_ir_version(kInt4IRVersion);
  return success();
}

/// Applies the node rewrites and drops the float weights (and the
/// Transpose/Constant nodes feeding them) that nothing reads any more.
void Exporter::removeDeadWeights(ONNXExportSummary &summary) {
  auto *nodes = graph->mutable_node();
  std::vector<bool> removed(nodes->size(), false);
  // Uses after the rewrite, counted over every node that remains.
  auto countUses = [&]() {
    llvm::StringMap<int> uses;
    auto add = [&](const onnx::NodeProto &node) { countNodeUses(node, uses); };
    for (int i = 0; i < nodes->size(); ++i) {
      if (removed[i])
        continue;
      for (const onnx::NodeProto &n : before[i])
        add(n);
      add(replacement[i] ? *replacement[i] : (*nodes)[i]);
      for (const onnx::NodeProto &n : after[i])
        add(n);
    }
    for (const onnx::ValueInfoProto &out : graph->output())
      ++uses[out.name()];
    return uses;
  };
  llvm::StringMap<int> uses = countUses();
  // Transpose chains are short: repeat until nothing more dies.
  for (bool changed = true; changed;) {
    changed = false;
    for (int i : candidateNodes) {
      if (removed[i])
        continue;
      bool dead = llvm::all_of((*nodes)[i].output(), [&](const std::string &o) {
        return uses.lookup(o) == 0;
      });
      if (dead) {
        removed[i] = changed = true;
        uses = countUses();
      }
    }
  }
  google::protobuf::RepeatedPtrField<onnx::NodeProto> rebuilt;
  for (int i = 0; i < nodes->size(); ++i) {
    for (onnx::NodeProto &n : before[i])
      *rebuilt.Add() = std::move(n);
    if (!removed[i])
      *rebuilt.Add() =
          replacement[i] ? std::move(*replacement[i]) : std::move((*nodes)[i]);
    for (onnx::NodeProto &n : after[i])
      *rebuilt.Add() = std::move(n);
  }
  nodes->Swap(&rebuilt);

  llvm::StringSet<> dead;
  for (const std::string &name : candidateInitializers)
    if (uses.lookup(name) == 0)
      dead.insert(name);
  auto *inits = graph->mutable_initializer();
  google::protobuf::RepeatedPtrField<onnx::TensorProto> kept;
  for (onnx::TensorProto &t : *inits) {
    if (dead.contains(t.name())) {
      ++summary.removedInitializers;
      continue;
    }
    *kept.Add() = std::move(t);
  }
  for (onnx::TensorProto &t : newInitializers)
    *kept.Add() = std::move(t);
  inits->Swap(&kept);
  // Old IR versions list initializers as graph inputs too.
  auto *inputs = graph->mutable_input();
  for (int i = inputs->size() - 1; i >= 0; --i)
    if (dead.contains((*inputs)[i].name()))
      inputs->DeleteSubrange(i, 1);
  // value_info of values that no longer exist.
  llvm::StringSet<> live;
  for (const onnx::NodeProto &n : graph->node())
    for (const std::string &o : n.output())
      live.insert(o);
  auto *info = graph->mutable_value_info();
  for (int i = info->size() - 1; i >= 0; --i)
    if (!live.contains((*info)[i].name()))
      info->DeleteSubrange(i, 1);
}

/// Protobuf output through an llvm::raw_fd_ostream, so the file is never held
/// twice in memory.
class RawOstreamOutput : public google::protobuf::io::CopyingOutputStream {
public:
  explicit RawOstreamOutput(llvm::raw_fd_ostream &os) : os(os) {}
  bool Write(const void *buffer, int size) override {
    os.write(static_cast<const char *>(buffer), size);
    return !os.has_error();
  }

private:
  llvm::raw_fd_ostream &os;
};

LogicalResult Exporter::write(StringRef outputPath) {
  // Protobuf cannot serialize (or parse) messages of 2 GiB and more.
  size_t size = loaded.model->ByteSizeLong();
  if (size > static_cast<size_t>(INT32_MAX))
    return emitError(fileLoc)
           << "the exported model would be " << size
           << " bytes, over protobuf's 2 GiB limit (external data output is "
              "not supported)";
  // The original's external data is memory-mapped and copied into the
  // output: writing over one of those files (or the original) would
  // destroy the input while it is read.
  std::vector<NamedPath> inputs = {{"the original model", path}};
  for (const std::string &file : loaded.externalFiles)
    inputs.push_back({"the original's external data", file});
  if (llvm::Error error = checkOutputPaths({{"-o", outputPath.str()}}, inputs))
    return emitError(fileLoc) << llvm::toString(std::move(error));
  // Written under a temporary name and renamed once complete: a failure
  // leaves no partial model and keeps a file that was there.
  auto pending = PendingOutput::create(outputPath);
  if (!pending)
    return emitError(fileLoc) << llvm::toString(pending.takeError());
  std::string message;
  auto file = openOutputFile(pending->path(), &message);
  if (!file)
    return emitError(fileLoc)
           << "cannot write '" << outputPath << "': " << message;
  {
    RawOstreamOutput out(file->os());
    google::protobuf::io::CopyingOutputStreamAdaptor adaptor(&out);
    if (!loaded.model->SerializeToZeroCopyStream(&adaptor) ||
        !adaptor.Flush() || file->os().has_error())
      return emitError(fileLoc) << "cannot write '" << outputPath << "'";
  }
  file->os().flush();
  if (file->os().has_error())
    return emitError(fileLoc) << "cannot write '" << outputPath << "'";
  file->keep();
  file.reset();
  if (llvm::Error error = pending->commit())
    return emitError(fileLoc) << llvm::toString(std::move(error));
  return success();
}

LogicalResult Exporter::run(StringRef outputPath, ONNXExportSummary &summary) {
  if (failed(collectLayers()))
    return failure();
  std::string error;
  if (!onnx_import::loadModelFile(path, /*runChecker=*/false, loaded, error,
                                  /*inferShapes=*/false))
    return emitError(fileLoc) << error;
  graph = loaded.model->mutable_graph();
  indexGraph();
  summary.opsetBefore = defaultOpset;

  for (const QuantLayer &l : layers) {
    auto it = nodeByName.find(l.name);
    if (it == nodeByName.end())
      return emitError(l.op->getLoc())
             << "node '" << l.name << "' of the quantized module is not in '"
             << path << "': was the module imported from this model?";
    if (it->second < 0)
      return emitError(fileLoc)
             << "node name '" << l.name << "' is not unique in the model";
    if (replacement[it->second])
      return emitError(fileLoc) << "node '" << l.name << "' quantized twice";
    if (failed(checkLayer(l, it->second)))
      return failure();
    LogicalResult rewritten = l.isTable ? rewriteTable(l, it->second)
                              : options.format == ONNXExportFormat::QDQ
                                  ? rewriteQDQ(l, it->second)
                                  : rewriteMatMulNBits(l, it->second);
    if (failed(rewritten))
      return failure();
    ++summary.quantizedNodes;
  }
  if (failed(upgradeOpset()))
    return failure();
  if (options.format == ONNXExportFormat::MatMulNBits &&
      llvm::none_of(loaded.model->opset_import(),
                    [](const onnx::OperatorSetIdProto &o) {
                      return o.domain() == kMicrosoftDomain;
                    })) {
    onnx::OperatorSetIdProto *ms = loaded.model->add_opset_import();
    ms->set_domain(kMicrosoftDomain.str());
    ms->set_version(1);
  }
  summary.opsetAfter = defaultOpset;
  for (const onnx::OperatorSetIdProto &opset : loaded.model->opset_import())
    if (isDefaultDomain(opset.domain()))
      summary.opsetAfter = opset.version();

  removeDeadWeights(summary);
  // Weights kept from external files are written inline.
  for (onnx::TensorProto &t : *graph->mutable_initializer())
    if (t.data_location() == onnx::TensorProto::EXTERNAL) {
      auto it = loaded.externalData.find(t.name());
      if (it == loaded.externalData.end())
        continue;
      t.set_raw_data(it->second.bytes.str());
      t.clear_external_data();
      t.set_data_location(onnx::TensorProto::DEFAULT);
    }
  if (!loaded.externalData.empty())
    summary.notes.push_back("external data of the original model is written "
                            "inline");
  return write(outputPath);
}

} // namespace

LogicalResult mlir::qopt::exportQuantizedONNX(ModuleOp module,
                                              StringRef originalPath,
                                              StringRef outputPath,
                                              const ONNXExportOptions &options,
                                              ONNXExportSummary *summary) {
  ONNXExportSummary local;
  Exporter exporter(module, originalPath, options);
  return exporter.run(outputPath, summary ? *summary : local);
}
