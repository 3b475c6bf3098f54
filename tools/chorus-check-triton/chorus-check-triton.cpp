//===- chorus-check-triton.cpp - Check a Triton model repository ----------===//
//
// Reads every <model>/config.pbtxt of a Triton model repository with
// Triton's schema (the part Chorus writes, lib/Deploy/
// triton_model_config.proto), checks names, data types and dims against the
// model's ONNX file and Triton's own rules, and prints each problem with
// its file. Exit status 1 when there is any.
//
//===----------------------------------------------------------------------===//

#include "chorus/Deploy/Deployment.h"
#include "chorus/Support/ToolOptions.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

using namespace chorus;

static llvm::cl::OptionCategory category("chorus-check-triton options");

static llvm::cl::opt<std::string>
    repository(llvm::cl::Positional, llvm::cl::Required,
               llvm::cl::desc("<model repository>"), llvm::cl::cat(category));

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  parseToolOptions(
      argc, argv, category,
      "chorus-check-triton: checks a Triton model repository of ONNX Runtime "
      "models (as chorus-plan --emit-triton writes): each config.pbtxt "
      "parses with Triton's model configuration schema; its inputs and "
      "outputs have the names, data types and dims of 1/model.onnx; "
      "Triton's rules hold (no batch dim listed when max_batch_size > 0, "
      "preferred batch sizes within max_batch_size, no instance groups on "
      "an ensemble, warmup samples that fit the inputs).\n");
  if (!llvm::sys::fs::is_directory(repository))
    return printToolError("chorus-check-triton",
                          "'" + repository + "' is not a folder");
  unsigned models = 0;
  std::vector<std::string> problems = checkTritonRepository(repository, models);
  for (const std::string &p : problems)
    llvm::errs() << "chorus-check-triton: error: " << p << "\n";
  if (!problems.empty())
    return 1;
  llvm::outs() << repository << ": " << models << " model"
               << (models == 1 ? "" : "s") << ", every configuration sound\n";
  return 0;
}
