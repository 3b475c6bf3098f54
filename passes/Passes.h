//===- Passes.h - Chorus passes --------------------------------*- C++ -*-===//

#ifndef CHORUS_PASSES_PASSES_H
#define CHORUS_PASSES_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace chorus {

/// How a reporting pass prints (its `format` option).
enum class ReportFormat { Table, Json, Csv };

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

#define GEN_PASS_DECL
#include "passes/TestPasses.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/TestPasses.h.inc"

} // namespace chorus

#endif // CHORUS_PASSES_PASSES_H
