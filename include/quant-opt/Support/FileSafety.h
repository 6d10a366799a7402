//===- FileSafety.h - Input kinds, output collisions, atomic outputs -*- C++
//-*-===//
//
// What the tools check about the files they are given before they read or
// write them:
//  - inputs must be regular files: a FIFO blocks forever, a directory or a
//    socket cannot be read, and a character device such as /dev/zero never
//    ends;
//  - outputs must not name an input (or another output), by path or through
//    a link, so that a typo never destroys the model being compiled;
//  - outputs are written under a temporary name next to the final one and
//    renamed at the end, so a failure leaves no half-written artifact and
//    keeps a file that was there before.
//
// Header-only: quant-run links LLVMSupport statically and nothing else.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_SUPPORT_FILESAFETY_H
#define QUANT_OPT_SUPPORT_FILESAFETY_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <optional>
#include <string>

namespace mlir::qopt {

/// The kind of a file that is not a regular one ("a directory", "a FIFO",
/// ...), or nullopt for a regular file or a path that does not exist (the
/// reader then reports the missing file itself). Follows links.
inline std::optional<std::string> nonRegularFileKind(llvm::StringRef path) {
  namespace fs = llvm::sys::fs;
  fs::file_status status;
  if (fs::status(path, status, /*Follow=*/true))
    return std::nullopt;
  switch (status.type()) {
  case fs::file_type::regular_file:
  case fs::file_type::file_not_found:
  case fs::file_type::status_error:
    return std::nullopt;
  case fs::file_type::directory_file:
    return std::string("a directory");
  case fs::file_type::fifo_file:
    return std::string("a FIFO");
  case fs::file_type::character_file:
    return std::string("a character device");
  case fs::file_type::block_file:
    return std::string("a block device");
  case fs::file_type::socket_file:
    return std::string("a socket");
  default:
    return std::string("not a regular file");
  }
}

/// An error if `path` exists and is not a regular file; `what` names the
/// option or role ("the model", "--weights").
inline llvm::Error checkRegularInput(llvm::StringRef what,
                                     llvm::StringRef path) {
  if (path == "-")
    return llvm::Error::success();
  if (std::optional<std::string> kind = nonRegularFileKind(path))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   what + " '" + path + "' is " + *kind +
                                       ", not a regular file");
  return llvm::Error::success();
}

/// A file given to a tool, named for diagnostics: "the input model",
/// "--weights", ...
struct NamedPath {
  std::string what;
  std::string path;
};

/// `path` made absolute with `.` and `..` removed (no links resolved).
inline std::string normalizedPath(llvm::StringRef path) {
  llvm::SmallString<256> result(path);
  llvm::sys::fs::make_absolute(result);
  llvm::sys::path::remove_dots(result, /*remove_dot_dot=*/true);
  return std::string(result);
}

/// True if `a` and `b` name the same file: the same path, or (both existing)
/// the same inode through a link.
inline bool isSameFile(llvm::StringRef a, llvm::StringRef b) {
  if (normalizedPath(a) == normalizedPath(b))
    return true;
  bool same = false;
  return !llvm::sys::fs::equivalent(a, b, same) && same;
}

/// Refuses an output that is one of the inputs or another output. "-"
/// (standard output) collides with nothing.
inline llvm::Error checkOutputPaths(llvm::ArrayRef<NamedPath> outputs,
                                    llvm::ArrayRef<NamedPath> inputs) {
  for (size_t i = 0; i < outputs.size(); ++i) {
    const NamedPath &out = outputs[i];
    if (out.path.empty() || out.path == "-")
      continue;
    for (const NamedPath &in : inputs)
      if (!in.path.empty() && in.path != "-" && isSameFile(out.path, in.path))
        return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                       out.what + " '" + out.path + "' is " +
                                           in.what + " '" + in.path +
                                           "'; refusing to overwrite an input");
    for (size_t j = 0; j < i; ++j)
      if (!outputs[j].path.empty() && outputs[j].path != "-" &&
          isSameFile(out.path, outputs[j].path))
        return llvm::createStringError(
            llvm::inconvertibleErrorCode(),
            out.what + " '" + out.path + "' and " + outputs[j].what + " '" +
                outputs[j].path + "' are the same file");
    if (llvm::sys::fs::is_directory(out.path))
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     out.what + " '" + out.path +
                                         "' is a directory");
  }
  return llvm::Error::success();
}

/// An output written under a temporary name in the final file's directory
/// (`path.tmp-XXXXXX`), renamed onto `path` by commit(). Until then a
/// failure (or a crash signal) removes the temporary and leaves `path` as
/// it was. Standard output ("-") and existing special files (/dev/null, a
/// FIFO) are written directly.
class PendingOutput {
public:
  static llvm::Expected<PendingOutput> create(llvm::StringRef path) {
    PendingOutput result;
    result.finalPath = path.str();
    llvm::sys::fs::file_status status;
    if (path == "-" ||
        (!llvm::sys::fs::status(path, status) &&
         status.type() != llvm::sys::fs::file_type::regular_file &&
         status.type() != llvm::sys::fs::file_type::directory_file))
      return std::move(result);
    llvm::Expected<llvm::sys::fs::TempFile> temp =
        llvm::sys::fs::TempFile::create(path + ".tmp-%%%%%%");
    if (!temp)
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "cannot write '" + path +
              "': " + llvm::toString(temp.takeError()));
    result.temp.emplace(std::move(*temp));
    return std::move(result);
  }
  PendingOutput(PendingOutput &&) = default;
  PendingOutput &operator=(PendingOutput &&) = default;
  ~PendingOutput() { llvm::consumeError(discard()); }

  /// Where to write now: the temporary (or "-").
  llvm::StringRef path() const {
    return temp ? llvm::StringRef(temp->TmpName) : llvm::StringRef(finalPath);
  }
  const std::string &destination() const { return finalPath; }

  /// Renames the temporary onto the final path.
  llvm::Error commit() {
    if (!temp)
      return llvm::Error::success();
    llvm::Error error = temp->keep(finalPath);
    temp.reset();
    if (error)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "cannot write '" + finalPath + "': " +
                                         llvm::toString(std::move(error)));
    return llvm::Error::success();
  }

  /// Removes the temporary; the final path is left alone.
  llvm::Error discard() {
    if (!temp)
      return llvm::Error::success();
    llvm::Error error = temp->discard();
    temp.reset();
    return error;
  }

private:
  PendingOutput() = default;
  std::string finalPath;
  std::optional<llvm::sys::fs::TempFile> temp;
};

} // namespace mlir::qopt

#endif // QUANT_OPT_SUPPORT_FILESAFETY_H
