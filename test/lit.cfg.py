# -*- Python -*- lit configuration of the chorus suite.

import os

import lit.formats
from lit.llvm import llvm_config

config.name = "CHORUS"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".onnxtxt", ".test"]
config.excludes = ["Inputs", "corpus", "regressions", "CMakeLists.txt",
                   "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
# test/.lit_test_times.txt holds the times of the longest tests (those over
# 10 s in a plain build on a 2-vCPU VM): lit starts the longest first, in a
# fresh clone too (it reads the file here until the build folder has one of
# its own), so that none of them starts last and sets the wall time.
config.test_exec_root = os.path.join(config.chorus_obj_root, "test")

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.chorus_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(config.chorus_tools,
                                   [config.chorus_tools_dir])

config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%chorus_tools_dir", config.chorus_tools_dir))

# Under the sanitizer build a sanitizer report must never pass for the exit
# status 1 of a clean error: give reports their own exit codes.
# allow_user_poisoning=0: LLVM headers compiled into our instrumented code
# poison allocator memory that Debian's uninstrumented MLIR library then
# writes; that mix is not a bug, so manual poisoning is turned off.
config.environment["ASAN_OPTIONS"] = "exitcode=86:detect_leaks=1:allow_user_poisoning=0"
config.environment["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1:exitcode=87"
# The sanitizer build runs the corpus tests on every fourth model (sorted by
# path, the same ones every time): each model imports and plans three to four
# times slower under ASan + UBSan, the plain build runs every model, and the
# same code paths are taken by a quarter of the corpus (docs/Robustness.md).
sanitized = getattr(config, "chorus_sanitize", "").upper() in ("ON", "1",
                                                                "TRUE", "YES")
if sanitized:
    config.available_features.add("sanitized")
config.substitutions.append(("%corpus_every", "4" if sanitized else "1"))
# ONNX Runtime's Linux builds start a telemetry client in every process
# that runs a model unless this is set (a log file in /tmp, a device id
# under ~/.cache); the tests that run it directly must leave nothing behind.
# chorus-calibrate sets it for its own processes, which
# chorus-calibrate-measure.test checks with it set to 0.
config.environment["ORT_DISABLE_TELEMETRY"] = "1"
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

# onnxruntime-web, whose operator tables lib/Target/opsupport/ is generated
# from (utils/op-support-from-ort-web.py), when bootstrap installed it.
if config.models_dir and os.path.isfile(
        os.path.join(config.models_dir, "onnxruntime-node", "package.json")):
    config.available_features.add("ort-node")
    config.substitutions.append(("%ort_modules", config.models_dir))
if config.models_dir and os.path.isfile(
        os.path.join(config.models_dir, "onnxruntime-web", "package.json")):
    config.available_features.add("ort-web")
    config.substitutions.append(("%npm_modules", config.models_dir))

# Debian's chromium and playwright-core (npm) for the browser probe, and
# Debian's firefox-esr, which the probe and the browser bench start without
# playwright.
if os.path.exists("/usr/bin/chromium"):
    config.available_features.add("chromium")
if os.path.exists("/usr/bin/firefox-esr"):
    config.available_features.add("firefox")
if config.models_dir and os.path.isdir(
        os.path.join(config.models_dir, "playwright-core")):
    config.available_features.add("playwright")

# The interval traces of ../shared/data/intervals (MiniMalloc's format),
# when the workspace has them.
intervals = os.path.join(os.path.dirname(config.test_source_root), "..",
                         "shared", "data", "intervals")
if os.path.isdir(intervals):
    config.available_features.add("intervals-data")
    config.substitutions.append(("%intervals", intervals))

# Triton's model configuration schema as Chorus writes it: protoc's
# text-format parser reads a config.pbtxt with it (and fails on any field
# or value the schema does not have).
config.substitutions.append(
    ("%triton-encode",
     "protoc --encode=inference.ModelConfig -I%s %s" % (
         os.path.join(os.path.dirname(config.test_source_root), "lib", "Deploy"),
         os.path.join(os.path.dirname(config.test_source_root), "lib", "Deploy",
                      "triton_model_config.proto"))))
config.substitutions.append(
    ("%onnx-decode",
     "protoc --decode=onnx.ModelProto -I/usr/include /usr/include/onnx/onnx.proto"))
