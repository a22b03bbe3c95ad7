// Image folders: PNG and JPEG files written with stb_image_write, read back through
// load_image_folder; class order, conversions, resizing and the errors that name files.
#include <gtest/gtest.h>

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

#include <cmath>
#include <filesystem>

#include "io/image_folder.h"
#include "io_test_support.h"

namespace xcept {
namespace {

using test::error_of;
using test::TempDir;

// w x h x c pixels where pixel (x, y) channel k holds a recognisable value.
std::vector<uint8_t> gradient(int w, int h, int c, int salt) {
  std::vector<uint8_t> px(static_cast<size_t>(w) * h * c);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < c; ++k)
        px[(y * w + x) * c + k] = static_cast<uint8_t>(salt + 16 * x + 3 * y + 80 * k);
  return px;
}

void write_png(const std::string& path, int w, int h, int c, const std::vector<uint8_t>& px) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  ASSERT_TRUE(stbi_write_png(path.c_str(), w, h, c, px.data(), w * c)) << path;
}

void write_solid_jpg(const std::string& path, int w, int h, uint8_t r, uint8_t g, uint8_t b) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::vector<uint8_t> px;
  for (int i = 0; i < w * h; ++i) px.insert(px.end(), {r, g, b});
  ASSERT_TRUE(stbi_write_jpg(path.c_str(), w, h, 3, px.data(), 100)) << path;
}

TEST(ImageFolder, ReadsClassesInSortedOrder) {
  TempDir dir;
  std::vector<uint8_t> a0 = gradient(6, 4, 3, 1), a1 = gradient(6, 4, 3, 9),
                       b0 = gradient(6, 4, 1, 5);
  write_png(dir.file("zebra/img_1.PNG"), 6, 4, 3, a1);
  write_png(dir.file("zebra/img_0.png"), 6, 4, 3, a0);
  write_png(dir.file("ant/only.png"), 6, 4, 1, b0);  // grayscale, converted to RGB
  write_solid_jpg(dir.file("moth/x.jpeg"), 6, 4, 200, 40, 90);
  test::write_bytes(dir.file("zebra/notes.txt"), {'h', 'i'});              // ignored: not an image
  write_png(dir.file(".hidden/skip.png"), 2, 2, 3, gradient(2, 2, 3, 0));  // ignored: hidden

  Dataset d = load_image_folder(dir.str());
  validate_dataset(d, "test");
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"ant", "moth", "zebra"}));
  EXPECT_EQ(d.num_classes, 3);
  EXPECT_EQ(d.labels, (std::vector<int32_t>{0, 1, 2, 2}));
  ASSERT_EQ(d.images.dims(), (Dims{4, 4, 6, 3}));
  const int64_t img = 4 * 6 * 3;
  for (int i = 0; i < 4 * 6; ++i) {
    for (int k = 0; k < 3; ++k) {
      EXPECT_EQ(d.images[0 * img + i * 3 + k], b0[i] / 255.f);          // gray replicated
      EXPECT_EQ(d.images[2 * img + i * 3 + k], a0[i * 3 + k] / 255.f);  // img_0 before img_1
      EXPECT_EQ(d.images[3 * img + i * 3 + k], a1[i * 3 + k] / 255.f);
    }
    // JPEG is lossy; a solid colour survives within a few levels.
    EXPECT_NEAR(d.images[1 * img + i * 3 + 0], 200 / 255.f, 4 / 255.f);
    EXPECT_NEAR(d.images[1 * img + i * 3 + 1], 40 / 255.f, 4 / 255.f);
    EXPECT_NEAR(d.images[1 * img + i * 3 + 2], 90 / 255.f, 4 / 255.f);
  }
}

TEST(ImageFolder, GrayscaleOutput) {
  TempDir dir;
  std::vector<uint8_t> px = gradient(3, 5, 1, 7);
  write_png(dir.file("c/a.png"), 3, 5, 1, px);
  ImageFolderOptions opt;
  opt.channels = 1;
  Dataset d = load_image_folder(dir.str(), opt);
  ASSERT_EQ(d.images.dims(), (Dims{1, 5, 3, 1}));
  for (size_t i = 0; i < px.size(); ++i) EXPECT_EQ(d.images[int64_t(i)], px[i] / 255.f);
}

TEST(ImageFolder, DifferentSizeIsRejectedNamingBothFiles) {
  TempDir dir;
  write_png(dir.file("a/1.png"), 6, 4, 3, gradient(6, 4, 3, 0));
  write_png(dir.file("b/2.png"), 5, 4, 3, gradient(5, 4, 3, 0));
  std::string e = error_of([&] { load_image_folder(dir.str()); });
  EXPECT_NE(e.find(dir.file("b/2.png")), std::string::npos) << e;
  EXPECT_NE(e.find("5x4"), std::string::npos) << e;
  EXPECT_NE(e.find(dir.file("a/1.png")), std::string::npos) << e;
  EXPECT_NE(e.find("6x4"), std::string::npos) << e;
}

TEST(ImageFolder, ResizeOption) {
  TempDir dir;
  std::vector<uint8_t> solid(10 * 7 * 3, 128);
  write_png(dir.file("a/big.png"), 10, 7, 3, solid);
  write_png(dir.file("b/small.png"), 3, 2, 3, std::vector<uint8_t>(3 * 2 * 3, 128));
  ImageFolderOptions opt;
  opt.height = 8;
  opt.width = 5;
  Dataset d = load_image_folder(dir.str(), opt);
  ASSERT_EQ(d.images.dims(), (Dims{2, 8, 5, 3}));
  for (int64_t i = 0; i < d.images.numel(); ++i) EXPECT_NEAR(d.images[i], 128 / 255.f, 1.5 / 255);
  opt.width = 0;
  EXPECT_NE(error_of([&] { load_image_folder(dir.str(), opt); }).find("both height and width"),
            std::string::npos);
}

TEST(ImageFolder, CorruptImagesNameTheFile) {
  TempDir dir;
  write_png(dir.file("a/good.png"), 4, 4, 3, gradient(4, 4, 3, 0));
  std::string bad = dir.file("a/zz_bad.png");
  test::write_bytes(bad, {'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'});
  std::string e = error_of([&] { load_image_folder(dir.str()); });
  EXPECT_NE(e.find(bad), std::string::npos) << e;
  EXPECT_NE(e.find("cannot decode"), std::string::npos) << e;

  // A real PNG cut in half: the header parses, the pixel data does not.
  std::vector<uint8_t> png = test::read_bytes(dir.file("a/good.png"));
  png.resize(png.size() / 2);
  test::write_bytes(bad, png);
  e = error_of([&] { load_image_folder(dir.str()); });
  EXPECT_NE(e.find(bad), std::string::npos) << e;

  test::write_bytes(bad, {});
  e = error_of([&] { load_image_folder(dir.str()); });
  EXPECT_NE(e.find(bad + ": empty file"), std::string::npos) << e;
}

TEST(ImageFolder, FolderErrors) {
  TempDir dir;
  std::string e = error_of([&] { load_image_folder(dir.file("nope")); });
  EXPECT_NE(e.find("folder not found"), std::string::npos) << e;
  e = error_of([&] { load_image_folder(dir.str()); });
  EXPECT_NE(e.find("no class sub-folders"), std::string::npos) << e;
  std::filesystem::create_directories(dir.file("empty_class"));
  e = error_of([&] { load_image_folder(dir.str()); });
  EXPECT_NE(e.find("empty_class: class folder has no"), std::string::npos) << e;
  ImageFolderOptions opt;
  opt.channels = 2;
  e = error_of([&] { load_image_folder(dir.str(), opt); });
  EXPECT_NE(e.find("channels must be 1, 3 or 4"), std::string::npos) << e;
}

}  // namespace
}  // namespace xcept
