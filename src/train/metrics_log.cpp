#include "train/metrics_log.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/atomic_file.h"

namespace xcept {

void append_metrics(const std::string& path, const EpochResult& e) {
  nlohmann::json j = {{"epoch", e.epoch},           {"train_loss", e.train_loss},
                      {"train_accuracy", e.train_accuracy}, {"test_loss", e.test_loss},
                      {"test_accuracy", e.test_accuracy},   {"lr", e.lr},
                      {"seconds", e.seconds},       {"images_per_s", e.images_per_s}};
  std::ofstream out(path, std::ios::app);
  out << j.dump() << "\n";
  if (!out) fail("cannot append to the metrics log {}", path);
}

void truncate_metrics(const std::string& path, int64_t epochs_kept) {
  std::ifstream in(path);
  if (!in) return;
  std::string line, kept;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.value("epoch", int64_t(0)) <= epochs_kept) kept += line + "\n";
  }
  in.close();
  write_file_atomic(path, kept);
}

std::vector<EpochResult> read_metrics(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("{}: cannot open the metrics log", path);
  std::vector<EpochResult> epochs;
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("epoch") || !j.at("epoch").is_number_integer())
      fail("{}:{}: not a metrics line (a JSON object with an integer \"epoch\")", path, line_no);
    auto num = [&](const char* key) {
      const auto it = j.find(key);
      return it != j.end() && it->is_number() ? it->get<double>() : NAN;
    };
    EpochResult e;
    e.epoch = j.at("epoch").get<int64_t>();
    if (e.epoch != int64_t(epochs.size()) + 1)
      fail("{}:{}: epoch {} follows epoch {}", path, line_no, e.epoch, epochs.size());
    e.train_loss = num("train_loss");
    e.train_accuracy = num("train_accuracy");
    e.test_loss = num("test_loss");
    e.test_accuracy = num("test_accuracy");
    e.lr = num("lr");
    e.seconds = num("seconds");
    e.images_per_s = num("images_per_s");
    epochs.push_back(e);
  }
  return epochs;
}

}  // namespace xcept
