//===- CalibrationModels.h - Models chorus-calibrate --measure runs -*- C++
//-*-===//

#ifndef CHORUS_TOOLS_CALIBRATIONMODELS_H
#define CHORUS_TOOLS_CALIBRATIONMODELS_H

#include <cstdint>
#include <string>
#include <vector>

namespace chorus {

struct CalibrationModel {
  std::string name;
  std::vector<int64_t> inputShape;
  /// The serialized ONNX model.
  std::string bytes;
  /// The bytes of its weights (initializers).
  double weightBytes = 0;
};

/// The generated calibration models, the same on every call.
std::vector<CalibrationModel> generateCalibrationModels();

/// A fixed model timed in every calibration process beside the model
/// measured there: how fast the machine ran at that moment.
CalibrationModel generateSpeedReference();

} // namespace chorus

#endif
