//===- ChorusDialect.td - The chorus dialect ---------------*- tablegen -*-===//

#ifndef CHORUS_DIALECT_CHORUSDIALECT_TD
#define CHORUS_DIALECT_CHORUSDIALECT_TD

include "mlir/IR/OpBase.td"

def Chorus_Dialect : Dialect {
  let name = "chorus";
  let cppNamespace = "::chorus";
  let summary = "ONNX models as generic nodes over module-level weights";
  let description = [{
    The `chorus` dialect holds one or more ONNX models in one module so that
    analyses can look across models. Every model is a `func.func`; every ONNX
    node is a generic `chorus.node` keyed by its op type, so no ONNX operator
    is ever refused for being unknown. Initializers are module-level
    `chorus.weight` symbols carrying a content digest and a byte size instead
    of their payload; models read them with `chorus.weight_ref`.

    Model metadata lives in discardable attributes of the `func.func`:
    `chorus.source`, `chorus.ir_version`, `chorus.opset_import`,
    `chorus.producer`, `chorus.graph_name`; arguments and results carry
    `chorus.name` (the ONNX value name) and, for symbolic dims,
    `chorus.dim_params`; inputs whose file leaves dims open carry
    `chorus.declared_dynamic` (their indices, bound or not).
  }];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
  let extraClassDeclaration = [{
    void registerTypes();
    void registerAttributes();
  }];
}

class Chorus_Op<string mnemonic, list<Trait> traits = []>
    : Op<Chorus_Dialect, mnemonic, traits>;

#endif // CHORUS_DIALECT_CHORUSDIALECT_TD
