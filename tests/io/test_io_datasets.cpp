// Dataset readers for IDX (MNIST family) and CIFAR-10 binaries: round trips through files
// written here, every malformed-file error, and the real Fashion-MNIST test set.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "io/cifar10.h"
#include "io/idx.h"
#include "io_test_support.h"

namespace xcept {
namespace {

using test::error_of;
using test::TempDir;
using test::write_bytes;
using test::write_gz;

void put_u32(std::vector<uint8_t>& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}

std::vector<uint8_t> idx_bytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data,
                               uint8_t type = 0x08) {
  std::vector<uint8_t> b = {0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) put_u32(b, d);
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

std::vector<uint8_t> pattern(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& x : v) x = static_cast<uint8_t>(rng());
  return v;
}

// 3 images of 4x5 and their labels, as dir/<prefix>-{images,labels}-idx*-ubyte[.gz].
struct IdxFiles {
  std::vector<uint8_t> pixels = pattern(3 * 4 * 5, 1);
  std::vector<uint8_t> labels = {7, 0, 9};
  std::string images_path, labels_path;

  IdxFiles(const TempDir& dir, const std::string& prefix, bool gz) {
    images_path = dir.file(prefix + "-images-idx3-ubyte" + (gz ? ".gz" : ""));
    labels_path = dir.file(prefix + "-labels-idx1-ubyte" + (gz ? ".gz" : ""));
    auto write = gz ? write_gz : write_bytes;
    write(images_path, idx_bytes({3, 4, 5}, pixels));
    write(labels_path, idx_bytes({3}, labels));
  }
};

void expect_idx_dataset(const Dataset& d, const IdxFiles& f) {
  ASSERT_EQ(d.images.dims(), (Dims{3, 4, 5, 1}));
  for (size_t i = 0; i < f.pixels.size(); ++i) EXPECT_EQ(d.images[i], f.pixels[i] / 255.f);
  EXPECT_EQ(d.labels, (std::vector<int32_t>{7, 0, 9}));
  EXPECT_EQ(d.num_classes, 10);
  ASSERT_EQ(d.class_names.size(), 10u);
  EXPECT_EQ(d.class_names[3], "3");
  validate_dataset(d, "test");
}

TEST(IdxReader, ReadsPlainFiles) {
  TempDir dir;
  IdxFiles f(dir, "train", false);
  expect_idx_dataset(load_idx_dataset(dir.str(), "train"), f);
}

TEST(IdxReader, ReadsGzippedFilesAndNamesClasses) {
  TempDir dir;
  IdxFiles f(dir, "t10k", true);
  Dataset d = load_idx_dataset(dir.str(), "test", fashion_mnist_class_names());
  ASSERT_EQ(d.images.dims(), (Dims{3, 4, 5, 1}));
  for (size_t i = 0; i < f.pixels.size(); ++i) EXPECT_EQ(d.images[i], f.pixels[i] / 255.f);
  EXPECT_EQ(d.class_names[9], "Ankle boot");
}

TEST(IdxReader, MissingFileAndBadSplit) {
  TempDir dir;
  EXPECT_NE(error_of([&] { load_idx_dataset(dir.str(), "train"); }).find("not found"),
            std::string::npos);
  IdxFiles f(dir, "train", false);
  std::filesystem::remove(f.images_path);
  std::string e = error_of([&] { load_idx_dataset(dir.str(), "train"); });
  EXPECT_NE(e.find("train-images-idx3-ubyte"), std::string::npos) << e;
  EXPECT_NE(error_of([&] { load_idx_dataset(dir.str(), "valid"); }).find("'valid'"),
            std::string::npos);
}

TEST(IdxReader, TruncatedFileNamesExpectedAndActualBytes) {
  for (bool gz : {false, true}) {
    TempDir dir;
    IdxFiles f(dir, "train", gz);
    std::vector<uint8_t> bytes = idx_bytes({3, 4, 5}, f.pixels);
    bytes.resize(bytes.size() - 7);
    (gz ? write_gz : write_bytes)(f.images_path, bytes);
    std::string e = error_of([&] { load_idx_dataset(dir.str(), "train"); });
    EXPECT_NE(e.find(f.images_path), std::string::npos) << e;
    EXPECT_NE(e.find("truncated"), std::string::npos) << e;
    EXPECT_NE(e.find("expected 76 bytes"), std::string::npos) << e;  // 16 + 3*4*5
    EXPECT_NE(e.find("found 69"), std::string::npos) << e;
  }
}

TEST(IdxReader, CutGzipStreamIsTruncated) {
  TempDir dir;
  IdxFiles f(dir, "train", true);
  write_gz(f.images_path, idx_bytes({3, 4, 5}, std::vector<uint8_t>(60, 0)));
  std::vector<uint8_t> gz = test::read_bytes(f.images_path);
  gz.resize(gz.size() - 10);  // loses the trailer and the end of the deflate stream
  write_bytes(f.images_path, gz);
  std::string e = error_of([&] { read_idx_images(f.images_path); });
  EXPECT_NE(e.find(f.images_path + ": truncated: expected 76 bytes"), std::string::npos) << e;
}

TEST(IdxReader, TruncatedHeader) {
  TempDir dir;
  IdxFiles f(dir, "train", false);
  write_bytes(f.labels_path, {0, 0, 8, 1, 0, 0});
  std::string e = error_of([&] { load_idx_dataset(dir.str(), "train"); });
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
  EXPECT_NE(e.find(f.labels_path), std::string::npos) << e;
}

TEST(IdxReader, TrailingBytesAreAnError) {
  TempDir dir;
  IdxFiles f(dir, "train", true);
  std::vector<uint8_t> bytes = idx_bytes({3}, f.labels);
  bytes.push_back(1);
  write_gz(f.labels_path, bytes);
  std::string e = error_of([&] { load_idx_dataset(dir.str(), "train"); });
  EXPECT_NE(e.find("1 unexpected bytes"), std::string::npos) << e;
}

TEST(IdxReader, BadMagicTypeAndDimensionCount) {
  TempDir dir;
  IdxFiles f(dir, "train", false);
  std::vector<uint8_t> bad = idx_bytes({3, 4, 5}, f.pixels);
  bad[0] = 0x12;
  write_bytes(f.images_path, bad);
  std::string e = error_of([&] { read_idx_images(f.images_path); });
  EXPECT_NE(e.find("magic number 0x12000803, expected 0x00000803"), std::string::npos) << e;

  write_bytes(f.images_path, idx_bytes({3, 4, 5}, f.pixels, 0x0d));  // float elements
  e = error_of([&] { read_idx_images(f.images_path); });
  EXPECT_NE(e.find("element type 0x0d"), std::string::npos) << e;

  // A labels file where images belong, and the reverse.
  write_bytes(f.images_path, idx_bytes({3, 4, 5}, f.pixels));
  e = error_of([&] { read_idx_images(f.labels_path); });
  EXPECT_NE(e.find("has 1 dimensions, expected 3"), std::string::npos) << e;
  e = error_of([&] { read_idx_labels(f.images_path, 10); });
  EXPECT_NE(e.find("expected 1"), std::string::npos) << e;
}

TEST(IdxReader, HugeClaimedDimsAreRejectedBeforeAllocating) {
  TempDir dir;
  std::string path = dir.file("huge");
  // Past the 2^31-byte cap: refused from the header alone.
  write_bytes(path, idx_bytes({60000, 60000, 60000}, {1, 2, 3}));
  std::string e = error_of([&] { read_idx_images(path); });
  EXPECT_NE(e.find("too large"), std::string::npos) << e;
  write_bytes(path, idx_bytes({3000, 1000, 1000}, {1, 2, 3}));
  e = error_of([&] { read_idx_images(path); });
  EXPECT_NE(e.find("limit of 2147483648 bytes"), std::string::npos) << e;
  // Under the cap but far beyond the file: plain files are checked against their size.
  write_bytes(path, idx_bytes({2000, 1000, 1000}, {1, 2, 3}));
  e = error_of([&] { read_idx_images(path); });
  EXPECT_NE(e.find("expected 2000000016 bytes"), std::string::npos) << e;
  EXPECT_NE(e.find("found 19"), std::string::npos) << e;
  // Gzip: beyond what deflate could expand the file to.
  write_gz(path, idx_bytes({2000, 1000, 1000}, {1, 2, 3}));
  e = error_of([&] { read_idx_images(path); });
  EXPECT_NE(e.find("compressed bytes can hold"), std::string::npos) << e;
  // Gzip, within deflate's reach: buffers grow only with the data that really inflates.
  write_gz(path, idx_bytes({50, 1000, 1000}, pattern(200000, 2)));
  e = error_of([&] { read_idx_images(path); });
  EXPECT_NE(e.find("expected 50000016 bytes after decompression"), std::string::npos) << e;
  EXPECT_NE(e.find("found 200016"), std::string::npos) << e;
}

TEST(IdxReader, CorruptGzipData) {
  TempDir dir;
  IdxFiles f(dir, "train", true);
  std::vector<uint8_t> gz = test::read_bytes(f.images_path);
  for (size_t i = 12; i < gz.size() - 8; ++i) gz[i] ^= 0x5a;
  write_bytes(f.images_path, gz);
  std::string e = error_of([&] { read_idx_images(f.images_path); });
  EXPECT_NE(e.find(f.images_path), std::string::npos) << e;
}

TEST(IdxReader, LabelOutOfRangeNamesFileAndIndex) {
  TempDir dir;
  IdxFiles f(dir, "train", false);
  write_bytes(f.labels_path, idx_bytes({3}, {1, 2, 10}));
  std::string e = error_of([&] { load_idx_dataset(dir.str(), "train"); });
  EXPECT_NE(e.find(f.labels_path), std::string::npos) << e;
  EXPECT_NE(e.find("label 10 at index 2"), std::string::npos) << e;
}

TEST(IdxReader, ImageAndLabelCountsMustAgree) {
  TempDir dir;
  IdxFiles f(dir, "train", false);
  write_bytes(f.labels_path, idx_bytes({2}, {1, 2}));
  std::string e = error_of([&] { load_idx_dataset(dir.str(), "train"); });
  EXPECT_NE(e.find("3 images"), std::string::npos) << e;
  EXPECT_NE(e.find("2 labels"), std::string::npos) << e;
}

TEST(IdxReader, RealFashionMnistTestSet) {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(dir + "/t10k-images-idx3-ubyte.gz"))
    GTEST_SKIP() << dir << " not installed (Debian package dataset-fashion-mnist)";
  Dataset d = load_idx_dataset(dir, "test", fashion_mnist_class_names());
  ASSERT_EQ(d.images.dims(), (Dims{10000, 28, 28, 1}));
  std::vector<int> per_class(10, 0);
  for (int32_t l : d.labels) ++per_class[l];
  EXPECT_EQ(per_class, std::vector<int>(10, 1000));  // the test set is balanced
  float lo = 1, hi = 0;
  for (int64_t i = 0; i < d.images.numel(); ++i) {
    lo = std::min(lo, d.images[i]);
    hi = std::max(hi, d.images[i]);
  }
  EXPECT_EQ(lo, 0.f);
  EXPECT_EQ(hi, 1.f);
}

// ---- CIFAR-10

std::vector<uint8_t> cifar_records(int count, int first_label, uint32_t seed) {
  std::vector<uint8_t> b;
  for (int r = 0; r < count; ++r) {
    b.push_back(static_cast<uint8_t>((first_label + r) % 10));
    std::vector<uint8_t> px = pattern(3072, seed + r);
    b.insert(b.end(), px.begin(), px.end());
  }
  return b;
}

TEST(Cifar10Reader, ReadsTrainBatchesAsNhwc) {
  TempDir dir;
  std::vector<std::vector<uint8_t>> files;
  for (int i = 1; i <= 5; ++i) {
    files.push_back(cifar_records(i, i, 100 * i));  // 1 + 2 + ... + 5 = 15 records
    write_bytes(dir.file("data_batch_" + std::to_string(i) + ".bin"), files.back());
  }
  Dataset d = load_cifar10_dataset(dir.str(), "train");
  ASSERT_EQ(d.images.dims(), (Dims{15, 32, 32, 3}));
  EXPECT_EQ(d.class_names, cifar10_class_names());
  int64_t n = 0;
  for (int f = 0; f < 5; ++f) {
    for (int r = 0; r <= f; ++r, ++n) {
      const uint8_t* rec = files[f].data() + r * kCifar10RecordBytes;
      EXPECT_EQ(d.labels[n], rec[0]);
      for (int y = 0; y < 32; y += 7)
        for (int x = 0; x < 32; x += 5)
          for (int c = 0; c < 3; ++c)
            ASSERT_EQ(d.images[((n * 32 + y) * 32 + x) * 3 + c],
                      rec[1 + c * 1024 + y * 32 + x] / 255.f)
                << "record " << n << " y " << y << " x " << x << " c " << c;
    }
  }
}

TEST(Cifar10Reader, TestBatchWithMetaNames) {
  TempDir dir;
  write_bytes(dir.file("test_batch.bin"), cifar_records(4, 0, 7));
  write_bytes(dir.file("batches.meta.txt"),
              std::vector<uint8_t>({'a',  '\n', 'b',  '\n', 'c',  '\n', 'd',  '\n', 'e',  '\n', 'f',
                                    '\n', 'g',  '\n', 'h',  '\n', 'i',  '\n', 'j',  '\n', '\n'}));
  Dataset d = load_cifar10_dataset(dir.str(), "test");
  EXPECT_EQ(d.images.dim(0), 4);
  EXPECT_EQ(d.class_names[9], "j");
  write_bytes(dir.file("batches.meta.txt"), {'a', '\n', 'b', '\n'});
  std::string e = error_of([&] { load_cifar10_dataset(dir.str(), "test"); });
  EXPECT_NE(e.find("2 class names, expected 10"), std::string::npos) << e;
}

TEST(Cifar10Reader, Errors) {
  TempDir dir;
  std::string path = dir.file("test_batch.bin");
  std::string e = error_of([&] { load_cifar10_dataset(dir.str(), "test"); });
  EXPECT_NE(e.find("test_batch.bin: file not found"), std::string::npos) << e;

  std::vector<uint8_t> bytes = cifar_records(2, 0, 1);
  bytes.pop_back();
  write_bytes(path, bytes);
  e = error_of([&] { load_cifar10_dataset(dir.str(), "test"); });
  EXPECT_NE(e.find("6145 bytes is not a whole number of 3073-byte"), std::string::npos) << e;

  write_bytes(path, {});
  e = error_of([&] { load_cifar10_dataset(dir.str(), "test"); });
  EXPECT_NE(e.find("empty"), std::string::npos) << e;

  bytes = cifar_records(3, 0, 1);
  bytes[2 * kCifar10RecordBytes] = 10;
  write_bytes(path, bytes);
  e = error_of([&] { load_cifar10_dataset(dir.str(), "test"); });
  EXPECT_NE(e.find(path), std::string::npos) << e;
  EXPECT_NE(e.find("label 10 in record 2"), std::string::npos) << e;

  e = error_of([&] { load_cifar10_dataset(dir.str(), "all"); });
  EXPECT_NE(e.find("'all'"), std::string::npos) << e;
}

}  // namespace
}  // namespace xcept
