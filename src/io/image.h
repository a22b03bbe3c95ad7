// One JPEG or PNG file, decoded through stb_image without trusting it: the file size is
// capped before reading, a corrupt file is an error naming it, sides are capped in
// io/stb_impl.cpp. What image folders (io/image_folder) and `xcept predict` read.
#pragma once

#include <string>
#include <vector>

namespace xcept {

struct DecodedImage {
  int width = 0, height = 0, channels = 0;  // after conversion and resizing
  int file_width = 0, file_height = 0;      // as stored
  std::vector<unsigned char> pixels;        // height x width x channels, row-major
};

// Converts to `channels` (1 gray, 3 RGB, 4 RGBA); resizes to height x width (stb's
// resampler, as image folders do) when both are > 0. Throws xcept::Error naming the file.
DecodedImage decode_image_file(const std::string& path, int channels, int height = 0,
                               int width = 0);

// Whether a file name has a .jpg, .jpeg or .png extension (any case).
bool is_image_file_name(const std::string& path);

}  // namespace xcept
