//===- TestOpTable.cpp - Report ops without an op table entry -------------===//

#include "passes/Passes.h"

#include "chorus/Analysis/OpTable.h"

#include "llvm/Support/raw_ostream.h"

#include <map>
#include <set>

#define DEBUG_TYPE "chorus-test-op-table"

namespace chorus {
#define GEN_PASS_DEF_TESTOPTABLEPASS
#include "passes/TestPasses.h.inc"
} // namespace chorus

using namespace mlir;
using namespace chorus;

namespace {

struct TestOpTablePass
    : public chorus::impl::TestOpTablePassBase<TestOpTablePass> {
  void runOnOperation() override {
    std::map<std::pair<std::string, std::string>, unsigned> unknown;
    std::set<std::pair<std::string, std::string>> all;
    unsigned nodes = 0;
    getOperation().walk([&](NodeOp node) {
      ++nodes;
      std::pair<std::string, std::string> key = {node.getDomain().str(),
                                                 node.getOpType().str()};
      all.insert(key);
      if (!isKnownOp(node))
        ++unknown[key];
    });
    llvm::raw_ostream &os = llvm::outs();
    for (const auto &[key, count] : unknown)
      os << "unknown op '" << key.second << "' (domain '" << key.first
         << "'): " << count << " nodes\n";
    os << "op table: " << nodes << " nodes, " << all.size() << " op types, "
       << unknown.size() << " unknown\n";
  }
};

} // namespace
