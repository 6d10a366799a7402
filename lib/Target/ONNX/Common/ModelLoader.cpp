//===- ModelLoader.cpp - Read, resolve and check ONNX models --------------===//
//
// Compiled with exceptions: ONNX's checker, parser helpers and shape
// inference throw. No exception leaves this file.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Target/ONNX/ModelLoader.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <onnx/checker.h>
#include <onnx/defs/parser.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

using namespace mlir::qopt::onnx_import;

namespace {
/// The newest default-domain opset ONNX 1.12's schemas describe.
constexpr int64_t kNewestCheckableOpset = 17;

bool isStandardDomain(const std::string &domain) {
  return domain.empty() || domain == "ai.onnx" || domain == "ai.onnx.ml";
}

/// What a file that is not a regular one is, for diagnostics.
std::string fileKind(mode_t mode) {
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISSOCK(mode))
    return "a socket";
  return "not a regular file";
}

/// Opens `path` for reading only if it is a regular file, and returns the
/// descriptor (-1 on failure, with `why` set) and the file's size. A FIFO
/// would block (open is non-blocking here, so it does not), a directory or a
/// socket cannot be read and a device such as /dev/zero never ends; the
/// check is on the opened descriptor, so the file cannot change in between.
int openRegularFile(llvm::StringRef path, uint64_t &size, std::string &why) {
  int fd = ::open(path.str().c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int openErrno = errno;
    // Sockets cannot be opened at all (ENXIO): say what the path is.
    struct stat info;
    if (::stat(path.str().c_str(), &info) == 0 && !S_ISREG(info.st_mode))
      why = fileKind(info.st_mode) + ", not a regular file";
    else
      why = std::strerror(openErrno);
    return -1;
  }
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    why = std::strerror(errno);
    ::close(fd);
    return -1;
  }
  if (!S_ISREG(info.st_mode)) {
    why = fileKind(info.st_mode) + ", not a regular file";
    ::close(fd);
    return -1;
  }
  // Regular files never block; reads go back to the usual blocking mode.
  int flags = ::fcntl(fd, F_GETFL);
  if (flags != -1)
    ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  size = info.st_size;
  return fd;
}

/// Reads the regular file at `path` (see openRegularFile) into a buffer,
/// memory-mapped where it is large.
std::unique_ptr<llvm::MemoryBuffer>
readRegularFile(llvm::StringRef path, bool nullTerminated, std::string &why) {
  uint64_t size = 0;
  int fd = openRegularFile(path, size, why);
  if (fd < 0)
    return nullptr;
  auto buffer = llvm::MemoryBuffer::getOpenFile(
      llvm::sys::fs::convertFDToNativeFile(fd), path, size, nullTerminated);
  ::close(fd);
  if (!buffer) {
    why = buffer.getError().message();
    return nullptr;
  }
  return std::move(*buffer);
}

/// Resolves `location` against `modelDir`, refusing anything that could read
/// outside the model's folder.
bool resolveExternalPath(llvm::StringRef modelDir, llvm::StringRef location,
                         std::string &resolved, std::string &error) {
  if (location.empty()) {
    error = "external data has no 'location'";
    return false;
  }
  if (llvm::sys::path::is_absolute(location) || location.starts_with("/") ||
      location.starts_with("\\")) {
    error = "external data location '" + location.str() +
            "' is an absolute path; it must be relative to the model's folder";
    return false;
  }
  for (llvm::StringRef part : llvm::make_range(
           llvm::sys::path::begin(location), llvm::sys::path::end(location))) {
    if (part == "..") {
      error = "external data location '" + location.str() +
              "' escapes the model's folder with '..'";
      return false;
    }
  }
  llvm::SmallString<256> joined(modelDir.empty() ? "." : modelDir);
  llvm::sys::path::append(joined, location);
  llvm::SmallString<256> realFile, realDir;
  if (llvm::sys::fs::real_path(joined, realFile) ||
      llvm::sys::fs::real_path(modelDir.empty() ? "." : modelDir, realDir)) {
    error = "external data file '" + joined.str().str() + "' does not exist";
    return false;
  }
  llvm::StringRef fileRef = realFile.str(), dirRef = realDir.str();
  if (!fileRef.starts_with(dirRef) || fileRef.size() <= dirRef.size() ||
      !llvm::sys::path::is_separator(fileRef[dirRef.size()])) {
    error = "external data location '" + location.str() + "' resolves to '" +
            fileRef.str() + "', outside the model's folder (through a link?)";
    return false;
  }
  resolved = fileRef.str();
  return true;
}

bool resolveExternalData(llvm::StringRef modelPath, LoadedModel &out,
                         std::string &error) {
  llvm::StringRef modelDir = llvm::sys::path::parent_path(modelPath);
  llvm::StringMap<std::shared_ptr<llvm::MemoryBuffer>> files;
  for (const onnx::TensorProto &tensor : out.model->graph().initializer()) {
    if (tensor.data_location() != onnx::TensorProto::EXTERNAL)
      continue;
    std::string location;
    int64_t offset = 0, length = -1;
    for (const onnx::StringStringEntryProto &entry : tensor.external_data()) {
      llvm::StringRef value = entry.value();
      if (entry.key() == "location") {
        location = entry.value();
      } else if (entry.key() == "offset" || entry.key() == "length") {
        int64_t parsed;
        if (value.getAsInteger(10, parsed) || parsed < 0) {
          error = "initializer '" + tensor.name() + "': external data " +
                  entry.key() + " '" + value.str() + "' is not a byte count";
          return false;
        }
        (entry.key() == "offset" ? offset : length) = parsed;
      }
    }
    std::string resolved, why;
    if (!resolveExternalPath(modelDir, location, resolved, why)) {
      error = "initializer '" + tensor.name() + "': " + why;
      return false;
    }
    std::shared_ptr<llvm::MemoryBuffer> &file = files[resolved];
    if (!file) {
      std::string why;
      std::unique_ptr<llvm::MemoryBuffer> buffer =
          readRegularFile(resolved, /*nullTerminated=*/false, why);
      if (!buffer) {
        error = "initializer '" + tensor.name() + "': cannot read external " +
                "data file '" + resolved + "': " + why;
        return false;
      }
      file = std::move(buffer);
      out.externalFiles.push_back(resolved);
    }
    int64_t size = file->getBufferSize();
    if (length < 0)
      length = size - std::min(offset, size);
    if (offset > size || length > size - offset) {
      // Both are at most 2^63 - 1: their sum fits in 64 unsigned bits.
      error = "initializer '" + tensor.name() + "': external data range [" +
              std::to_string(offset) + ", " +
              std::to_string(uint64_t(offset) + uint64_t(length)) +
              ") lies outside '" + location + "' (" + std::to_string(size) +
              " bytes)";
      return false;
    }
    out.externalData[tensor.name()] = {
        file, file->getBuffer().substr(offset, length)};
  }
  return true;
}

/// The newest TensorProto data type ONNX 1.12 knows (BFLOAT16).
constexpr int32_t kNewestCheckableDataType = 16;

/// The largest data type among initializers and Constant-node tensors.
int32_t newestDataType(const onnx::GraphProto &graph) {
  int32_t newest = 0;
  for (const onnx::TensorProto &t : graph.initializer())
    newest = std::max(newest, t.data_type());
  for (const onnx::NodeProto &node : graph.node())
    for (const onnx::AttributeProto &a : node.attribute())
      if (a.has_t())
        newest = std::max(newest, a.t().data_type());
  return newest;
}

/// Runs ONNX's checker and shape inference when ONNX 1.12 knows every opset
/// the model uses; otherwise records why it was skipped.
bool checkAndInferShapes(LoadedModel &out, bool runChecker, bool inferShapes,
                         std::string &error) {
  onnx::ModelProto &model = *out.model;
  int64_t defaultOpset = -1;
  std::vector<std::string> unknownDomains;
  for (const onnx::OperatorSetIdProto &opset : model.opset_import()) {
    if (opset.domain().empty() || opset.domain() == "ai.onnx")
      defaultOpset = opset.version();
    else if (!isStandardDomain(opset.domain()))
      unknownDomains.push_back(opset.domain());
  }
  // ONNX 1.12 also rejects IR versions and data types newer than itself
  // (IR 9/10, FP8, INT4/UINT4) although the importer handles them.
  int32_t newestType = newestDataType(model.graph());
  bool checkable = defaultOpset <= kNewestCheckableOpset &&
                   unknownDomains.empty() &&
                   model.ir_version() <= onnx::Version::IR_VERSION &&
                   newestType <= kNewestCheckableDataType;
  if (runChecker && checkable) {
    // The checker would try to open external files itself; they were already
    // resolved and bounds-checked above, so check a copy where each external
    // tensor holds a one-byte raw_data placeholder (the checker wants exactly
    // one non-empty value field and does not compare its size).
    try {
      if (out.externalData.empty()) {
        onnx::checker::check_model(model);
      } else {
        onnx::ModelProto copy = model;
        for (onnx::TensorProto &t :
             *copy.mutable_graph()->mutable_initializer())
          if (t.data_location() == onnx::TensorProto::EXTERNAL) {
            t.clear_external_data();
            t.set_data_location(onnx::TensorProto::DEFAULT);
            t.set_raw_data(std::string(1, '\0'));
          }
        onnx::checker::check_model(copy);
      }
      out.notes.push_back("checked by ONNX 1.12's checker");
    } catch (const std::exception &e) {
      error = std::string("ONNX checker: ") + e.what();
      return false;
    }
  } else if (runChecker) {
    std::string why =
        defaultOpset > kNewestCheckableOpset
            ? "default-domain opset " + std::to_string(defaultOpset)
        : !unknownDomains.empty() ? "domain '" + unknownDomains.front() + "'"
        : model.ir_version() > onnx::Version::IR_VERSION
            ? "IR version " + std::to_string(model.ir_version())
            : "data type " + std::to_string(newestType);
    out.notes.push_back("ONNX 1.12's checker and shape inference do not know " +
                        why +
                        "; the importer verified node arity, "
                        "attributes and shapes itself");
  }
  if (!checkable || !inferShapes)
    return true;
  try {
    onnx::ShapeInferenceOptions options(/*check_type=*/false,
                                        /*strict_mode=*/0,
                                        /*data_prop=*/true);
    onnx::shape_inference::InferShapes(
        model, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception &e) {
    error = std::string("ONNX shape inference: ") + e.what();
    return false;
  }
  return true;
}

bool finishLoading(llvm::StringRef path, bool runChecker, bool inferShapes,
                   LoadedModel &out, std::string &error) {
  if (!out.model->has_graph()) {
    error = "model has no graph";
    return false;
  }
  return resolveExternalData(path, out, error) &&
         checkAndInferShapes(out, runChecker, inferShapes, error);
}
} // namespace

bool mlir::qopt::onnx_import::loadModelBuffer(llvm::StringRef contents,
                                              llvm::StringRef path, bool isText,
                                              bool runChecker, LoadedModel &out,
                                              std::string &error,
                                              bool inferShapes) {
  out.model = std::make_unique<onnx::ModelProto>();
  try {
    if (isText) {
      // ONNX's parser needs a terminator and knows only '#' comments; blank
      // out '//' line comments (lit RUN/CHECK lines) keeping line numbers.
      std::string text = contents.str();
      for (size_t pos = 0; pos < text.size();) {
        size_t end = text.find('\n', pos);
        if (end == std::string::npos)
          end = text.size();
        size_t first = text.find_first_not_of(" \t", pos);
        if (first < end && text.compare(first, 2, "//") == 0)
          std::fill(text.begin() + first, text.begin() + end, ' ');
        pos = end + 1;
      }
      onnx::OnnxParser parser(text.c_str());
      auto status = parser.Parse(*out.model);
      if (!status.IsOK()) {
        error = "cannot parse ONNX text: " + status.ErrorMessage();
        return false;
      }
    } else if (contents.size() > INT32_MAX ||
               !out.model->ParseFromArray(contents.data(),
                                          static_cast<int>(contents.size()))) {
      error = "not a valid ONNX ModelProto (truncated or corrupt protobuf)";
      return false;
    }
  } catch (const std::exception &e) {
    error = std::string("cannot parse ONNX model: ") + e.what();
    return false;
  }
  return finishLoading(path, runChecker, inferShapes, out, error);
}

bool mlir::qopt::onnx_import::loadModelFile(llvm::StringRef path,
                                            bool runChecker, LoadedModel &out,
                                            std::string &error,
                                            bool inferShapes) {
  std::string why;
  if (path.ends_with(".onnxtext")) {
    std::unique_ptr<llvm::MemoryBuffer> buffer =
        readRegularFile(path, /*nullTerminated=*/true, why);
    if (!buffer) {
      error = "cannot read '" + path.str() + "': " + why;
      return false;
    }
    return loadModelBuffer(buffer->getBuffer(), path, /*isText=*/true,
                           runChecker, out, error, inferShapes);
  }
  // Stream binary models from the file so that the file's bytes and the
  // parsed protobuf are never both in memory.
  uint64_t size = 0;
  int fd = openRegularFile(path, size, why);
  if (fd < 0) {
    error = "cannot open '" + path.str() + "': " + why;
    return false;
  }
  out.model = std::make_unique<onnx::ModelProto>();
  bool parsed;
  int readErrno;
  {
    google::protobuf::io::FileInputStream stream(fd);
    stream.SetCloseOnDelete(true);
    parsed = out.model->ParseFromZeroCopyStream(&stream);
    readErrno = stream.GetErrno();
  }
  // A read error ends the stream like end-of-file would: report it rather
  // than a truncated (or silently partial) model.
  if (readErrno != 0) {
    error = "cannot read '" + path.str() + "': " + std::strerror(readErrno);
    return false;
  }
  if (!parsed) {
    error = "not a valid ONNX ModelProto (truncated or corrupt protobuf)";
    return false;
  }
  return finishLoading(path, runChecker, inferShapes, out, error);
}
