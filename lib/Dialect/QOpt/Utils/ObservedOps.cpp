//===- ObservedOps.cpp - Finding quantizable ops and their points ---------===//

#include "quant-opt/Dialect/QOpt/Utils/ObservedOps.h"
#include "quant-opt/Dialect/QOpt/Utils/ConstantData.h"

#include <cstring>

using namespace mlir;
using namespace mlir::qopt;

std::string mlir::qopt::locationName(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations()) {
      std::string name = locationName(inner);
      if (!name.empty())
        return name;
    }
  if (auto callSite = dyn_cast<CallSiteLoc>(loc))
    return locationName(callSite.getCallee());
  return "";
}

arith::ConstantOp mlir::qopt::lookThroughObserve(Value value) {
  if (auto observe = value.getDefiningOp<ObserveOp>())
    value = observe.getInput();
  return value.getDefiningOp<arith::ConstantOp>();
}

bool mlir::qopt::isLinearLayer(linalg::MatmulOp op) {
  if (!op.hasPureTensorSemantics() || op.getInputs().size() != 2)
    return false;
  if (op.getIndexingMapsArray() !=
      linalg::MatmulOp::getDefaultIndexingMaps(op.getContext()))
    return false;
  auto a = dyn_cast<RankedTensorType>(op.getInputs()[0].getType());
  auto b = dyn_cast<RankedTensorType>(op.getInputs()[1].getType());
  auto c = dyn_cast<RankedTensorType>(op.getOutputs()[0].getType());
  if (!a || !b || !c || !a.getElementType().isF32() ||
      !b.getElementType().isF32() || !c.getElementType().isF32() ||
      !b.hasStaticShape())
    return false;
  return bool(lookThroughObserve(op.getInputs()[1]));
}

SmallVector<ObservedLinear> mlir::qopt::findObservedLinears(Operation *root) {
  SmallVector<ObservedLinear> found;
  root->walk([&](linalg::MatmulOp op) {
    if (!isLinearLayer(op))
      return;
    auto input = op.getInputs()[0].getDefiningOp<ObserveOp>();
    auto weight = op.getInputs()[1].getDefiningOp<ObserveOp>();
    if (!input || !weight || input.getRole() != ObserveRole::activation ||
        weight.getRole() != ObserveRole::weight)
      return;
    found.push_back({op, input, weight, lookThroughObserve(weight)});
  });
  return found;
}

bool mlir::qopt::isZeroFilled(Value init) {
  auto fill = init.getDefiningOp<linalg::FillOp>();
  if (!fill)
    return false;
  auto zero = fill.getInputs()[0].getDefiningOp<arith::ConstantOp>();
  auto value = zero ? dyn_cast<FloatAttr>(zero.getValue()) : nullptr;
  return value && value.getValue().isPosZero();
}

std::vector<float> mlir::qopt::readF32Constant(arith::ConstantOp constant) {
  auto type = dyn_cast<RankedTensorType>(constant.getType());
  if (!type || !type.getElementType().isF32() || !type.hasStaticShape())
    return {};
  std::vector<float> values(type.getNumElements());
  if (auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
      dense && dense.isSplat()) {
    std::fill(values.begin(), values.end(), dense.getSplatValue<float>());
    return values;
  }
  ArrayRef<char> bytes = denseConstantBytes(constant.getValue(), type);
  if (bytes.size() != values.size() * sizeof(float))
    return {};
  std::memcpy(values.data(), bytes.data(), bytes.size());
  return values;
}
