# -*- Python -*- lit configuration of the chorus suite.

import os

import lit.formats
from lit.llvm import llvm_config

config.name = "CHORUS"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".onnxtxt", ".test"]
config.excludes = ["Inputs", "corpus", "CMakeLists.txt", "lit.cfg.py",
                   "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.chorus_obj_root, "test")

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.chorus_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(
    ["chorus-import", "chorus-opt"], [config.chorus_tools_dir])

config.substitutions.append(("%python", config.python_executable))
# Encodes an ONNX ModelProto written in protobuf text format into a binary
# .onnx file, for the cases ONNX's own text syntax cannot express.
config.substitutions.append(
    ("%onnx-encode",
     "protoc --encode=onnx.ModelProto -I/usr/include /usr/include/onnx/onnx.proto"))

if os.path.isdir(config.onnx_testdata):
    config.available_features.add("onnx-testdata")
    config.substitutions.append(("%onnx_testdata", config.onnx_testdata))

ocr = os.path.join(config.models_dir, "@gutenye", "ocr-models", "assets")
if config.models_dir and os.path.isdir(ocr):
    config.available_features.add("paddleocr")
    config.substitutions.append(("%paddleocr", ocr))
