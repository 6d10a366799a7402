// Injected violation: the dialect includes a recipe (a layer above).
#include "quant-opt/Dialect/QOpt/IR/QOptOps.h"
#include "quant-opt/Recipes/PTQ.h"
