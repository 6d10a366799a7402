//===- RecipeTable.h - the qopt-ptq recipes, listed once --------*- C++ -*-===//
//
// Every qopt-ptq recipe with the weight and activation scheme it sets. This
// table is the one list that the pipeline, its option help, its errors,
// `quant-opt --list-recipes` (text or JSON), docs/reference/Recipes.md and
// the Python package read.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_RECIPES_RECIPETABLE_H
#define QUANT_OPT_RECIPES_RECIPETABLE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>

namespace mlir::qopt {

struct Recipe {
  llvm::StringRef name;
  /// Another name accepted for it (or empty).
  llvm::StringRef alias;
  /// int (uniform integers of `bits`), fp16, bf16, fp8-e4m3 or fp8-e5m2.
  llvm::StringRef format;
  unsigned bits;
  /// channel (one scale per output channel) or group (of `groupSize`).
  llvm::StringRef granularity;
  int64_t groupSize;
  /// none (weight-only), static (calibrated int8) or dynamic (per token).
  llvm::StringRef activations;
  /// One line for help texts and docs.
  llvm::StringRef summary;

  bool isInteger() const { return format == "int"; }
  /// Needs calibration data whatever the other options say.
  bool calibrates() const { return activations == "static" || name == "auto"; }
};

/// All recipes, in the order help texts list them.
llvm::ArrayRef<Recipe> getRecipes();

/// The recipe named `name` (or aliased so), or null.
const Recipe *lookupRecipe(llvm::StringRef name);

/// The names of the recipes `keep` accepts, comma-separated, for errors.
std::string recipeNames(bool (*keep)(const Recipe &) = nullptr);

/// qopt-ptq's `recipe` option help, built from the table once.
llvm::StringRef recipeOptionHelp();

/// The table as text (one recipe per line) or as a JSON array of objects.
void printRecipes(llvm::raw_ostream &os, bool json);

} // namespace mlir::qopt

#endif // QUANT_OPT_RECIPES_RECIPETABLE_H
