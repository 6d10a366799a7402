//===- qopt-gptq-layer.cpp - GPTQ on one layer from raw files -------------===//
//
//   qopt-gptq-layer --k K --n N --weights W.f32 --hessian H.f64
//       [--bits 4] [--asymmetric] [--group-size G] [--act-order]
//       [--static-groups] [--damp 0.01] [--block-size 128] --out PREFIX
//
// Runs the GPTQ of `qopt-gptq` on one weight [K, N] (float32, row-major,
// rows are input channels) with the Hessian [K, K] (float64) and writes
// PREFIX.codes.i16, PREFIX.scales.f32, PREFIX.zeros.i32 ([groups, N]),
// PREFIX.gidx.i32 (the group of each input channel) and PREFIX.json (errors
// against the Hessian, damping used). For testing the numerics against an
// independent implementation (test/Dialect/QOpt/Utils/gptq-numpy.test).
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Dialect/QOpt/Algorithms/GPTQ.h"
#include "quant-opt/Support/FileSafety.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace llvm;
using namespace mlir::qopt;

static cl::opt<int64_t> kOpt("k", cl::desc("Input channels"), cl::Required);
static cl::opt<int64_t> nOpt("n", cl::desc("Output channels"), cl::Required);
static cl::opt<std::string> weightsPath("weights", cl::Required,
                                        cl::desc("[K, N] float32 file"));
static cl::opt<std::string> hessianPath("hessian", cl::Required,
                                        cl::desc("[K, K] float64 file"));
static cl::opt<std::string> outPrefix("out", cl::Required,
                                      cl::desc("Prefix of the output files"));
static cl::opt<unsigned> bits("bits", cl::init(4), cl::desc("3, 4 or 8"));
static cl::opt<bool> asymmetric("asymmetric", cl::desc("Unsigned codes with "
                                                       "a zero point"));
static cl::opt<int64_t> groupSize("group-size", cl::init(0),
                                  cl::desc("Input channels per group (0: per "
                                           "output channel)"));
static cl::opt<bool> actOrder("act-order", cl::desc("Decreasing H_jj order"));
static cl::opt<bool> staticGroups("static-groups",
                                  cl::desc("Group params before reordering"));
static cl::opt<double> damp("damp", cl::init(0.01),
                            cl::desc("Fraction of the mean diagonal"));
static cl::opt<int64_t> blockSize("block-size", cl::init(128),
                                  cl::desc("Rows per lazy batch"));

static int fail(const Twine &msg) {
  WithColor::error(errs(), "qopt-gptq-layer") << msg << "\n";
  return 1;
}

template <typename T>
static bool readArray(StringRef path, size_t count, std::vector<T> &out,
                      std::string &error) {
  auto buffer = MemoryBuffer::getFile(path, /*IsText=*/false,
                                      /*RequiresNullTerminator=*/false);
  if (!buffer) {
    error = "cannot read '" + path.str() + "': " + buffer.getError().message();
    return false;
  }
  if ((*buffer)->getBufferSize() != count * sizeof(T)) {
    error = "'" + path.str() + "' has " +
            std::to_string((*buffer)->getBufferSize()) + " bytes, expected " +
            std::to_string(count * sizeof(T));
    return false;
  }
  out.resize(count);
  std::memcpy(out.data(), (*buffer)->getBufferStart(), count * sizeof(T));
  return true;
}

template <typename T>
static bool writeArray(const Twine &path, ArrayRef<T> values) {
  std::error_code ec;
  raw_fd_ostream os(path.str(), ec, sys::fs::OF_None);
  if (ec)
    return false;
  os.write(reinterpret_cast<const char *>(values.data()),
           values.size() * sizeof(T));
  return !os.has_error();
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "GPTQ on one linear layer\n");
  int64_t k = kOpt, n = nOpt;
  if (k < 1 || n < 1 || k > (1 << 16) || n > (1 << 20))
    return fail("--k must be in [1, 65536] and --n in [1, 1048576]");
  std::vector<mlir::qopt::NamedPath> inputs = {{"--weights", weightsPath},
                                               {"--hessian", hessianPath}};
  std::vector<mlir::qopt::NamedPath> outputs;
  for (StringRef suffix :
       {".codes.i16", ".scales.f32", ".zeros.i32", ".gidx.i32", ".json"})
    outputs.push_back({"--out", outPrefix + suffix.str()});
  Error checked =
      joinErrors(mlir::qopt::checkRegularInput("--weights", weightsPath),
                 mlir::qopt::checkRegularInput("--hessian", hessianPath));
  if (!checked)
    checked = mlir::qopt::checkOutputPaths(outputs, inputs);
  if (checked)
    return fail(toString(std::move(checked)));
  std::vector<float> w;
  std::vector<double> h;
  std::string error;
  if (!readArray(weightsPath, k * n, w, error) ||
      !readArray(hessianPath, k * k, h, error))
    return fail(error);

  GPTQOptions options;
  options.scheme.bits = bits;
  options.scheme.symmetric = !asymmetric;
  options.scheme.granularity =
      groupSize ? WeightGranularity::Group : WeightGranularity::Channel;
  options.scheme.groupSize = groupSize ? groupSize : k;
  options.actOrder = actOrder;
  options.staticGroups = staticGroups;
  options.damp = damp;
  options.blockSize = blockSize;
  GPTQResult result;
  if (!runGPTQ(w, k, n, h, options, result, error))
    return fail(error);

  const QuantizedWeight &q = result.weight;
  std::vector<float> scales;
  std::vector<int32_t> zeros, groupIndex(k);
  for (const AffineParams &p : q.params) {
    scales.push_back(p.scale);
    zeros.push_back(static_cast<int32_t>(p.zeroPoint));
  }
  for (int64_t r = 0; r < k; ++r)
    groupIndex[r] = static_cast<int32_t>(q.groupOf(r));
  if (!writeArray<int16_t>(outPrefix + ".codes.i16", q.values) ||
      !writeArray<float>(outPrefix + ".scales.f32", scales) ||
      !writeArray<int32_t>(outPrefix + ".zeros.i32", zeros) ||
      !writeArray<int32_t>(outPrefix + ".gidx.i32", groupIndex))
    return fail("cannot write the outputs under '" + outPrefix + "'");
  json::Object report{
      {"error_h", result.errorH}, {"rtn_error_h", result.rtnErrorH},
      {"error_f", result.errorF}, {"rtn_error_f", result.rtnErrorF},
      {"damp", result.dampUsed},  {"dead_channels", result.deadChannels}};
  std::error_code ec;
  raw_fd_ostream os(outPrefix + ".json", ec, sys::fs::OF_None);
  if (ec)
    return fail("cannot write '" + outPrefix + ".json': " + ec.message());
  os << json::Value(std::move(report)) << "\n";
  return 0;
}
