// Classify an image with an ONNX model:
//   classify_image MODEL.onnx IMAGE [LABELS.txt]
// The model's declared input fixes the image size (the image is resized to it); a model
// exported by `xcept export` brings its input normalization and class names along.
#include <xcept/xcept.h>

#include <cstdio>
#include <fstream>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL.onnx IMAGE [LABELS.txt]\n", argv[0]);
    return 2;
  }
  try {
    xcept::Model model = xcept::Model::from_onnx(argv[1]);
    std::vector<std::string> names = model.class_names();
    if (argc > 3) {
      names.clear();
      std::ifstream labels(argv[3]);
      for (std::string line; std::getline(labels, line);) names.push_back(line);
    }
    const std::vector<float> image = xcept::image_input(model, argv[2]);
    std::vector<float> scores(size_t(model.output_numel()));
    model.run(image, scores);
    for (const xcept::ClassScore& s : xcept::top_k(scores, 3))
      std::printf("%6.2f%%  %s\n", 100 * s.probability,
                  size_t(s.index) < names.size() ? names[size_t(s.index)].c_str()
                                                 : ("class " + std::to_string(s.index)).c_str());
  } catch (const xcept::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
