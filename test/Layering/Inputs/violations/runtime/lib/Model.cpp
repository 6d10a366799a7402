// Injected violation: the runtime includes MLIR.
#include "mlir/IR/Builders.h"
