// Train MobileNet's blocks on Fashion-MNIST, then classify a test image with the result.
//   train_mini_mobilenet [EPOCHS] [DATA_DIR] [IMAGE]
#include <xcept/xcept.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  xcept::TrainOptions o;
  o.model = "mini-mobilenet";
  o.data_dir = argc > 2 ? argv[2] : "/usr/share/datasets/fashion-mnist";
  o.epochs = argc > 1 ? std::stoi(argv[1]) : 2;
  o.optimizer = "adam";
  o.lr = 0.002;
  o.schedule = "cosine";
  o.out_dir = "runs/example";
  xcept::TrainEvents events;
  events.on_epoch = [](const xcept::EpochMetrics& e) {
    std::printf("epoch %lld: train %.2f%%, test %.2f%%%s\n", static_cast<long long>(e.epoch),
                100 * e.train_accuracy, 100 * e.test_accuracy, e.best ? " (best)" : "");
  };
  try {
    const xcept::TrainRun run = xcept::train(o, events);
    xcept::Model model = xcept::Model::from_checkpoint(run.best_checkpoint);
    if (argc > 3) {
      std::vector<float> scores(size_t(model.output_numel()));
      model.run(xcept::image_input(model, argv[3]), scores);
      const xcept::ClassScore best = xcept::top_k(scores, 1)[0];
      std::printf("%s: %s (%.1f%%)\n", argv[3], model.class_names()[size_t(best.index)].c_str(),
                  100 * best.probability);
    }
  } catch (const xcept::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
