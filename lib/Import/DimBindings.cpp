//===- DimBindings.cpp - --dim bindings of symbolic ONNX dims -------------===//

#include "chorus/Import/DimBindings.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Path.h"

using namespace chorus;
using llvm::StringRef;

static llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Expected<DimBinding> chorus::parseDimBinding(StringRef spec) {
  auto fail = [&](const llvm::Twine &why) {
    return error("invalid --dim '" + spec + "': " + why);
  };
  auto [lhs, valueText] = spec.rsplit('=');
  if (valueText.data() == nullptr || lhs.empty() || valueText.empty())
    return fail("expected NAME=VALUE or MODEL:NAME=VALUE");
  DimBinding binding;
  StringRef name = lhs;
  if (auto colon = lhs.rfind(':'); colon != StringRef::npos) {
    binding.model = lhs.substr(0, colon).str();
    name = lhs.substr(colon + 1);
    if (binding.model.empty())
      return fail("the model before ':' is empty");
  }
  if (name.empty())
    return fail("the dim name is empty");
  binding.name = name.str();
  if (valueText.getAsInteger(10, binding.value) || binding.value < 0)
    return fail("'" + valueText + "' is not a non-negative integer");
  return binding;
}

llvm::Expected<std::vector<DimBinding>>
chorus::parseDimBindings(llvm::ArrayRef<std::string> specs) {
  std::vector<DimBinding> bindings;
  for (const std::string &spec : specs) {
    llvm::Expected<DimBinding> binding = parseDimBinding(spec);
    if (!binding)
      return binding.takeError();
    bindings.push_back(std::move(*binding));
  }
  return bindings;
}

std::string chorus::sanitizeSymbol(StringRef name) {
  std::string result;
  for (char c : name)
    result.push_back(
        llvm::isAlnum(c) || c == '_' || c == '.' || c == '$' ? c : '_');
  if (result.empty() || llvm::isDigit(result.front()))
    result.insert(result.begin(), '_');
  return result;
}

bool chorus::namesModel(StringRef name, StringRef path) {
  StringRef stem = llvm::sys::path::stem(path);
  return name == path || name == stem || name == sanitizeSymbol(stem);
}

llvm::Error
chorus::checkDimBindings(llvm::ArrayRef<DimBinding> bindings,
                         llvm::ArrayRef<std::string> paths,
                         llvm::ArrayRef<const llvm::StringSet<> *> dimParams) {
  for (const DimBinding &binding : bindings) {
    bool modelFound = binding.model.empty();
    bool dimFound = false;
    for (auto [path, dims] : llvm::zip(paths, dimParams)) {
      bool applies = binding.model.empty() || namesModel(binding.model, path);
      modelFound |= applies;
      dimFound |= applies && dims->contains(binding.name);
    }
    std::string spec = (binding.model.empty() ? "" : binding.model + ":") +
                       binding.name + "=" + std::to_string(binding.value);
    if (!modelFound)
      return error("--dim " + spec + " names model '" + binding.model +
                   "', which is not among the inputs");
    if (!dimFound)
      return error("--dim " + spec + " matches no symbolic dim of " +
                   (binding.model.empty() ? "any model"
                                          : "model '" + binding.model + "'"));
  }
  return llvm::Error::success();
}
