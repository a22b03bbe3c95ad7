// BatchLoader and augmentation: every sample once per epoch, orders and augmentations that
// are functions of (seed, epoch, batch) only, prefetching identical to synchronous
// loading, errors from the background thread, and clean shutdown.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "core/error.h"
#include "train/augment.h"
#include "train/batcher.h"
#include "train/data_rng.h"

namespace xcept {
namespace {

// n images of h x w x c; every value of image i is i + (pixel position) / 1000, so an
// image names its own index and its pixels are all distinct.
Dataset numbered_dataset(int64_t n, int64_t h = 4, int64_t w = 5, int64_t c = 2) {
  Dataset d;
  d.images = Tensor({n, h, w, c});
  const int64_t img = h * w * c;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < img; ++k) d.images[i * img + k] = float(i) + float(k + 1) / 1000.f;
  for (int64_t i = 0; i < n; ++i) d.labels.push_back(int32_t(i % 7));
  d.num_classes = 7;
  return d;
}

std::vector<Batch> whole_epoch(BatchLoader& loader, int64_t epoch, int64_t first = 0) {
  loader.start_epoch(epoch, first);
  std::vector<Batch> out;
  while (auto b = loader.next()) out.push_back(std::move(*b));
  return out;
}

bool same_batch(const Batch& a, const Batch& b) {
  return a.epoch == b.epoch && a.index == b.index && a.labels == b.labels &&
         a.indices == b.indices && a.images.dims() == b.images.dims() &&
         std::memcmp(a.images.data(), b.images.data(), a.images.numel() * sizeof(float)) == 0;
}

bool same_batches(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!same_batch(a[i], b[i])) return false;
  return true;
}

TEST(DataRng, FixedSequenceAndBounds) {
  DataRng rng(0);
  EXPECT_EQ(rng.next_u64(), 0xe220a8397b1dcdafull);  // SplitMix64's published first output
  std::vector<int> counts(6, 0);
  for (int i = 0; i < 6000; ++i) ++counts[rng.below(6)];
  for (int c : counts) EXPECT_GT(c, 850);
  EXPECT_NE(derive_seed(1, {2, 3}), derive_seed(1, {3, 2}));
  EXPECT_NE(derive_seed(1, {2}), derive_seed(2, {2}));
}

TEST(BatchLoader, EverySampleOncePerEpoch) {
  Dataset d = numbered_dataset(103);
  BatchLoaderOptions opt;
  opt.batch_size = 10;
  opt.seed = 42;
  BatchLoader loader(d, opt);
  EXPECT_EQ(loader.batches_per_epoch(), 11);
  std::vector<Batch> epoch = whole_epoch(loader, 0);
  ASSERT_EQ(epoch.size(), 11u);
  EXPECT_EQ(epoch.back().images.dim(0), 3);
  std::multiset<int64_t> seen;
  for (const Batch& b : epoch) {
    for (size_t i = 0; i < b.indices.size(); ++i) {
      seen.insert(b.indices[i]);
      EXPECT_EQ(b.labels[i], b.indices[i] % 7);
      EXPECT_EQ(std::floor(b.images[int64_t(i) * 40]), float(b.indices[i]));
    }
  }
  EXPECT_EQ(seen.size(), 103u);
  EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), 103u);
  EXPECT_FALSE(loader.next().has_value());  // stays over

  opt.drop_last = true;
  BatchLoader dropping(d, opt);
  EXPECT_EQ(dropping.batches_per_epoch(), 10);
  std::vector<Batch> dropped = whole_epoch(dropping, 0);
  ASSERT_EQ(dropped.size(), 10u);
  for (const Batch& b : dropped) EXPECT_EQ(b.images.dim(0), 10);
}

TEST(BatchLoader, OrderIsAFunctionOfSeedAndEpoch) {
  Dataset d = numbered_dataset(50);
  BatchLoaderOptions opt;
  opt.seed = 7;
  BatchLoader a(d, opt), b(d, opt);
  // Epoch 3 is the same whether or not epochs 0-2 ran before it.
  whole_epoch(a, 0);
  whole_epoch(a, 1);
  whole_epoch(a, 2);
  EXPECT_TRUE(same_batches(whole_epoch(a, 3), whole_epoch(b, 3)));
  EXPECT_EQ(a.epoch_order(3), b.epoch_order(3));
  EXPECT_NE(a.epoch_order(0), a.epoch_order(1));
  opt.seed = 8;
  BatchLoader c(d, opt);
  EXPECT_NE(c.epoch_order(3), a.epoch_order(3));
  opt.shuffle = false;
  BatchLoader plain(d, opt);
  std::vector<int64_t> order = plain.epoch_order(5);
  for (int64_t i = 0; i < 50; ++i) EXPECT_EQ(order[i], i);
}

TEST(BatchLoader, ResumeMidEpochSeesTheSameBatches) {
  Dataset d = numbered_dataset(64);
  BatchLoaderOptions opt;
  opt.batch_size = 8;
  opt.seed = 3;
  opt.augment = AugmentConfig{2, true, {0.5f, 0.25f}, {2.f, 4.f}};
  BatchLoader full(d, opt), resumed(d, opt);
  std::vector<Batch> all = whole_epoch(full, 2);
  std::vector<Batch> tail = whole_epoch(resumed, 2, 5);
  ASSERT_EQ(tail.size(), 3u);
  for (size_t i = 0; i < tail.size(); ++i) EXPECT_TRUE(same_batch(tail[i], all[5 + i])) << i;
}

TEST(BatchLoader, PrefetchMatchesSynchronous) {
  Dataset d = numbered_dataset(77);
  BatchLoaderOptions opt;
  opt.batch_size = 9;
  opt.seed = 11;
  opt.augment = AugmentConfig{1, true, {}, {}};
  opt.prefetch = 0;
  BatchLoader sync(d, opt);
  std::vector<Batch> want = whole_epoch(sync, 4);
  for (int depth : {1, 2, 3}) {
    opt.prefetch = depth;
    BatchLoader async(d, opt);
    EXPECT_TRUE(same_batches(whole_epoch(async, 4), want)) << "prefetch " << depth;
  }
}

TEST(BatchLoader, AugmentationIsReproducibleAndVaries) {
  Dataset d = numbered_dataset(40);
  BatchLoaderOptions opt;
  opt.batch_size = 40;
  opt.shuffle = false;
  opt.augment = AugmentConfig{1, true, {}, {}};
  BatchLoader a(d, opt), b(d, opt);
  std::vector<Batch> e0 = whole_epoch(a, 0), e1 = whole_epoch(a, 1);
  EXPECT_TRUE(same_batches(e0, whole_epoch(b, 0)));
  // Same images in the same order, but epoch 1 augments them differently.
  EXPECT_EQ(e0[0].indices, e1[0].indices);
  EXPECT_NE(std::memcmp(e0[0].images.data(), e1[0].images.data(), d.images.numel() * 4), 0);
  EXPECT_NE(std::memcmp(e0[0].images.data(), d.images.data(), d.images.numel() * 4), 0);
}

TEST(BatchLoader, WorkerErrorsReachTheConsumer) {
  Dataset d = numbered_dataset(30);
  for (int prefetch : {0, 2}) {
    BatchLoaderOptions opt;
    opt.batch_size = 5;
    opt.prefetch = prefetch;
    opt.transform = [](Batch& b) {
      if (b.index == 2) fail("bad batch {}", b.index);
    };
    BatchLoader loader(d, opt);
    loader.start_epoch(0);
    EXPECT_EQ(loader.next()->index, 0);
    EXPECT_EQ(loader.next()->index, 1);
    try {
      loader.next();
      ADD_FAILURE() << "expected an error, prefetch " << prefetch;
    } catch (const Error& e) {
      EXPECT_STREQ(e.what(), "bad batch 2");
    }
    EXPECT_FALSE(loader.next().has_value());
    loader.start_epoch(1, 3);  // a new epoch runs again
    EXPECT_EQ(loader.next()->index, 3);
  }
}

TEST(BatchLoader, ShutdownWithAFullQueueAndRestarts) {
  Dataset d = numbered_dataset(200);
  BatchLoaderOptions opt;
  opt.batch_size = 4;
  opt.prefetch = 3;
  for (int i = 0; i < 20; ++i) {
    BatchLoader loader(d, opt);
    loader.start_epoch(0);
    ASSERT_TRUE(loader.next().has_value());
    loader.start_epoch(1);  // abandons epoch 0 mid-way
    ASSERT_EQ(loader.next()->epoch, 1);
  }  // destroyed with a full queue and a blocked worker
  BatchLoader never_started(d, opt);
}

TEST(BatchLoader, RejectsBadSetups) {
  Dataset d = numbered_dataset(10);
  BatchLoaderOptions opt;
  {
    BatchLoader loader(d, opt);
    EXPECT_THROW(loader.next(), Error);  // before start_epoch
    EXPECT_THROW(loader.start_epoch(0, 2), Error);
  }
  opt.batch_size = 0;
  EXPECT_THROW(BatchLoader(d, opt), Error);
  opt.batch_size = 11;
  opt.drop_last = true;
  EXPECT_THROW(BatchLoader(d, opt), Error);
  opt = {};
  opt.augment = AugmentConfig{0, false, {0.5f}, {1.f}};  // 1 mean for 2 channels
  EXPECT_THROW(BatchLoader(d, opt), Error);
  Dataset bad = numbered_dataset(10);
  bad.labels[4] = 7;
  std::string msg;
  try {
    BatchLoader loader(bad, {});
  } catch (const Error& e) {
    msg = e.what();
  }
  EXPECT_NE(msg.find("label 7 at index 4"), std::string::npos) << msg;
}

// ---- augmentation

// True if `out` is `in` shifted by some (dy, dx) in [-pad, pad], optionally mirrored,
// with zeros shifted in.
bool is_shifted_copy(const float* in, const float* out, int64_t h, int64_t w, int64_t c, int pad,
                     bool allow_flip) {
  for (int flip = 0; flip <= (allow_flip ? 1 : 0); ++flip)
    for (int dy = -pad; dy <= pad; ++dy)
      for (int dx = -pad; dx <= pad; ++dx) {
        bool ok = true;
        for (int64_t y = 0; y < h && ok; ++y)
          for (int64_t x = 0; x < w && ok; ++x) {
            int64_t sy = y + dy, sx = (flip ? w - 1 - x : x) + dx;
            for (int64_t k = 0; k < c && ok; ++k) {
              float want =
                  (sy < 0 || sy >= h || sx < 0 || sx >= w) ? 0.f : in[(sy * w + sx) * c + k];
              ok = out[(y * w + x) * c + k] == want;
            }
          }
        if (ok) return true;
      }
  return false;
}

TEST(Augment, CropAndFlipAreShiftedMirroredCopies) {
  Dataset d = numbered_dataset(64, 5, 6, 3);
  const int64_t img = 5 * 6 * 3;
  Tensor batch = d.images;
  augment_batch(batch, AugmentConfig{2, true, {}, {}}, 99);
  int unchanged = 0;
  for (int64_t i = 0; i < 64; ++i) {
    EXPECT_TRUE(
        is_shifted_copy(d.images.data() + i * img, batch.data() + i * img, 5, 6, 3, 2, true))
        << i;
    unchanged += std::memcmp(d.images.data() + i * img, batch.data() + i * img, img * 4) == 0;
  }
  EXPECT_LT(unchanged, 10);  // 1 in 50 would be untouched by chance

  Tensor again = d.images;
  augment_batch(again, AugmentConfig{2, true, {}, {}}, 99);
  EXPECT_EQ(std::memcmp(again.data(), batch.data(), batch.numel() * 4), 0);

  Tensor flipped = d.images;
  DataRng rng(5);
  random_flip_horizontal(flipped, rng);
  int mirrored = 0;
  for (int64_t i = 0; i < 64; ++i) {
    EXPECT_TRUE(
        is_shifted_copy(d.images.data() + i * img, flipped.data() + i * img, 5, 6, 3, 0, true));
    mirrored += std::memcmp(d.images.data() + i * img, flipped.data() + i * img, img * 4) != 0;
  }
  EXPECT_GT(mirrored, 16);
  EXPECT_LT(mirrored, 48);

  Tensor cropped = d.images;
  random_crop_zero_pad(cropped, 1, rng);
  for (int64_t i = 0; i < 64; ++i)
    EXPECT_TRUE(
        is_shifted_copy(d.images.data() + i * img, cropped.data() + i * img, 5, 6, 3, 1, false));
}

TEST(Augment, NormalizeAndChannelStats) {
  Tensor t({1, 1, 2, 2});
  t[0] = 1.f;  // pixel 0: channels 1, 2
  t[1] = 2.f;
  t[2] = 3.f;  // pixel 1: channels 3, 6
  t[3] = 6.f;
  std::vector<float> mean, std;
  channel_mean_std(t, mean, std);
  EXPECT_EQ(mean, (std::vector<float>{2.f, 4.f}));
  EXPECT_EQ(std, (std::vector<float>{1.f, 2.f}));
  normalize_channels(t, mean, std);
  EXPECT_EQ(std::vector<float>(t.data(), t.data() + 4), (std::vector<float>{-1.f, -1.f, 1.f, 1.f}));
  EXPECT_THROW(normalize_channels(t, {0.f, 0.f}, {1.f, 0.f}), Error);
  EXPECT_THROW(normalize_channels(t, {0.f}, {1.f}), Error);
}

// Data-parallel shards: the shards of batch b, in shard order, are exactly the batch one
// loader yields, images and augmentation included when one shard; a final batch smaller
// than the shard count is dropped.
TEST(BatchLoader, ShardsSplitEveryBatchExactly) {
  for (int64_t n : {103, 101}) {
    Dataset d = numbered_dataset(n);
    BatchLoaderOptions o;
    o.batch_size = 10;
    o.seed = 5;
    o.augment = AugmentConfig{0, false, {0.5f, 0.25f}, {2.f, 4.f}};
    BatchLoader whole(d, o);
    const std::vector<Batch> ref = whole_epoch(whole, 2);
    std::vector<std::vector<Batch>> shards;
    for (int s = 0; s < 3; ++s) {
      BatchLoaderOptions so = o;
      so.shard = s;
      so.shards = 3;
      BatchLoader loader(d, so);
      EXPECT_EQ(loader.batches_per_epoch(), n == 103 ? 11 : 10);
      shards.push_back(whole_epoch(loader, 2));
      ASSERT_EQ(int64_t(shards.back().size()), loader.batches_per_epoch());
    }
    for (size_t b = 0; b < shards[0].size(); ++b) {
      std::vector<int64_t> joined;
      std::vector<float> pixels;
      for (int s = 0; s < 3; ++s) {
        const Batch& part = shards[size_t(s)][b];
        EXPECT_GE(part.labels.size(), 1u);
        EXPECT_EQ(part.global_size, ref[b].global_size);
        joined.insert(joined.end(), part.indices.begin(), part.indices.end());
        pixels.insert(pixels.end(), part.images.data(), part.images.data() + part.images.numel());
      }
      EXPECT_EQ(joined, ref[b].indices) << "batch " << b;
      ASSERT_EQ(int64_t(pixels.size()), ref[b].images.numel());
      EXPECT_EQ(0, std::memcmp(pixels.data(), ref[b].images.data(), pixels.size() * sizeof(float)));
    }
  }
  Dataset d = numbered_dataset(20);
  BatchLoaderOptions o;
  o.batch_size = 2;
  o.shards = 3;
  EXPECT_THROW(BatchLoader(d, o), Error);  // a shard would get no image
  o.batch_size = 4;
  o.shard = 3;
  EXPECT_THROW(BatchLoader(d, o), Error);
}

}  // namespace
}  // namespace xcept
