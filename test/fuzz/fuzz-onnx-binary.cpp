//===- fuzz-onnx-binary.cpp - Fuzz the binary ONNX importer ---------------===//

#include "FuzzSupport.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzzImport(data, size, chorus::OnnxFormat::Binary);
}
