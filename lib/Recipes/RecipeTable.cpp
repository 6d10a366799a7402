//===- RecipeTable.cpp - the qopt-ptq recipes, listed once ----------------===//

#include "quant-opt/Recipes/RecipeTable.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/JSON.h"

using namespace mlir::qopt;

llvm::ArrayRef<Recipe> mlir::qopt::getRecipes() {
  static const Recipe recipes[] = {
      {"w8", "w8-weight-only", "int", 8, "channel", 128, "none",
       "INT8 weights per output channel, float activations"},
      {"w8a8-static", "", "int", 8, "channel", 128, "static",
       "INT8 weights, INT8 activations with calibrated per-tensor ranges"},
      {"w8a8-dynamic", "", "int", 8, "channel", 128, "dynamic",
       "INT8 weights, INT8 activations quantized per token at run time"},
      {"w4", "w4-channel", "int", 4, "channel", 128, "none",
       "INT4 weights per output channel"},
      {"w4-g32", "", "int", 4, "group", 32, "none",
       "INT4 weights in groups of 32 input channels"},
      {"w4-g64", "", "int", 4, "group", 64, "none",
       "INT4 weights in groups of 64 input channels"},
      {"w4-g128", "", "int", 4, "group", 128, "none",
       "INT4 weights in groups of 128 input channels"},
      {"w3", "", "int", 3, "channel", 128, "none",
       "INT3 weights per output channel (4-bit container)"},
      {"w3-g64", "", "int", 3, "group", 64, "none",
       "INT3 weights in groups of 64 (4-bit container)"},
      {"w3-g128", "", "int", 3, "group", 128, "none",
       "INT3 weights in groups of 128 (4-bit container)"},
      {"w4a8", "", "int", 4, "channel", 128, "dynamic",
       "INT4 weights per channel, INT8 per-token activations"},
      {"w4a8-g32", "", "int", 4, "group", 32, "dynamic",
       "INT4 weights in groups of 32, INT8 per-token activations"},
      {"w4a8-g128", "", "int", 4, "group", 128, "dynamic",
       "INT4 weights in groups of 128, INT8 per-token activations"},
      {"fp16", "", "fp16", 16, "channel", 128, "none", "IEEE half weights"},
      {"bf16", "", "bf16", 16, "channel", 128, "none", "bfloat16 weights"},
      {"fp8-e4m3", "", "fp8-e4m3", 8, "channel", 128, "none",
       "FP8 E4M3 weights scaled per output channel"},
      {"fp8-e5m2", "", "fp8-e5m2", 8, "channel", 128, "none",
       "FP8 E5M2 weights scaled per output channel"},
      // The formats come per tensor from qopt-assign-precision; INT8 where
      // it assigns none.
      {"auto", "", "int", 8, "channel", 128, "none",
       "a format per tensor under size-mb, bits-per-weight or max-kl, "
       "measured on calibration data"},
  };
  return recipes;
}

const Recipe *mlir::qopt::lookupRecipe(llvm::StringRef name) {
  for (const Recipe &recipe : getRecipes())
    if (recipe.name == name || (!recipe.alias.empty() && recipe.alias == name))
      return &recipe;
  return nullptr;
}

std::string mlir::qopt::recipeNames(bool (*keep)(const Recipe &)) {
  std::string names;
  for (const Recipe &recipe : getRecipes()) {
    if (keep && !keep(recipe))
      continue;
    names += (names.empty() ? "" : ", ") + recipe.name.str();
  }
  return names;
}

llvm::StringRef mlir::qopt::recipeOptionHelp() {
  static const std::string help = [] {
    std::string text;
    for (const Recipe &recipe : getRecipes())
      text += (text.empty() ? "" : "; ") + recipe.name.str() + " (" +
              recipe.summary.str() + ")";
    return text;
  }();
  return help;
}

void mlir::qopt::printRecipes(llvm::raw_ostream &os, bool json) {
  if (!json) {
    for (const Recipe &recipe : getRecipes())
      os << llvm::left_justify(recipe.name, 14) << recipe.summary << "\n";
    return;
  }
  llvm::json::Array array;
  for (const Recipe &recipe : getRecipes())
    array.push_back(llvm::json::Object{
        {"name", recipe.name},
        {"alias", recipe.alias},
        {"format", recipe.format},
        {"bits", recipe.bits},
        {"granularity", recipe.granularity},
        {"group_size", recipe.groupSize},
        {"activations", recipe.activations},
        {"summary", recipe.summary},
    });
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(array))) << "\n";
}
