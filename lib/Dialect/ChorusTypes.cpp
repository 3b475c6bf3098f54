//===- ChorusTypes.cpp - Types and attributes of chorus -------------------===//

#include "chorus/Dialect/ChorusTypes.h"
#include "chorus/Dialect/ChorusDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace chorus;

#define GET_TYPEDEF_CLASSES
#include "chorus/Dialect/ChorusOpsTypes.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "chorus/Dialect/ChorusAttrs.cpp.inc"

void ChorusDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "chorus/Dialect/ChorusOpsTypes.cpp.inc"
      >();
}

void ChorusDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "chorus/Dialect/ChorusAttrs.cpp.inc"
      >();
}
