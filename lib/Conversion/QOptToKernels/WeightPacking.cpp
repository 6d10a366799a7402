//===- WeightPacking.cpp - Compile-time weight layouts for the kernels ----===//

#include "WeightPacking.h"

#include "quant-opt/Dialect/QOpt/Utils/ConstantData.h"
#include "quant-opt/Dialect/QOpt/Utils/QuantParams.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::qopt;

FailureOr<QMatmulWeights> qopt::readQMatmulWeights(QMatmulOp op) {
  auto constant = op.getWeight().getDefiningOp<arith::ConstantOp>();
  if (!constant || op.getGroupIndex())
    return failure(); // The reference lowering says why.

  auto storageType = op.getWeight().getType();
  auto qtype = cast<quant::QuantizedType>(op.getWeightType());
  QMatmulWeights w;
  w.k = op.getInput().getType().getDimSize(1);
  w.n = op.getOutputChannels();
  w.bits = op.getWeightBits();
  w.isSigned = qtype.isSigned();
  bool perTensor = isa<quant::UniformQuantizedType>(qtype);
  w.group = op.getGroupSize();
  w.groups = groupCount(w.k, w.group); // The last one may be shorter.
  int64_t rowBytes = storageType.getDimSize(1);
  std::vector<uint8_t> bytes(w.k * rowBytes);
  if (auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
      dense && dense.isSplat()) {
    std::fill(bytes.begin(), bytes.end(),
              static_cast<uint8_t>(dense.getSplatValue<APInt>().getZExtValue() &
                                   0xFF));
  } else {
    ArrayRef<char> raw = denseConstantBytes(constant.getValue(), storageType);
    if (raw.size() != bytes.size())
      return failure();
    std::memcpy(bytes.data(), raw.data(), raw.size());
  }
  w.values.resize(w.k * w.n);
  for (int64_t k = 0; k < w.k; ++k)
    for (int64_t c = 0; c < w.n; ++c) {
      int32_t v;
      if (w.bits == 8) {
        uint8_t byte = bytes[k * rowBytes + c];
        v = w.isSigned ? static_cast<int8_t>(byte) : byte;
      } else {
        uint8_t nibble = (bytes[k * rowBytes + c / 2] >> (c % 2 ? 4 : 0)) & 15;
        v = w.isSigned ? ((nibble ^ 8) - 8) : nibble;
      }
      w.values[k * w.n + c] = v;
    }
  for (int64_t g = 0; g < w.groups; ++g)
    for (int64_t c = 0; c < w.n; ++c) {
      AffineParams p =
          paramsOf(qtype, {perTensor ? 0 : g * w.group, perTensor ? 0 : c});
      w.scales.push_back(p.scale);
      w.zeroPoints.push_back(static_cast<int32_t>(p.zeroPoint));
    }
  return w;
}

FloatKernelWeights qopt::packForFloatKernel(const QMatmulWeights &w) {
  FloatKernelWeights out;
  int64_t panels = w.panels();
  out.bytesPerRow = w.bits == 4 ? kPanel / 2 : kPanel;
  out.bytes.assign(panels * w.k * out.bytesPerRow, 0);
  out.scales.assign(panels * w.groups * kPanel, 0.0f);
  out.biases.assign(panels * w.groups * kPanel, 0.0f);
  // 4-bit values are held unsigned: signed ones move up by 8.
  int32_t offset = w.bits == 4 && w.isSigned ? 8 : 0;
  for (int64_t p = 0; p < panels; ++p) {
    for (int64_t k = 0; k < w.k; ++k) {
      char *row = &out.bytes[(p * w.k + k) * out.bytesPerRow];
      for (int64_t j = 0; j < kPanel; ++j) {
        int64_t c = p * kPanel + j;
        if (c >= w.n)
          continue;
        int32_t v = w.values[k * w.n + c] + offset;
        if (w.bits == 8)
          row[j] = static_cast<char>(v);
        else
          row[j % 8] = static_cast<char>(static_cast<uint8_t>(row[j % 8]) |
                                         (v << (j < 8 ? 0 : 4)));
      }
    }
    for (int64_t g = 0; g < w.groups; ++g)
      for (int64_t j = 0; j < kPanel; ++j) {
        int64_t c = p * kPanel + j;
        if (c >= w.n)
          continue;
        // The kernel takes the offset off signed nibbles again.
        float scale = w.scales[g * w.n + c];
        int32_t zp = w.zeroPoints[g * w.n + c];
        out.scales[(p * w.groups + g) * kPanel + j] = scale;
        out.biases[(p * w.groups + g) * kPanel + j] = -zp * scale;
        out.hasBias |= zp != 0;
      }
  }
  return out;
}

IntegerKernelWeights qopt::packForIntegerKernel(const QMatmulWeights &w,
                                                int64_t ku) {
  IntegerKernelWeights out;
  int64_t panels = w.panels(), columns = panels * kPanel;
  out.paddedK = (w.k + ku - 1) / ku * ku;
  int64_t blocks = out.paddedK / ku, blockValues = kPanel * ku;
  int64_t blockBytes = w.bits == 4 ? blockValues / 2 : blockValues;
  out.bytes.assign(panels * blocks * blockBytes, 0);
  out.columnSums.assign(w.groups * columns, 0);
  out.zeroPoints.assign(w.groups * columns, 0);
  out.scales.assign(w.groups * columns, 0.0f);
  // 8 bits: unsigned weights become signed; 4 bits: signed ones unsigned.
  int32_t shift = w.bits == 4 ? (w.isSigned ? -8 : 0) : (w.isSigned ? 0 : 128);
  for (int64_t c = 0; c < w.n; ++c) {
    int64_t p = c / kPanel, j = c % kPanel;
    for (int64_t k = 0; k < w.k; ++k) {
      int32_t v = w.values[k * w.n + c] - shift;
      int64_t g = k / w.group;
      out.columnSums[g * columns + c] += v;
      int64_t e = j * ku + k % ku;
      char *block = &out.bytes[(p * blocks + k / ku) * blockBytes];
      if (w.bits == 8)
        block[e] = static_cast<char>(v);
      else
        block[e % blockBytes] =
            static_cast<char>(static_cast<uint8_t>(block[e % blockBytes]) |
                              (v << (e < blockBytes ? 0 : 4)));
    }
    for (int64_t g = 0; g < w.groups; ++g) {
      int32_t zp = w.zeroPoints[g * w.n + c] - shift;
      out.zeroPoints[g * columns + c] = zp;
      out.scales[g * columns + c] = w.scales[g * w.n + c];
      out.hasZeroPoint |= zp != 0;
    }
  }
  return out;
}
