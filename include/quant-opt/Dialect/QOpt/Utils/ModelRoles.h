//===- ModelRoles.h - The embedding and LM head, found structurally -*- C++
//-*-===//
//
// Exporters name nodes differently (`/lm_head/MatMul`, `/MatMul`,
// `onnx::MatMul_123`), so the layers a recipe treats specially are found by
// what they do: the token embedding is the gather whose ids are a function
// argument, the LM head the linear layer with one output per token of that
// embedding whose result is a function result (through reshapes only), tied
// when its weight is the table transposed.
// `markModelRoles` names them in the IR (`qopt.role`) so that options can
// address them as `embedding` and `lm_head` whatever the ONNX names are.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_DIALECT_QOPT_UTILS_MODELROLES_H
#define QUANT_OPT_DIALECT_QOPT_UTILS_MODELROLES_H

#include "quant-opt/Dialect/QOpt/IR/QOptOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <optional>
#include <string>

namespace mlir::qopt {

/// The discardable attribute that names an op's role.
constexpr llvm::StringLiteral kRoleAttr = "qopt.role";
/// On the LM head: its weight is the embedding table transposed.
constexpr llvm::StringLiteral kTiedAttr = "qopt.tied_embedding";

constexpr llvm::StringLiteral kEmbeddingRole = "embedding";
constexpr llvm::StringLiteral kPositionEmbeddingRole = "position_embedding";
constexpr llvm::StringLiteral kLMHeadRole = "lm_head";

/// A `linalg.generic` that gathers rows of a rank-2 f32 table, as the
/// importer writes ONNX Gather(table, ids, axis=0): out[..., d] =
/// table[clamp(normalize(ids[...])), d].
struct RowGather {
  linalg::GenericOp op;
  tensor::ExtractOp extract; ///< The read of the table in the body.
  Value table;               ///< [V, D] (a constant, possibly observed).
  Value ids;                 ///< The integer ids, the generic's input.
};
std::optional<RowGather> matchRowGather(linalg::GenericOp op);

/// The role recorded on `op` by markModelRoles ("" if none).
StringRef roleOf(Operation *op);

/// Finds the token embedding, other gathered tables and the LM head under
/// `root` and sets `qopt.role` on them (and `qopt.tied_embedding` on a
/// tied LM head). Idempotent; ops already marked keep their role.
void markModelRoles(Operation *root);

/// The name of a quantizable op as observation points use it: the
/// location's name (the ONNX node), else the op name, `#<n>` appended when
/// a name repeats. One instance names one walk.
class LayerNamer {
public:
  std::string nameOf(Operation *op);

private:
  llvm::StringMap<unsigned> seen;
};

/// One quantizable tensor as `qopt-list-layers` and the layer-selecting
/// options see it.
struct LayerInfo {
  std::string name; ///< What patterns match (with the role).
  std::string role; ///< "" for an ordinary layer.
  std::string kind; ///< "linear", "table" or "qmatmul"/"qgather".
  SmallVector<int64_t> shape;
  int64_t parameters = 0;
  bool tied = false; ///< An LM head that is the embedding table transposed.
};

/// The linear layers and gathered tables under `root`, in walk order, named
/// as qopt-insert-observers names them (observed points keep their names).
std::vector<LayerInfo> listLayers(Operation *root);

/// Whether `pattern` (a regular expression) selects the layer `name` with
/// `role`: it matches the name or the whole role.
bool layerPatternMatches(StringRef pattern, StringRef name, StringRef role);

} // namespace mlir::qopt

#endif // QUANT_OPT_DIALECT_QOPT_UTILS_MODELROLES_H
