//===- DimBindings.cpp - --dim bindings of symbolic ONNX dims -------------===//

#include "chorus/Import/DimBindings.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Path.h"

#include <cmath>

using namespace chorus;
using llvm::StringRef;

static llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Parses every spec with `parse`; the first bad one is the error.
template <typename T>
static llvm::Expected<std::vector<T>>
parseEach(llvm::ArrayRef<std::string> specs,
          llvm::Expected<T> (*parse)(StringRef)) {
  std::vector<T> parsed;
  for (const std::string &spec : specs) {
    llvm::Expected<T> one = parse(spec);
    if (!one)
      return one.takeError();
    parsed.push_back(std::move(*one));
  }
  return parsed;
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
  return parseEach<DimBinding>(specs, parseDimBinding);
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

llvm::Expected<InputShape> chorus::parseInputShape(StringRef spec) {
  auto fail = [&](const llvm::Twine &why) {
    return error("invalid --input-shape '" + spec + "': " + why);
  };
  auto [target, shapeText] = spec.rsplit('=');
  if (shapeText.data() == nullptr || target.empty())
    return fail("expected INPUT=D0xD1x... or MODEL:INPUT=D0xD1x...");
  InputShape shape;
  shape.target = target.str();
  shape.spec = spec.str();
  if (shapeText == "scalar")
    return shape;
  if (shapeText.empty())
    return fail("the shape is empty (write 'scalar' for a 0-D input)");
  llvm::SmallVector<StringRef> parts;
  shapeText.split(parts, 'x');
  for (StringRef part : parts) {
    int64_t dim;
    if (part.getAsInteger(10, dim) || dim < 0)
      return fail("'" + part + "' is not a non-negative integer dim");
    shape.dims.push_back(dim);
  }
  return shape;
}

llvm::Expected<std::vector<InputShape>>
chorus::parseInputShapes(llvm::ArrayRef<std::string> specs) {
  return parseEach<InputShape>(specs, parseInputShape);
}

bool chorus::inputShapeApplies(const InputShape &shape, StringRef input,
                               StringRef path) {
  StringRef target = shape.target;
  if (target == input)
    return true;
  for (size_t colon = target.find(':'); colon != StringRef::npos;
       colon = target.find(':', colon + 1))
    if (target.substr(colon + 1) == input &&
        namesModel(target.substr(0, colon), path))
      return true;
  return false;
}

llvm::Error chorus::checkInputShapes(
    llvm::ArrayRef<InputShape> shapes, llvm::ArrayRef<std::string> paths,
    llvm::ArrayRef<const std::vector<std::string> *> inputs) {
  for (const InputShape &shape : shapes) {
    bool found = false;
    std::vector<std::string> known;
    for (auto [path, names] : llvm::zip(paths, inputs))
      for (const std::string &name : *names) {
        found |= inputShapeApplies(shape, name, path);
        known.push_back(paths.size() > 1
                            ? llvm::sys::path::stem(path).str() + ":" + name
                            : name);
      }
    if (!found)
      return error("--input-shape " + shape.spec +
                   " matches no input of the models (inputs: " +
                   llvm::join(known, ", ") + ")");
  }
  return llvm::Error::success();
}

std::string chorus::suggestInputShape(StringRef path, StringRef input,
                                      llvm::ArrayRef<int64_t> dims) {
  std::string text = "--input-shape " + llvm::sys::path::stem(path).str() +
                     ":" + input.str() + "=";
  if (dims.empty())
    return text + "scalar";
  for (auto [index, dim] : llvm::enumerate(dims)) {
    if (index)
      text += "x";
    text += dim < 0 ? "?" : std::to_string(dim);
  }
  return text;
}

llvm::Expected<InputValue> chorus::parseInputValue(StringRef spec) {
  auto fail = [&](const llvm::Twine &why) {
    return error("invalid --input-value '" + spec + "': " + why);
  };
  auto [target, valuesText] = spec.rsplit('=');
  if (valuesText.data() == nullptr || target.empty() || valuesText.empty())
    return fail("expected INPUT=V[,V...] or MODEL:INPUT=V[,V...]");
  InputValue value;
  value.target = target.str();
  value.spec = spec.str();
  llvm::SmallVector<StringRef> parts;
  valuesText.split(parts, ',');
  for (StringRef part : parts) {
    double v;
    if (part.trim().getAsDouble(v) || !std::isfinite(v))
      return fail("'" + part + "' is not a finite number");
    value.values.push_back(v);
  }
  return value;
}

llvm::Expected<std::vector<InputValue>>
chorus::parseInputValues(llvm::ArrayRef<std::string> specs) {
  return parseEach<InputValue>(specs, parseInputValue);
}

llvm::Expected<TripCount> chorus::parseTripCount(StringRef spec) {
  auto fail = [&](const llvm::Twine &why) {
    return error("invalid --trip-count '" + spec + "': " + why);
  };
  auto [lhs, countText] = spec.rsplit('=');
  if (countText.data() == nullptr || lhs.empty() || countText.empty())
    return fail("expected NODE=N or MODEL:NODE=N (NODE: the Loop node's "
                "name)");
  TripCount count;
  count.spec = spec.str();
  count.node = lhs.str();
  if (countText.getAsInteger(10, count.count) || count.count < 0)
    return fail("'" + countText + "' is not a non-negative integer");
  return count;
}

llvm::Expected<std::vector<TripCount>>
chorus::parseTripCounts(llvm::ArrayRef<std::string> specs) {
  return parseEach<TripCount>(specs, parseTripCount);
}

llvm::Error chorus::checkTripCounts(
    llvm::ArrayRef<TripCount> counts, llvm::ArrayRef<std::string> paths,
    llvm::ArrayRef<const std::vector<std::string> *> loops) {
  for (const TripCount &count : counts) {
    bool found = false;
    std::vector<std::string> known;
    for (auto [path, names] : llvm::zip(paths, loops))
      for (const std::string &name : *names) {
        InputShape asTarget{count.node, {}, count.spec};
        found |= inputShapeApplies(asTarget, name, path);
        known.push_back("'" + name + "'");
      }
    if (!found)
      return error(
          "--trip-count " + count.spec + " names no Loop node of the models" +
          (known.empty() ? std::string(" (they have none)")
                         : " (Loop nodes: " + llvm::join(known, ", ") + ")"));
  }
  return llvm::Error::success();
}
