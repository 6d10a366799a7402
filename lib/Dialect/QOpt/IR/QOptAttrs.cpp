//===- QOptAttrs.cpp - qopt attributes ------------------------------------===//

#include "quant-opt/Dialect/QOpt/IR/QOptOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::qopt;

#include "quant-opt/Dialect/QOpt/IR/QOptEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "quant-opt/Dialect/QOpt/IR/QOptAttrs.cpp.inc"

LogicalResult StatsAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                StringRef method, int64_t samples,
                                FloatAttr min, FloatAttr max,
                                DenseElementsAttr channelMin,
                                DenseElementsAttr channelMax,
                                DenseElementsAttr channelAbsMax,
                                ElementsAttr xtx, FloatAttr sensitivity) {
  if (samples < 0)
    return emitError() << "samples must be non-negative";
  double lo = min.getValueAsDouble(), hi = max.getValueAsDouble();
  if (!std::isfinite(lo) || !std::isfinite(hi))
    return emitError() << "range must be finite";
  if (lo > hi)
    return emitError() << "min " << lo << " exceeds max " << hi;
  for (DenseElementsAttr a : {channelMin, channelMax, channelAbsMax})
    if (a && (a.getType().getRank() != 1 || !a.getElementType().isF32()))
      return emitError() << "per-channel statistics must be 1-D f32";
  if (bool(channelMin) != bool(channelMax))
    return emitError() << "channel_min and channel_max go together";
  if (channelMin && channelMin.getNumElements() != channelMax.getNumElements())
    return emitError() << "channel_min and channel_max differ in length";
  if (xtx) {
    auto type = dyn_cast<ShapedType>(xtx.getType());
    if (!type || type.getRank() != 2 ||
        type.getDimSize(0) != type.getDimSize(1))
      return emitError() << "xtx must be a square matrix";
    if (channelAbsMax && type.getDimSize(0) != channelAbsMax.getNumElements())
      return emitError() << "xtx and channel_absmax disagree on the channels";
  }
  return success();
}

void QOptDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "quant-opt/Dialect/QOpt/IR/QOptAttrs.cpp.inc"
      >();
}
