//===- ChorusTypes.h - Types and attributes of chorus ----------*- C++ -*-===//

#ifndef CHORUS_DIALECT_CHORUSTYPES_H
#define CHORUS_DIALECT_CHORUSTYPES_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

#define GET_TYPEDEF_CLASSES
#include "chorus/Dialect/ChorusOpsTypes.h.inc"

#define GET_ATTRDEF_CLASSES
#include "chorus/Dialect/ChorusAttrs.h.inc"

#endif // CHORUS_DIALECT_CHORUSTYPES_H
