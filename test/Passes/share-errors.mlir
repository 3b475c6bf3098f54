// RUN: chorus-opt %s --chorus-share=same-input=a:nope=b:x --verify-diagnostics -o /dev/null
// RUN: chorus-opt %s --chorus-print-sharing=same-input=a:nope=b:x --verify-diagnostics -o /dev/null
// RUN: not chorus-opt %s --chorus-share=same-input=a:x=b:y 2>&1 | FileCheck %s --check-prefix=TYPES
// RUN: not chorus-opt %s --chorus-share=same-input=a-x-b 2>&1 | FileCheck %s --check-prefix=SPEC
// RUN: not chorus-opt %s --chorus-print-sharing=format=xml 2>&1 | FileCheck %s --check-prefix=FORMAT

// Tests that a same-input naming a missing input, pairing inputs of
// different types, or malformed, and an unknown report format, are errors.
// TYPES: error: --same-input a:x=b:y pairs inputs of different types 'tensor<2xf32>' and 'tensor<3xf32>'
// SPEC: error: invalid --same-input 'a-x-b': expected MODEL:INPUT=MODEL:INPUT
// FORMAT: chorus-opt: for the --format option: Cannot find option named 'xml'!

// expected-error @+1 {{--same-input a:nope=b:x: no model input 'a:nope'}}
module {
  func.func @a(%x: tensor<2xf32> {chorus.name = "x"}) {
    return
  }
  func.func @b(%x: tensor<2xf32> {chorus.name = "x"}, %y: tensor<3xf32> {chorus.name = "y"}) {
    return
  }
}
