#include "io/image.h"

#include <stb_image.h>
#include <stb_image_resize.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>

#include "core/error.h"

namespace xcept {

namespace {

// Bigger than any sane compressed JPEG/PNG; keeps the size inside stb's int length.
constexpr int64_t kMaxImageFileBytes = int64_t{1} << 28;

struct StbFree {
  void operator()(unsigned char* p) const { stbi_image_free(p); }
};
using StbPixels = std::unique_ptr<unsigned char, StbFree>;

std::vector<unsigned char> read_image_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) fail("{}: cannot open for reading", path);
  int64_t size = static_cast<int64_t>(in.tellg());
  if (size < 0) fail("{}: cannot read file size", path);
  if (size > kMaxImageFileBytes)
    fail("{}: {} bytes, more than the limit of {} for one image", path, size, kMaxImageFileBytes);
  std::vector<unsigned char> bytes(static_cast<size_t>(size));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), size)) fail("{}: read error", path);
  return bytes;
}

}  // namespace

bool is_image_file_name(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

DecodedImage decode_image_file(const std::string& path, int channels, int height, int width) {
  if (channels != 1 && channels != 3 && channels != 4)
    fail("{}: images convert to 1, 3 or 4 channels, not {}", path, channels);
  const std::vector<unsigned char> bytes = read_image_file(path);
  if (bytes.empty()) fail("{}: empty file", path);
  DecodedImage d;
  int file_channels = 0;
  StbPixels pixels(stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()),
                                         &d.file_width, &d.file_height, &file_channels, channels));
  if (!pixels) {
    const char* why = stbi_failure_reason();
    fail("{}: cannot decode image ({})", path, why ? why : "unknown error");
  }
  d.channels = channels;
  d.width = d.file_width;
  d.height = d.file_height;
  const unsigned char* src = pixels.get();
  if (height > 0 && width > 0 && (height != d.height || width != d.width)) {
    d.pixels.resize(size_t(height) * size_t(width) * size_t(channels));
    if (!stbir_resize_uint8(src, d.width, d.height, 0, d.pixels.data(), width, height, 0, channels))
      fail("{}: cannot resize {}x{} to {}x{}", path, d.width, d.height, width, height);
    d.width = width;
    d.height = height;
  } else {
    d.pixels.assign(src, src + size_t(d.height) * size_t(d.width) * size_t(channels));
  }
  return d;
}

}  // namespace xcept
