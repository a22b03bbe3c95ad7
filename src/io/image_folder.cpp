#include "io/image_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>

#include "core/checked_math.h"
#include "core/error.h"
#include "core/threadpool.h"
#include "io/image.h"

namespace xcept {
namespace {

namespace fs = std::filesystem;

bool is_hidden(const fs::path& p) { return p.filename().string().starts_with('.'); }

std::vector<fs::path> sorted_entries(const fs::path& dir, bool want_dirs) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (is_hidden(it->path())) continue;
    if (want_dirs ? it->is_directory(ec) : (it->is_regular_file(ec) && is_image_file_name(it->path().string())))
      out.push_back(it->path());
  }
  if (ec) fail("{}: cannot list folder ({})", dir.string(), ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

Dataset load_image_folder(const std::string& dir, const ImageFolderOptions& options) {
  const int channels = options.channels;
  if (channels != 1 && channels != 3 && channels != 4)
    fail("image folder {}: channels must be 1, 3 or 4, got {}", dir, channels);
  const bool resize = options.height > 0 || options.width > 0;
  if (resize && (options.height <= 0 || options.width <= 0))
    fail("image folder {}: resize needs both height and width, got {}x{}", dir, options.height,
         options.width);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail("{}: folder not found", dir);

  Dataset data;
  std::vector<fs::path> files;
  for (const fs::path& class_dir : sorted_entries(dir, true)) {
    std::vector<fs::path> images = sorted_entries(class_dir, false);
    if (images.empty()) fail("{}: class folder has no .jpg/.jpeg/.png images", class_dir.string());
    for (fs::path& f : images) {
      files.push_back(std::move(f));
      data.labels.push_back(data.num_classes);
    }
    data.class_names.push_back(class_dir.filename().string());
    ++data.num_classes;
  }
  if (files.empty()) fail("{}: no class sub-folders", dir);

  // The first image fixes the size unless the caller asked for one.
  int height = options.height, width = options.width;
  if (!resize) {
    const DecodedImage first = decode_image_file(files[0].string(), channels);
    height = first.height;
    width = first.width;
  }
  const int64_t n = static_cast<int64_t>(files.size());
  checked_product({n, height, width, channels}, "image folder " + dir);
  data.images = Tensor({n, height, width, channels});
  const int64_t image_floats = int64_t{height} * width * channels;

  // Decoding is independent per file. Errors are kept per file and the first in order is
  // reported, so the message does not depend on thread timing.
  std::vector<std::string> errors(files.size());
  const float* scale = unit_scale_table();
  parallel_for(n, 4, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      try {
        const DecodedImage d = decode_image_file(files[i].string(), channels, options.height,
                                                 options.width);
        const unsigned char* src = d.pixels.data();
        if (d.width != width || d.height != height) {
          fail(
              "{}: image is {}x{} (width x height) but {} is {}x{}; all images must have the "
              "same size (or set a resize height and width)",
              files[i].string(), d.width, d.height, files[0].string(), width, height);
        }
        float* dst = data.images.data() + i * image_floats;
        for (int64_t k = 0; k < image_floats; ++k) dst[k] = scale[src[k]];
      } catch (const Error& e) {
        errors[i] = e.what();
      }
    }
  });
  for (const std::string& e : errors)
    if (!e.empty()) throw Error(e);
  return data;
}

}  // namespace xcept
