//===- ImportContext.h - State shared by the ONNX import rules --*- C++ -*-===//
//
// The graph importer walks nodes in order and hands each to the rule for its
// (domain, op_type). A rule reads inputs and attributes through NodeContext
// and defines outputs either as SSA tensors or, for small shape-computation
// tensors, as FoldedTensors known (partly) at import time.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_LIB_TARGET_ONNX_IMPORTCONTEXT_H
#define QUANT_OPT_LIB_TARGET_ONNX_IMPORTCONTEXT_H

#include "TensorConversion.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"
#include "llvm/ADT/StringMap.h"

#include <optional>

namespace onnx {
class NodeProto;
class AttributeProto;
} // namespace onnx

namespace mlir::qopt::onnx_import {

/// A small tensor known at import time, used to fold the shape computations
/// exporters emit (Shape -> Gather -> Unsqueeze -> Concat -> Reshape). Integer
/// elements are `index` OpFoldResults: a constant, or an SSA value known only
/// at run time (a dynamic dimension). Float elements are always constants.
struct FoldedTensor {
  SmallVector<int64_t> shape;
  int32_t onnxType = kInt64;
  SmallVector<OpFoldResult> ints;
  SmallVector<double> floats;

  bool isFloat() const { return isFloatType(onnxType); }
  int64_t numElements() const;
  /// The constant integer at `i`, if known.
  std::optional<int64_t> getInt(int64_t i) const;
  bool isFullyKnown() const;
  /// All integer elements when every one is known.
  std::optional<SmallVector<int64_t>> getInts() const;
};

/// Largest tensor (in elements) the importer folds at import time.
constexpr int64_t kMaxFoldedElements = 1 << 16;

struct ImportedValue {
  Value value;          // materialized tensor; null until first needed
  int32_t onnxType = 0; // ONNX element type (MLIR integers are signless)
  std::optional<FoldedTensor> folded;
};

class GraphImporter;

/// What a rule sees of the node it imports.
class NodeContext {
public:
  NodeContext(GraphImporter &importer, const onnx::NodeProto &node,
              Location loc)
      : importer(importer), node(node), loc(loc) {}

  OpBuilder &builder();
  Location getLoc() const { return loc; }
  MLIRContext *getContext();
  const onnx::NodeProto &getNode() const { return node; }
  StringRef opType() const;
  /// The opset version of this node's domain.
  int64_t opset() const;

  // Inputs. Optional inputs may be absent (empty name or past the end).
  unsigned numInputs() const;
  bool hasInput(unsigned i) const;
  /// The input as a tensor, materializing folded values.
  Value input(unsigned i);
  RankedTensorType inputType(unsigned i);
  int32_t inputONNXType(unsigned i) const;
  /// The input's value at import time, if known (folded or a small constant).
  const FoldedTensor *folded(unsigned i);
  /// The input's constant value if it is an initializer or Constant output.
  ElementsAttr constant(unsigned i);

  // Attributes.
  const onnx::AttributeProto *attr(StringRef name) const;
  int64_t attrInt(StringRef name, int64_t dflt) const;
  float attrFloat(StringRef name, float dflt) const;
  std::string attrString(StringRef name, StringRef dflt) const;
  std::optional<SmallVector<int64_t>> attrInts(StringRef name) const;

  // Outputs.
  unsigned numOutputs() const;
  bool hasOutput(unsigned i) const;
  void setOutput(unsigned i, Value value, int32_t onnxType);
  void setFolded(unsigned i, FoldedTensor folded);
  /// Defines output i as a constant.
  void setConstant(unsigned i, ElementsAttr attr, int32_t onnxType);

  /// Constants larger than this become dense_resource blobs.
  int64_t maxInlineConstantBytes() const;
  /// The node's name (generated for unnamed nodes).
  StringRef name() const;

  /// Emits "node 'name' (OpType, opset N): message" and returns failure.
  LogicalResult error(const Twine &message);

  /// Reads a constant integer list input (e.g. axes, shape) or fails with a
  /// diagnostic naming `what`.
  FailureOr<SmallVector<int64_t>> constantInts(unsigned i, StringRef what);

private:
  GraphImporter &importer;
  const onnx::NodeProto &node;
  Location loc;
};

using ImportRule = LogicalResult (*)(NodeContext &);

/// Rules keyed by "domain:op_type" (default domain: empty).
class RuleRegistry {
public:
  void add(StringRef domain, StringRef opType, ImportRule rule) {
    rules[(domain + ":" + opType).str()] = rule;
  }
  ImportRule lookup(StringRef domain, StringRef opType) const;
  std::vector<std::string> names() const;

private:
  llvm::StringMap<ImportRule> rules;
};

// Each rule family registers itself here; one file per family.
void registerElementwiseRules(RuleRegistry &registry);
void registerMatMulRules(RuleRegistry &registry);
void registerShapeRules(RuleRegistry &registry);
void registerNormalizationRules(RuleRegistry &registry);
void registerQuantRules(RuleRegistry &registry);

/// The registry with every rule.
const RuleRegistry &getRuleRegistry();

/// A tensor constant; tensor.empty when it has no elements (LLVM's
/// translation of an empty global still visits every outer index, e.g.
/// 2^40 of them for a tensor<1099511627776x0xf32>).
Value materializeConstant(OpBuilder &b, Location loc, ElementsAttr attr);
/// Materializes a FoldedTensor as an SSA tensor.
Value materializeFolded(OpBuilder &b, Location loc, const FoldedTensor &t);
/// Makes a FoldedTensor from a small constant, if it is one.
std::optional<FoldedTensor> foldConstant(ElementsAttr attr, int32_t onnxType);

} // namespace mlir::qopt::onnx_import

#endif // QUANT_OPT_LIB_TARGET_ONNX_IMPORTCONTEXT_H
