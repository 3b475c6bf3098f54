// RUN: chorus-opt %s --chorus-fuse=print=true -o /dev/null | FileCheck %s --check-prefix=PRINT
// RUN: not chorus-opt %s --chorus-fuse=rules=conv-bn,conv-relu -o /dev/null 2>&1 | FileCheck %s --check-prefix=RULE --implicit-check-not="see current operation"
// RUN: not chorus-opt %s --chorus-fuse=max-group-size=0 -o /dev/null 2>&1 | FileCheck %s --check-prefix=SIZE --implicit-check-not="see current operation"

// Tests the per-model report: nodes before, kernels after (two groups and
// the opaque TopK), and the groups per rule; and the option errors.
// PRINT: fusion @m: 7 nodes, 7 kernels -> 3 kernels (2 groups of 6 nodes); conv-bn 1; conv-activation 1; dominator 2
// RULE: error: chorus-fuse: unknown rule 'conv-relu'; the rules are conv-bn conv-add-relu conv-activation matmul-add gelu layer-norm attention dominator
// SIZE: error: chorus-fuse: max-group-size must be at least 1

!x = tensor<1x3x8x8xf32>
!w = tensor<4x3x3x3xf32>
!y = tensor<1x4x6x6xf32>
!c = tensor<4xf32>
!k = tensor<1xi64>
!t = tensor<1x4x6x1xf32>
!i = tensor<1x4x6x1xi64>
chorus.weight @w : !w digest "xxh3-128:00000000000000000000000000000001" bytes 432 names ["w"]
chorus.weight @c : !c digest "xxh3-128:00000000000000000000000000000002" bytes 16 names ["c"]
chorus.weight @k : !k digest "xxh3-128:00000000000000000000000000000003" bytes 8 names ["k"]
func.func @m(%x: !x) -> (!t, !i) {
  %w = chorus.weight_ref @w : !w
  %c = chorus.weight_ref @c : !c
  %k = chorus.weight_ref @k : !k
  %0 = chorus.node "Conv"(%x, %w) : (!x, !w) -> !y
  %1 = chorus.node "BatchNormalization"(%0, %c, %c, %c, %c) : (!y, !c, !c, !c, !c) -> !y
  %2 = chorus.node "Relu"(%1) : (!y) -> !y
  %3 = chorus.node "Sigmoid"(%2) : (!y) -> !y
  %4:2 = chorus.node "TopK"(%3, %k) : (!y, !k) -> (!t, !i)
  %5 = chorus.node "Neg"(%4#0) : (!t) -> !t
  %6 = chorus.node "Abs"(%5) : (!t) -> !t
  return %6, %4#1 : !t, !i
}
