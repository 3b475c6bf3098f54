// RUN: chorus-opt %s --split-input-file --verify-diagnostics

// Tests that a weight_ref must name a chorus.weight.
func.func @f() {
  // expected-error @+1 {{'chorus.weight_ref' op '@nothing' does not reference a chorus.weight}}
  %0 = chorus.weight_ref @nothing : tensor<2xf32>
  return
}

// -----

// Tests that a weight_ref's type must equal the weight's.
chorus.weight @w : tensor<2xf32> digest "xxh3-128:0123456789abcdef0123456789abcdef" bytes 8 names ["w"]
func.func @f() {
  // expected-error @+1 {{result type 'tensor<3xf32>' does not match the type 'tensor<2xf32>' of weight @w}}
  %0 = chorus.weight_ref @w : tensor<3xf32>
  return
}

// -----

// Tests that the byte size must agree with the type.
// expected-error @+1 {{byte size 7 does not match 8 bytes of 'tensor<2xf32>'}}
chorus.weight @w : tensor<2xf32> digest "xxh3-128:0123456789abcdef0123456789abcdef" bytes 7 names ["w"]

// -----

// Tests that the digest has its fixed form.
// expected-error @+1 {{digest 'sha1:abc' must be 'xxh3-128:' and 32 lowercase hex digits}}
chorus.weight @w : tensor<2xf32> digest "sha1:abc" bytes 8 names ["w"]

// -----

// Tests that weights have static shapes.
// expected-error @+1 {{type 'tensor<?xf32>' must have a static shape}}
chorus.weight @w : tensor<?xf32> digest "xxh3-128:0123456789abcdef0123456789abcdef" bytes 8 names ["w"]

// -----

// Tests that a small value must have the weight's type.
// expected-error @+1 {{value of type 'tensor<2xi32>' does not match the weight type 'tensor<2xi64>'}}
chorus.weight @w : tensor<2xi64> digest "xxh3-128:0123456789abcdef0123456789abcdef" bytes 16 names ["w"] value dense<[1, 2]> : tensor<2xi32>

// -----

// Tests that a weight names its ONNX initializer.
// expected-error @+1 {{must name at least one ONNX initializer}}
chorus.weight @w : tensor<2xf32> digest "xxh3-128:0123456789abcdef0123456789abcdef" bytes 8 names []

// -----

// Tests that an op type is required.
func.func @f(%a: tensor<2xf32>) {
  // expected-error @+1 {{op_type must not be empty}}
  %0 = chorus.node ""(%a) : (tensor<2xf32>) -> tensor<2xf32>
  return
}

// -----

// Tests that ONNX attributes hold ONNX attribute kinds only.
func.func @f(%a: tensor<2xf32>) {
  // expected-error @+1 {{ONNX attribute 'axis' has a value of no ONNX attribute kind: 1 : i32}}
  %0 = chorus.node "Softmax"(%a) {axis = 1 : i32} : (tensor<2xf32>) -> tensor<2xf32>
  return
}

// -----

// Tests that a subgraph must end in a terminator.
func.func @f(%c: tensor<i1>, %a: tensor<2xf32>) {
  %0 = chorus.node "If"(%c) : (tensor<i1>) -> tensor<2xf32> "then_branch" {
    // expected-error @+1 {{block with no terminator}}
    %n = chorus.node "Neg"(%a) : (tensor<2xf32>) -> tensor<2xf32>
  } "else_branch" {
    chorus.yield %a : tensor<2xf32>
  }
  return
}

// -----

// Tests that graph names are unique.
func.func @f(%c: tensor<i1>, %a: tensor<2xf32>) {
  // expected-error @+1 {{graph 'body' appears twice}}
  %0 = chorus.node "X"(%c) : (tensor<i1>) -> tensor<2xf32> "body" {
    chorus.yield %a : tensor<2xf32>
  } "body" {
    chorus.yield %a : tensor<2xf32>
  }
  return
}

// -----

// Tests that chorus.yield only ends subgraphs and fused groups.
func.func @f(%a: tensor<2xf32>) {
  // expected-error @+1 {{'chorus.yield' op expects parent op to be one of 'chorus.node, chorus.fused'}}
  chorus.yield %a : tensor<2xf32>
}

// -----

// Tests that model metadata attributes are checked.
// expected-error @+1 {{attribute 'chorus.ir_version' must be an integer}}
func.func @f() attributes {chorus.ir_version = "8"} {
  return
}

// -----

// expected-error @+1 {{attribute 'chorus.opset_import' must be a dictionary from ONNX domain to opset version}}
func.func @f() attributes {chorus.opset_import = {ai.onnx = "17"}} {
  return
}

// -----

// expected-error @+1 {{unknown chorus attribute 'chorus.colour'}}
func.func @f() attributes {chorus.colour = 1} {
  return
}

// -----

// Tests that dim names match the rank of the value they name.
// expected-error @+1 {{attribute 'chorus.dim_params' has 1 entries but the value has type 'tensor<?x3xf32>'}}
func.func @f(%a: tensor<?x3xf32> {chorus.dim_params = ["N"]}) {
  return
}

// -----

// expected-error @+1 {{attribute 'chorus.name' must be a string}}
func.func @f(%a: tensor<3xf32> {chorus.name = 3}) {
  return
}

// -----

// Tests that the dims a file leaves open are dims of the value.
// expected-error @+1 {{attribute 'chorus.declared_dynamic' must be an ascending array of the value's dim indices}}
func.func @f(%a: tensor<2x3xf32> {chorus.declared_dynamic = array<i64: 2>}) {
  return
}

// -----

// Tests that a graph name cannot also be an ONNX attribute.
func.func @f(%c: tensor<i1>, %a: tensor<2xf32>) {
  // expected-error @+1 {{'body' is both a graph and an ONNX attribute}}
  %0 = chorus.node "X"(%c) {body = 1 : i64} : (tensor<i1>) -> tensor<2xf32> "body" {
    chorus.yield %a : tensor<2xf32>
  }
  return
}

// -----

// Tests that regions and graph names correspond (generic form).
func.func @f(%c: tensor<i1>) {
  // expected-error @+1 {{has 0 regions but 1 graph names}}
  "chorus.node"(%c) <{op_type = "If", onnx_attrs = {}, graph_names = ["then_branch"]}> : (tensor<i1>) -> ()
  return
}

// -----

// Tests that byte sizes are not negative.
// expected-error @+1 {{byte size must not be negative}}
chorus.weight @w : tensor<2x!chorus.string> digest "xxh3-128:0123456789abcdef0123456789abcdef" bytes -1 names ["w"]

// -----

// Tests that compute ids are integers on nodes only.
func.func @f(%a: tensor<2xf32>) {
  // expected-error @+1 {{attribute 'chorus.compute_id' belongs on chorus.node only}}
  %0 = chorus.none {chorus.compute_id = 1 : i64}
  return
}

// -----

func.func @f(%a: tensor<2xf32>) {
  // expected-error @+1 {{attribute 'chorus.compute_id' must be an integer}}
  %0 = chorus.node "Neg"(%a) attributes {chorus.compute_id = "x"} : (tensor<2xf32>) -> tensor<2xf32>
  return
}

// -----

// Tests that a group's body takes one argument per input.
func.func @f(%a: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'chorus.fused' op body has 2 arguments for 1 inputs}}
  %0 = "chorus.fused"(%a) ({
  ^bb0(%x: tensor<2xf32>, %y: tensor<2xf32>):
    %1 = chorus.node "Neg"(%x) : (tensor<2xf32>) -> tensor<2xf32>
    chorus.yield %1 : tensor<2xf32>
  }) {kind = "elementwise", rules = ["dominator"]} : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// Tests that a body argument has its input's type.
func.func @f(%a: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'chorus.fused' op body argument #0 has type 'tensor<3xf32>' but input #0 has type 'tensor<2xf32>'}}
  %0 = "chorus.fused"(%a) ({
  ^bb0(%x: tensor<3xf32>):
    %1 = chorus.node "Neg"(%x) : (tensor<3xf32>) -> tensor<2xf32>
    chorus.yield %1 : tensor<2xf32>
  }) {kind = "elementwise", rules = ["dominator"]} : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// Tests that a group yields values of its result types.
func.func @f(%a: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'chorus.fused' op yields 2 values of types ('tensor<2xf32>', 'tensor<2xf32>') but has results of types ('tensor<2xf32>')}}
  %0 = chorus.fused "elementwise" ["dominator"] (%x = %a) : (tensor<2xf32>) -> tensor<2xf32> {
    %1 = chorus.node "Neg"(%x) : (tensor<2xf32>) -> tensor<2xf32>
    chorus.yield %1, %1 : tensor<2xf32>, tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

// Tests that a group's kind is a fusion kind.
func.func @f(%a: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'chorus.fused' op kind 'pointwise' is not a fusion kind}}
  %0 = chorus.fused "pointwise" ["dominator"] (%x = %a) : (tensor<2xf32>) -> tensor<2xf32> {
    %1 = chorus.node "Neg"(%x) : (tensor<2xf32>) -> tensor<2xf32>
    chorus.yield %1 : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

// Tests that a group holds nodes only.
func.func @f(%a: tensor<2xf32>) -> tensor<2xf32> {
  %0 = chorus.fused "elementwise" ["dominator"] (%x = %a) : (tensor<2xf32>) -> tensor<2xf32> {
    // expected-error @+1 {{'chorus.none' op cannot be in a chorus.fused group: a group holds chorus.node ops only}}
    %n = chorus.none
    %1 = chorus.node "Neg"(%x) : (tensor<2xf32>) -> tensor<2xf32>
    chorus.yield %1 : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

// Tests that a node with subgraphs cannot be in a group.
func.func @f(%a: tensor<2xf32>, %c: tensor<i1>) -> tensor<2xf32> {
  %0 = chorus.fused "opaque" ["dominator"] (%x = %a, %y = %c) : (tensor<2xf32>, tensor<i1>) -> tensor<2xf32> {
    // expected-error @+1 {{'chorus.node' op 'If' has subgraphs and cannot be in a chorus.fused group}}
    %1 = chorus.node "If"(%y) : (tensor<i1>) -> tensor<2xf32> "then_branch" {
      chorus.yield %x : tensor<2xf32>
    } "else_branch" {
      chorus.yield %x : tensor<2xf32>
    }
    chorus.yield %1 : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

// Tests that a group holds at least one node.
func.func @f(%a: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'chorus.fused' op must hold at least one node}}
  %0 = chorus.fused "elementwise" [] (%x = %a) : (tensor<2xf32>) -> tensor<2xf32> {
    chorus.yield %x : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

// Tests that a group reads only its inputs: a value of the model used
// inside without being bound is an error (the region is isolated).
func.func @f(%a: tensor<2xf32>, %b: tensor<2xf32>) -> tensor<2xf32> {
  // expected-note @+1 {{required by region isolation constraints}}
  %0 = chorus.fused "elementwise" ["dominator"] (%x = %a) : (tensor<2xf32>) -> tensor<2xf32> {
    // expected-error @+1 {{'chorus.node' op using value defined outside the region}}
    %1 = chorus.node "Add"(%x, %b) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    chorus.yield %1 : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

// Tests that a value inside a group is not visible outside unless yielded.
func.func @f(%a: tensor<2xf32>) -> tensor<2xf32> {
  %0 = chorus.fused "elementwise" ["dominator"] (%x = %a) : (tensor<2xf32>) -> tensor<2xf32> {
    %1 = chorus.node "Neg"(%x) : (tensor<2xf32>) -> tensor<2xf32>
    %2 = chorus.node "Abs"(%1) : (tensor<2xf32>) -> tensor<2xf32>
    chorus.yield %2 : tensor<2xf32>
  }
  // expected-error @+1 {{use of undeclared SSA value name}}
  return %1 : tensor<2xf32>
}

// -----

// Tests that a group's body is acyclic: a node cannot read a value defined
// after it.
func.func @f(%a: tensor<2xf32>) -> tensor<2xf32> {
  %0 = chorus.fused "elementwise" ["dominator"] (%x = %a) : (tensor<2xf32>) -> tensor<2xf32> {
    // expected-error @+1 {{operand #1 does not dominate this use}}
    %1 = chorus.node "Add"(%x, %2) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    // expected-note @+1 {{operand defined here}}
    %2 = chorus.node "Neg"(%1) : (tensor<2xf32>) -> tensor<2xf32>
    chorus.yield %2 : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}


// -----

// Tests that the type list of a group names one type per bound input.
func.func @f(%a: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{the type lists 2 inputs but 1 are bound}}
  %0 = chorus.fused "elementwise" ["dominator"] (%x = %a) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32> {
    chorus.yield %x : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}
