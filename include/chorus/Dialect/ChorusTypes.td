//===- ChorusTypes.td - Types of the chorus dialect --------*- tablegen -*-===//

#ifndef CHORUS_DIALECT_CHORUSTYPES_TD
#define CHORUS_DIALECT_CHORUSTYPES_TD

include "chorus/Dialect/ChorusDialect.td"
include "mlir/IR/AttrTypeBase.td"

class Chorus_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<Chorus_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

def Chorus_StringType : Chorus_Type<"String", "string"> {
  let summary = "ONNX string element";
  let description = [{
    The element type of ONNX string tensors, e.g.
    `tensor<3x!chorus.string>`. Its storage size is not fixed.
  }];
}

def Chorus_SequenceType : Chorus_Type<"Sequence", "seq"> {
  let summary = "ONNX sequence of values";
  let description = [{
    An ONNX `sequence_type`: `!chorus.seq<tensor<?x4xf32>>`.
  }];
  let parameters = (ins "::mlir::Type":$elementType);
  let assemblyFormat = "`<` $elementType `>`";
}

def Chorus_OptionalType : Chorus_Type<"Optional", "opt"> {
  let summary = "ONNX optional value";
  let description = [{
    An ONNX `optional_type`: `!chorus.opt<tensor<2xf32>>`.
  }];
  let parameters = (ins "::mlir::Type":$elementType);
  let assemblyFormat = "`<` $elementType `>`";
}

def Chorus_MapType : Chorus_Type<"Map", "map"> {
  let summary = "ONNX map from keys to values";
  let description = [{
    An ONNX `map_type`: `!chorus.map<i64, f32>` or
    `!chorus.map<!chorus.string, tensor<f32>>`.
  }];
  let parameters = (ins "::mlir::Type":$keyType, "::mlir::Type":$valueType);
  let assemblyFormat = "`<` $keyType `,` $valueType `>`";
}

def Chorus_SparseType : Chorus_Type<"Sparse", "sparse"> {
  let summary = "ONNX sparse tensor";
  let description = [{
    An ONNX `sparse_tensor_type`, holding the dense tensor type it stands
    for: `!chorus.sparse<tensor<100x100xf32>>`.
  }];
  let parameters = (ins "::mlir::Type":$tensorType);
  let assemblyFormat = "`<` $tensorType `>`";
}

def Chorus_UnknownType : Chorus_Type<"Unknown", "unknown"> {
  let summary = "a value whose ONNX type is not known";
  let description = [{
    Given to values for which neither the file nor shape inference provides
    a type (for instance outputs of operators from unknown domains).
  }];
}

#endif // CHORUS_DIALECT_CHORUSTYPES_TD
