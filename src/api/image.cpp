#include "xcept/image.h"

#include "core/error.h"
#include "io/dataset.h"
#include "io/image.h"

namespace xcept {

Image load_image(const std::string& path, int channels, int height, int width) {
  const DecodedImage d = decode_image_file(path, channels, height, width);
  Image im{d.height, d.width, d.channels, std::vector<float>(d.pixels.size()), d.file_height,
           d.file_width};
  const float* scale = unit_scale_table();
  for (size_t i = 0; i < d.pixels.size(); ++i) im.pixels[i] = scale[d.pixels[i]];
  return im;
}

std::vector<float> image_input(const Model& model, const std::string& path, bool resize) {
  const Dims& d = model.input_dims();
  if (model.num_inputs() != 1 || d.size() != 4)
    fail("{}: the model does not take one batch of images (its input is {})", model.name(),
         dims_to_string(d));
  const bool nhwc = model.layout() == Layout::nhwc;
  const int64_t c = nhwc ? d[3] : d[1], h = nhwc ? d[1] : d[2], w = nhwc ? d[2] : d[3];
  if (c != 1 && c != 3 && c != 4)
    fail("{}: the model takes {} channels; images have 1, 3 or 4", model.name(), c);
  const Image im = load_image(path, int(c), resize ? int(h) : 0, resize ? int(w) : 0);
  if (im.height != h || im.width != w)
    fail("{}: the image is {}x{} (height x width), the model takes {}x{}", path, im.height,
         im.width, h, w);
  if (nhwc) return im.pixels;
  std::vector<float> chw(im.pixels.size());
  for (int64_t i = 0; i < h * w; ++i)
    for (int64_t k = 0; k < c; ++k) chw[size_t(k * h * w + i)] = im.pixels[size_t(i * c + k)];
  return chw;
}

}  // namespace xcept
