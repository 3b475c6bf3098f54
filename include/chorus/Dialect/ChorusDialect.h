//===- ChorusDialect.h - The chorus dialect --------------------*- C++ -*-===//

#ifndef CHORUS_DIALECT_CHORUSDIALECT_H
#define CHORUS_DIALECT_CHORUSDIALECT_H

#include "mlir/IR/Dialect.h"

#include "chorus/Dialect/ChorusOpsDialect.h.inc"

#endif // CHORUS_DIALECT_CHORUSDIALECT_H
