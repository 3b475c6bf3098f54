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
  /// Co-runs and other thread counts are measured in the first round
  /// only, and the second session of the resident-set readings is the
  /// profiled one: its sessions take seconds to create (weights of 32 MiB
  /// or more) or its runs long (large activations), and the other rounds
  /// repeat what places it in those fits at a cost of minutes in all.
  bool scalingOnce = false;
};

/// The generated calibration models, the same on every call. Without
/// `payloads`, only their names, shapes and weight sizes (`bytes` empty):
/// what fitting again to measurements kept on disk needs.
std::vector<CalibrationModel> generateCalibrationModels(bool payloads = true);

/// The speed reference's name, recorded with every time of it
/// (runtime.speed_reference): a time of one reference does not bring
/// another to pace. The first reference, which targets that record no
/// name were measured with, was "speed_reference".
inline constexpr const char *kSpeedReferenceName = "speed_reference_pooled";
inline constexpr const char *kFirstSpeedReferenceName = "speed_reference";

/// A fixed model timed in every calibration process beside the model
/// measured there: how fast the machine ran at that moment.
CalibrationModel generateSpeedReference();

} // namespace chorus

#endif
