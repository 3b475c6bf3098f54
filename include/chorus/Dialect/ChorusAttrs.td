//===- ChorusAttrs.td - Attributes of the chorus dialect ---*- tablegen -*-===//

#ifndef CHORUS_DIALECT_CHORUSATTRS_TD
#define CHORUS_DIALECT_CHORUSATTRS_TD

include "chorus/Dialect/ChorusDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

def Chorus_ElidedTensorAttr : AttrDef<Chorus_Dialect, "ElidedTensor"> {
  let mnemonic = "elided";
  let summary = "a tensor attribute kept only as type and content digest";
  let description = [{
    An ONNX TENSOR attribute too large to print (more than 1024 elements),
    or of a kind without a builtin attribute. It keeps the type and the
    content digest, which is enough for sharing detection and cost:

    ```mlir
    #chorus.elided<tensor<4096xf32>, "xxh3-128:0123456789abcdef0123456789abcdef">
    ```
  }];
  let parameters = (ins "::mlir::Type":$type, StringRefParameter<>:$digest);
  let assemblyFormat = "`<` $type `,` $digest `>`";
}

#endif // CHORUS_DIALECT_CHORUSATTRS_TD
