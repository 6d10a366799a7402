//===- GraphImporter.cpp - Import one ONNX graph as a function ------------===//

#include "GraphImporter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringSet.h"

#include <onnx/onnx_pb.h>

using namespace mlir;
using namespace mlir::qopt::onnx_import;

namespace {
/// Default-domain opsets this importer implements.
constexpr int64_t kMinOpset = 13, kMaxOpset = 21;

bool isDefaultDomain(StringRef domain) {
  return domain.empty() || domain == "ai.onnx";
}
} // namespace

GraphImporter::GraphImporter(LoadedModel &model, MLIRContext *context,
                             const ONNXImportOptions &options,
                             StringRef modelPath)
    : model(model), context(context), options(options),
      modelPath(modelPath.str()), builder(context) {}

Location GraphImporter::fileLoc() {
  return FileLineColLoc::get(context, modelPath, 0, 0);
}

ImportedValue *GraphImporter::lookup(StringRef name) {
  auto it = values.find(name);
  return it == values.end() ? nullptr : &it->second;
}

Value GraphImporter::materialize(ImportedValue &value) {
  if (!value.value && value.folded)
    value.value =
        materializeFolded(builder, builder.getUnknownLoc(), *value.folded);
  return value.value;
}

LogicalResult GraphImporter::importInitializers() {
  onnx::GraphProto &graph = *model.model->mutable_graph();
  for (onnx::TensorProto &tensor : *graph.mutable_initializer()) {
    auto ext = model.externalData.find(tensor.name());
    std::string error;
    int32_t dtype = tensor.data_type();
    FailureOr<ElementsAttr> attr = convertTensor(
        tensor, ext == model.externalData.end() ? nullptr : &ext->second,
        options.maxInlineConstantBytes, context, error);
    if (failed(attr))
      return emitError(fileLoc()) << "initializer: " << error;
    constants[tensor.name()] = *attr;
    ImportedValue &v = values[tensor.name()];
    v.onnxType = dtype;
    v.folded = foldConstant(*attr, dtype);
  }
  return success();
}

LogicalResult GraphImporter::importInputs(SmallVectorImpl<Type> &types,
                                          SmallVectorImpl<std::string> &names) {
  const onnx::GraphProto &graph = model.model->graph();
  llvm::StringSet<> seen;
  for (const onnx::ValueInfoProto &input : graph.input()) {
    if (constants.count(input.name()))
      continue; // initializers listed as inputs (IR version < 4) stay constant
    if (!input.type().has_tensor_type())
      return emitError(fileLoc())
             << "graph input '" << input.name() << "' is not a tensor";
    const onnx::TypeProto::Tensor &tt = input.type().tensor_type();
    Type elementType = convertElementType(tt.elem_type(), context);
    if (!elementType)
      return emitError(fileLoc())
             << "graph input '" << input.name() << "' has unsupported "
             << dataTypeName(tt.elem_type());
    SmallVector<int64_t> shape;
    if (!tt.has_shape())
      return emitError(fileLoc())
             << "graph input '" << input.name() << "' has no shape (rank)";
    for (const auto &dim : tt.shape().dim()) {
      if (dim.has_dim_value() && dim.dim_value() < 0)
        return emitError(fileLoc())
               << "graph input '" << input.name() << "' declares dim "
               << shape.size() << " as " << dim.dim_value();
      shape.push_back(dim.has_dim_value() ? dim.dim_value()
                                          : ShapedType::kDynamic);
    }
    auto fixed = options.inputShapes.find(input.name());
    if (fixed != options.inputShapes.end()) {
      seen.insert(input.name());
      if (fixed->second.size() != shape.size())
        return emitError(fileLoc())
               << "--input-shape gives " << fixed->second.size()
               << " dims for '" << input.name() << "', which has rank "
               << shape.size();
      for (auto [declared, given] : llvm::zip(shape, fixed->second)) {
        if (!ShapedType::isDynamic(declared) && declared != given)
          return emitError(fileLoc())
                 << "--input-shape gives " << given << " for a dim of '"
                 << input.name() << "' that the model fixes to " << declared;
        declared = given;
      }
    }
    std::string tooLarge =
        checkShapeLimits(shape, elementType.getIntOrFloatBitWidth());
    if (!tooLarge.empty())
      return emitError(fileLoc())
             << "graph input '" << input.name() << "' of " << tooLarge;
    types.push_back(RankedTensorType::get(shape, elementType));
    names.push_back(input.name());
    values[input.name()].onnxType = tt.elem_type();
  }
  for (const auto &entry : options.inputShapes)
    if (!seen.count(entry.getKey()))
      return emitError(fileLoc()) << "--input-shape names '" << entry.getKey()
                                  << "', which is not a graph input";
  return success();
}

LogicalResult GraphImporter::importNode(const onnx::NodeProto &node,
                                        unsigned index) {
  std::string name = node.name().empty()
                         ? node.op_type() + "_" + std::to_string(index)
                         : node.name();
  Location loc = NameLoc::get(StringAttr::get(context, name), fileLoc());
  NodeContext ctx(*this, node, loc);
  for (const std::string &input : node.input())
    if (!input.empty() && !lookup(input))
      return ctx.error("input '" + input +
                       "' is not defined by any graph input, initializer or "
                       "earlier node");
  ImportRule rule = getRuleRegistry().lookup(node.domain(), node.op_type());
  if (!rule)
    return ctx.error("unsupported operator");
  if (failed(rule(ctx)))
    return failure();
  for (int i = 0; i < node.output_size(); ++i) {
    if (node.output(i).empty())
      continue;
    ImportedValue *v = lookup(node.output(i));
    if (!v)
      return ctx.error("importer did not define output " + std::to_string(i));
    // Shapes computed from the graph (Expand, ConstantOfShape, Reshape,
    // broadcasting, ...) stay within the limits every later size computation
    // relies on.
    SmallVector<int64_t> shape;
    Type elementType;
    if (v->value) {
      auto type = cast<RankedTensorType>(v->value.getType());
      shape = llvm::to_vector(type.getShape());
      elementType = type.getElementType();
    } else if (v->folded) {
      shape = v->folded->shape;
      elementType = convertElementType(v->folded->onnxType, context);
    } else if (ElementsAttr attr = constants.lookup(node.output(i))) {
      shape = llvm::to_vector(attr.getShapedType().getShape());
      elementType = attr.getShapedType().getElementType();
    }
    unsigned bits = elementType && elementType.isIntOrFloat()
                        ? elementType.getIntOrFloatBitWidth()
                        : 64;
    std::string tooLarge = checkShapeLimits(shape, bits);
    if (!tooLarge.empty())
      return ctx.error("output '" + node.output(i) + "' of " + tooLarge);
  }
  return success();
}

OwningOpRef<ModuleOp> GraphImporter::run() {
  for (const onnx::OperatorSetIdProto &opset : model.model->opset_import())
    opsets[isDefaultDomain(opset.domain()) ? "" : opset.domain()] =
        opset.version();
  auto defaultOpset = opsets.find("");
  if (defaultOpset == opsets.end() || defaultOpset->second < kMinOpset ||
      defaultOpset->second > kMaxOpset) {
    emitError(fileLoc()) << "default-domain opset "
                         << (defaultOpset == opsets.end()
                                 ? std::string("(none)")
                                 : std::to_string(defaultOpset->second))
                         << " is not supported; quant-opt imports opsets "
                         << kMinOpset << " to " << kMaxOpset;
    return nullptr;
  }

  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc());
  if (failed(importInitializers()))
    return nullptr;
  SmallVector<Type> inputTypes;
  SmallVector<std::string> inputNames;
  if (failed(importInputs(inputTypes, inputNames)))
    return nullptr;

  builder.setInsertionPointToEnd(module->getBody());
  auto func = func::FuncOp::create(builder, fileLoc(), options.functionName,
                                   builder.getFunctionType(inputTypes, {}));
  Block *entry = func.addEntryBlock();
  for (auto [i, name] : llvm::enumerate(inputNames)) {
    values[name].value = entry->getArgument(i);
    func.setArgAttr(i, "onnx.name", builder.getStringAttr(name));
  }
  builder.setInsertionPointToEnd(entry);

  const onnx::GraphProto &graph = model.model->graph();
  for (int i = 0; i < graph.node_size(); ++i)
    if (failed(importNode(graph.node(i), i)))
      return nullptr;

  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  for (const onnx::ValueInfoProto &output : graph.output()) {
    ImportedValue *v = lookup(output.name());
    if (!v) {
      emitError(fileLoc()) << "graph output '" << output.name()
                           << "' is not produced by any node";
      return nullptr;
    }
    if (!v->value && !v->folded) {
      auto it = constants.find(output.name());
      if (it != constants.end())
        v->value = materializeConstant(builder, fileLoc(), it->second);
    }
    results.push_back(materialize(*v));
    resultTypes.push_back(results.back().getType());
  }
  func::ReturnOp::create(builder, fileLoc(), results);
  func.setFunctionType(builder.getFunctionType(inputTypes, resultTypes));
  for (auto [i, output] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, "onnx.name", builder.getStringAttr(output.name()));
  if (failed(verify(*module)))
    return nullptr;
  return module;
}

//===----------------------------------------------------------------------===//
// NodeContext
//===----------------------------------------------------------------------===//

OpBuilder &NodeContext::builder() { return importer.builder; }
MLIRContext *NodeContext::getContext() { return importer.context; }
StringRef NodeContext::opType() const { return node.op_type(); }

int64_t NodeContext::opset() const {
  StringRef domain = node.domain();
  auto it = importer.opsets.find(isDefaultDomain(domain) ? "" : domain);
  return it == importer.opsets.end() ? 1 : it->second;
}

int64_t NodeContext::maxInlineConstantBytes() const {
  return importer.options.maxInlineConstantBytes;
}

StringRef NodeContext::name() const {
  return cast<NameLoc>(loc).getName().getValue();
}

unsigned NodeContext::numInputs() const { return node.input_size(); }
bool NodeContext::hasInput(unsigned i) const {
  return i < static_cast<unsigned>(node.input_size()) && !node.input(i).empty();
}

Value NodeContext::input(unsigned i) {
  assert(hasInput(i) && "absent input");
  ImportedValue *v = importer.lookup(node.input(i));
  if (!v->value && !v->folded) {
    ElementsAttr attr = importer.constants.lookup(node.input(i));
    v->value = materializeConstant(importer.builder, loc, attr);
  }
  return importer.materialize(*v);
}

RankedTensorType NodeContext::inputType(unsigned i) {
  return cast<RankedTensorType>(input(i).getType());
}

int32_t NodeContext::inputONNXType(unsigned i) const {
  return importer.lookup(node.input(i))->onnxType;
}

const FoldedTensor *NodeContext::folded(unsigned i) {
  if (!hasInput(i))
    return nullptr;
  ImportedValue *v = importer.lookup(node.input(i));
  return v->folded ? &*v->folded : nullptr;
}

ElementsAttr NodeContext::constant(unsigned i) {
  if (!hasInput(i))
    return {};
  if (ElementsAttr attr = importer.constants.lookup(node.input(i)))
    return attr;
  const FoldedTensor *f = folded(i);
  if (!f || !f->isFullyKnown())
    return {};
  Value v = input(i);
  if (auto cst = v.getDefiningOp<arith::ConstantOp>())
    return cast<ElementsAttr>(cst.getValue());
  return {};
}

const onnx::AttributeProto *NodeContext::attr(StringRef name) const {
  for (const onnx::AttributeProto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t NodeContext::attrInt(StringRef name, int64_t dflt) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->i() : dflt;
}

float NodeContext::attrFloat(StringRef name, float dflt) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->f() : dflt;
}

std::string NodeContext::attrString(StringRef name, StringRef dflt) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->s() : dflt.str();
}

std::optional<SmallVector<int64_t>>
NodeContext::attrInts(StringRef name) const {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return std::nullopt;
  return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
}

unsigned NodeContext::numOutputs() const { return node.output_size(); }
bool NodeContext::hasOutput(unsigned i) const {
  return i < static_cast<unsigned>(node.output_size()) &&
         !node.output(i).empty();
}

void NodeContext::setOutput(unsigned i, Value value, int32_t onnxType) {
  if (!hasOutput(i))
    return;
  ImportedValue &v = importer.values[node.output(i)];
  v.value = value;
  v.onnxType = onnxType;
  v.folded.reset();
}

void NodeContext::setFolded(unsigned i, FoldedTensor folded) {
  if (!hasOutput(i))
    return;
  ImportedValue &v = importer.values[node.output(i)];
  v.value = {};
  v.onnxType = folded.onnxType;
  v.folded = std::move(folded);
}

void NodeContext::setConstant(unsigned i, ElementsAttr attr, int32_t onnxType) {
  if (!hasOutput(i))
    return;
  importer.constants[node.output(i)] = attr;
  ImportedValue &v = importer.values[node.output(i)];
  v.value = {};
  v.onnxType = onnxType;
  v.folded = foldConstant(attr, onnxType);
}

LogicalResult NodeContext::error(const Twine &message) {
  // Report at the file (the op location carries the node name, which the
  // message repeats, so the diagnostic reads "model.onnx:0:0: error: ...").
  StringRef name = cast<NameLoc>(loc).getName().getValue();
  std::string domain = node.domain().empty() ? "" : node.domain() + ".";
  return emitError(importer.fileLoc())
         << "node '" << name << "' (" << domain << node.op_type() << ", opset "
         << opset() << "): " << message;
}

FailureOr<SmallVector<int64_t>> NodeContext::constantInts(unsigned i,
                                                          StringRef what) {
  const FoldedTensor *f = folded(i);
  if (!f || f->isFloat())
    return error(what + " must be a constant integer tensor");
  std::optional<SmallVector<int64_t>> ints = f->getInts();
  if (!ints)
    return error(what + " must be known at compile time");
  return *ints;
}

//===----------------------------------------------------------------------===//
// RuleRegistry
//===----------------------------------------------------------------------===//

ImportRule RuleRegistry::lookup(StringRef domain, StringRef opType) const {
  std::string key =
      ((isDefaultDomain(domain) ? StringRef() : domain) + ":" + opType).str();
  return rules.lookup(key);
}

std::vector<std::string> RuleRegistry::names() const {
  std::vector<std::string> out;
  for (const auto &entry : rules)
    out.push_back(entry.getKey().str());
  llvm::sort(out);
  return out;
}

const RuleRegistry &mlir::qopt::onnx_import::getRuleRegistry() {
  static const RuleRegistry registry = [] {
    RuleRegistry r;
    registerElementwiseRules(r);
    registerMatMulRules(r);
    registerShapeRules(r);
    registerNormalizationRules(r);
    registerQuantRules(r);
    return r;
  }();
  return registry;
}
