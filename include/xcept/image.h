// Images as model inputs: a JPEG or PNG decoded to floats in [0, 1] (each 8-bit value
// v as v / 255), converted to the channels a model takes (gray, RGB, RGBA) and resized
// to its input size (stb's resampler) or checked against it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "xcept/api.h"
#include "xcept/model.h"

namespace xcept {

struct Image {
  int64_t height = 0, width = 0, channels = 0;
  std::vector<float> pixels;  // height x width x channels (HWC), in [0, 1]
  int64_t file_height = 0, file_width = 0;  // before resizing
};

// channels: 1, 3 or 4; height and width > 0 resize. Throws xcept::Error naming the file
// when it cannot be read or decoded.
XCEPT_API Image load_image(const std::string& path, int channels, int height = 0, int width = 0);

// One image as input of `model` (a 4-D image input): its channels, its size (resized
// unless `resize` is false: then a different size is an error naming both), its layout.
// Pixels in [0, 1]; the model applies its own normalization.
XCEPT_API std::vector<float> image_input(const Model& model, const std::string& path,
                                         bool resize = true);

}  // namespace xcept
