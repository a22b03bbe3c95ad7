// Checkpoint files: bit-exact round trips, every kind of damage reported clearly, and
// failed writes that leave the previous checkpoint as it was.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "core/error.h"
#include "io/checkpoint.h"
#include "train/optimizer.h"

namespace xcept {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<char>;

// A fresh directory per test, removed afterwards.
class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / fmt::format("xcept_ckpt_{}_{}", ::getpid(), info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, ec);
    fs::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

Bytes read_file(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}
void write_file(const std::string& p, const Bytes& b) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(b.data(), std::streamsize(b.size()));
}

// Throws unless reading `p` fails with a message containing `needle` and the path.
void expect_read_error(const std::string& p, const std::string& needle) {
  try {
    read_checkpoint(p);
    ADD_FAILURE() << "read succeeded; wanted an error containing '" << needle << "'";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    EXPECT_NE(msg.find(p), std::string::npos) << msg;
  }
}

Tensor random_tensor(Dims d, uint32_t seed) {
  Tensor t(std::move(d));
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist;
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = dist(rng);
  return t;
}

Checkpoint sample_checkpoint() {
  Checkpoint c;
  c.meta.model = "xception";
  c.meta.model_config = {{"classes", 1000}, {"width", 1.0}, {"input", {299, 299, 3}}};
  c.meta.epoch = 7;
  c.meta.step = 123456789012LL;
  c.meta.optimizer = "rmsprop";
  std::mt19937_64 rng(42);
  rng.discard(1000);
  c.meta.rng_state = rng_state_to_text(rng);
  c.meta.best_metric = 0.7891234567;
  c.meta.extra = {{"note", "unicode é ✓"}, {"lr", 0.045}};
  c.params.push_back({"entry_conv1.weight", random_tensor({3, 3, 3, 32}, 1)});
  Tensor special({6});
  const float vals[6] = {-0.f,
                         std::numeric_limits<float>::infinity(),
                         std::numeric_limits<float>::quiet_NaN(),
                         std::numeric_limits<float>::denorm_min(),
                         1e38f,
                         -1.5f};
  std::memcpy(special.data(), vals, sizeof vals);
  c.params.push_back({"bn.moving_variance", std::move(special)});
  c.params.push_back({"scalar", Tensor(Dims{})});
  c.params.push_back({"empty", Tensor({0, 5})});
  c.optimizer_state.push_back({"entry_conv1.weight/momentum", random_tensor({3, 3, 3, 32}, 2)});
  c.optimizer_state.push_back({"@step", random_tensor({2}, 3)});
  return c;
}

void expect_same_tensors(const NamedTensors& a, const NamedTensors& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_EQ(a[i].tensor.dims(), b[i].tensor.dims()) << a[i].name;
    ASSERT_EQ(a[i].tensor.numel(), b[i].tensor.numel());
    if (a[i].tensor.numel()) {
      EXPECT_EQ(0, std::memcmp(a[i].tensor.data(), b[i].tensor.data(), a[i].tensor.numel() * 4))
          << a[i].name;
    }
  }
}

TEST_F(CheckpointTest, RoundTripIsBitExact) {
  Checkpoint c = sample_checkpoint();
  const std::string p = path("a.ckpt");
  write_checkpoint(p, c);
  Checkpoint r = read_checkpoint(p);
  EXPECT_EQ(r.meta.model, c.meta.model);
  EXPECT_EQ(r.meta.model_config, c.meta.model_config);
  EXPECT_EQ(r.meta.epoch, 7);
  EXPECT_EQ(r.meta.step, 123456789012LL);
  EXPECT_EQ(r.meta.optimizer, "rmsprop");
  EXPECT_EQ(r.meta.best_metric, c.meta.best_metric);
  EXPECT_EQ(r.meta.extra, c.meta.extra);
  expect_same_tensors(r.params, c.params);
  expect_same_tensors(r.optimizer_state, c.optimizer_state);
  // The generator resumes exactly where it was.
  std::mt19937_64 a(42), b;
  a.discard(1000);
  rng_state_from_text(r.meta.rng_state, b);
  EXPECT_EQ(a(), b());
  // Writing what was read gives the same bytes.
  write_checkpoint(path("b.ckpt"), r);
  EXPECT_EQ(read_file(p), read_file(path("b.ckpt")));
  // No temporary files are left behind.
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
}

TEST_F(CheckpointTest, ModelAndOptimizerRoundTripThroughParams) {
  Tensor w = random_tensor({4, 3}, 5), gw({4, 3}), mean = random_tensor({3}, 6);
  gw.fill(0.5f);
  ParamList params{{"fc.weight", &w, &gw}, {"bn.moving_mean", &mean, nullptr}};
  auto opt = make_optimizer("adam");
  opt->step(params, 0.1);
  CheckpointMeta meta{.model = "tiny", .epoch = 1, .step = 1, .optimizer = "adam"};
  write_checkpoint(path("m.ckpt"), meta, params, opt->export_state());

  Checkpoint r = read_checkpoint(path("m.ckpt"));
  Tensor w2({4, 3}), g2({4, 3}), mean2({3});
  ParamList params2{{"fc.weight", &w2, &g2}, {"bn.moving_mean", &mean2, nullptr}};
  load_params(r.params, params2, "m.ckpt");
  EXPECT_EQ(0, std::memcmp(w.data(), w2.data(), 12 * 4));
  EXPECT_EQ(0, std::memcmp(mean.data(), mean2.data(), 3 * 4));
  auto opt2 = make_optimizer(r.meta.optimizer);
  opt2->import_state(r.optimizer_state, params2);
  g2.fill(0.5f);
  opt->step(params, 0.1);
  opt2->step(params2, 0.1);
  EXPECT_EQ(0, std::memcmp(w.data(), w2.data(), 12 * 4));
}

TEST_F(CheckpointTest, LoadParamsNamesEveryMismatchAndChangesNothing) {
  Tensor a({2, 2}), b({3}), c({5});
  a.fill(7.f);
  ParamList params{{"a", &a, nullptr}, {"b", &b, nullptr}, {"c", &c, nullptr}};
  NamedTensors saved;
  saved.push_back({"a", Tensor({2, 2})});
  saved.push_back({"b", Tensor({4})});      // mis-shaped
  saved.push_back({"extra", Tensor({1})});  // not in the model; "c" is missing
  try {
    load_params(saved, params, "model.ckpt");
    ADD_FAILURE();
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("model.ckpt"), std::string::npos) << m;
    EXPECT_NE(m.find("'b' is 3 in the model but 4"), std::string::npos) << m;
    EXPECT_NE(m.find("'c' (5) is missing"), std::string::npos) << m;
    EXPECT_NE(m.find("'extra' (1) matches no model parameter"), std::string::npos) << m;
  }
  EXPECT_EQ(a[0], 7.f);  // "a" matched but was not copied: all or nothing
}

TEST_F(CheckpointTest, TruncationAtAnyPointIsReported) {
  const std::string p = path("t.ckpt");
  write_checkpoint(p, sample_checkpoint());
  const Bytes full = read_file(p);
  const size_t n = full.size();
  for (size_t cut : {size_t{0}, size_t{5}, size_t{8}, size_t{12}, size_t{23}, size_t{24},
                     size_t{40}, n / 3, n / 2, n - 100, n - 5, n - 4, n - 1}) {
    SCOPED_TRACE(cut);
    write_file(p, Bytes(full.begin(), full.begin() + long(cut)));
    expect_read_error(p, fmt::format("truncated at byte {}", cut));
  }
}

TEST_F(CheckpointTest, EveryFlippedByteIsDetected) {
  Checkpoint c;
  c.meta.model = "m";
  c.params.push_back({"w", random_tensor({2, 3}, 9)});
  c.optimizer_state.push_back({"w/m", random_tensor({2, 3}, 10)});
  const std::string p = path("f.ckpt");
  write_checkpoint(p, c);
  const Bytes good = read_file(p);
  // Flips in place: rewriting whole files makes ext4 discard blocks, which is slow.
  auto flip = [&](size_t i) {
    std::fstream f(p, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(long(i));
    f.put(char(good[i] ^ 0x10));
  };
  auto restore = [&](size_t i) {
    std::fstream f(p, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(long(i));
    f.put(good[i]);
  };
  for (size_t i = 0; i < good.size(); ++i) {
    SCOPED_TRACE(i);
    flip(i);
    if (i < 8)
      expect_read_error(p, "not an xcept checkpoint");
    else if (i < 12)
      expect_read_error(p, "unsupported checkpoint format version");
    else if (i >= 16 && i < 24)
      EXPECT_THROW(read_checkpoint(p), Error);  // the size field
    else
      expect_read_error(p, "checksum mismatch");
    restore(i);
  }
  EXPECT_EQ(read_file(p), good);
}

TEST_F(CheckpointTest, ForeignFilesAreRejected) {
  const std::string p = path("foreign.bin");
  write_file(p, Bytes{'h', 'e', 'l', 'l', 'o', ',', ' ', 'w', 'o', 'r', 'l', 'd', '\n'});
  expect_read_error(p, "not an xcept checkpoint");
  write_file(p, Bytes{'\x89', 'P', 'N', 'G'});
  expect_read_error(p, "not an xcept checkpoint");
  expect_read_error(path("missing.ckpt"), "cannot open");
  expect_read_error(dir_.string(), "not a regular file");
}

// Builds checkpoint files by hand, from the format description in io/checkpoint.h, with a
// correct size and CRC: what a crafted (not damaged) file looks like.
struct Builder {
  Bytes b;
  void put(const void* p, size_t n) { b.insert(b.end(), (const char*)p, (const char*)p + n); }
  void u32(uint32_t v) { put(&v, 4); }
  void u64(uint64_t v) { put(&v, 8); }
  void header(uint32_t version = 1) {
    put("XCEPTCKP", 8);
    u32(version);
    u32(0);
    u64(0);  // size: patched by finish()
  }
  void json(const std::string& s) {
    u64(s.size());
    put(s.data(), s.size());
  }
  void tensor(const std::string& name, const Dims& dims, uint64_t data_bytes) {
    u32(uint32_t(name.size()));
    put(name.data(), name.size());
    u32(uint32_t(dims.size()));
    for (int64_t d : dims) u64(uint64_t(d));
    b.resize(b.size() + data_bytes, 0);
  }
  Bytes finish() {
    uint64_t size = b.size() + 4;
    std::memcpy(b.data() + 16, &size, 8);
    uint32_t crc = uint32_t(::crc32(0, reinterpret_cast<const Bytef*>(b.data()), uInt(b.size())));
    u32(crc);
    return b;
  }
};

TEST_F(CheckpointTest, HandBuiltFileFollowsTheDocumentedFormat) {
  Builder f;
  f.header();
  f.json(R"({"model":"hand","epoch":3})");
  f.u64(1);
  f.tensor("w", {2, 2}, 16);
  f.u64(0);
  const std::string p = path("hand.ckpt");
  write_file(p, f.finish());
  Checkpoint c = read_checkpoint(p);
  EXPECT_EQ(c.meta.model, "hand");
  EXPECT_EQ(c.meta.epoch, 3);
  ASSERT_EQ(c.params.size(), 1u);
  EXPECT_EQ(c.params[0].tensor.dims(), (Dims{2, 2}));
}

TEST_F(CheckpointTest, CraftedLengthsAreRejectedBeforeAllocating) {
  const std::string p = path("crafted.ckpt");
  auto file = [&](auto body) {
    Builder f;
    f.header();
    body(f);
    write_file(p, f.finish());
  };
  // A tensor claiming 2^20 x 2^20 floats (4 TiB) in a file of a few dozen bytes.
  file([](Builder& f) {
    f.json("{}");
    f.u64(1);
    f.tensor("huge", {int64_t{1} << 20, int64_t{1} << 20}, 0);
    f.u64(0);
  });
  expect_read_error(p, "'huge' (1048576x1048576 floats of data) claims 4398046511104 bytes");
  file([](Builder& f) {
    f.u64(uint64_t{1} << 62);
    f.u64(0);  // padding to the smallest legal size, so the length itself is what fails
    f.u64(0);
  });
  expect_read_error(p, "metadata claims 4611686018427387904 bytes");
  file([](Builder& f) {
    f.json("{}");
    f.u64(uint64_t{1} << 40);
    f.u64(0);
  });
  expect_read_error(p, "tensor count 1099511627776 cannot fit");
  file([](Builder& f) {
    f.json("{}");
    f.u64(1);
    f.tensor("neg", {-1, 4}, 0);
    f.u64(0);
  });
  expect_read_error(p, "negative dimension");
  file([](Builder& f) {
    f.json("{}");
    f.u64(1);
    f.tensor("of", {int64_t{1} << 40, int64_t{1} << 40}, 0);
    f.u64(0);
  });
  expect_read_error(p, "overflows");
  file([](Builder& f) {
    f.json("{}");
    f.u64(2);
    f.tensor("twice", {1}, 4);
    f.tensor("twice", {1}, 4);
    f.u64(0);
  });
  expect_read_error(p, "'twice' appears twice");
  file([](Builder& f) {
    f.json("{not json");
    f.u64(0);
    f.u64(0);
  });
  expect_read_error(p, "metadata is not valid JSON");
  file([](Builder& f) {
    f.json(R"({"epoch":"seven"})");
    f.u64(0);
    f.u64(0);
  });
  expect_read_error(p, "'epoch' is not an integer");
  file([](Builder& f) {
    f.json("{}");
    f.u64(0);
    f.u64(0);
    f.u32(0xdeadbeef);  // a stray word before the checksum
  });
  expect_read_error(p, "4 unexpected bytes after the last tensor");
  Builder v;
  v.header(2);
  v.json("{}");
  v.u64(0);
  v.u64(0);
  write_file(p, v.finish());
  expect_read_error(p, "unsupported checkpoint format version 2");
}

// A write that fails must leave the previous checkpoint byte for byte, and no litter.
TEST_F(CheckpointTest, FailedWritesLeaveTheOldCheckpointUntouched) {
  const std::string p = path("keep.ckpt");
  Checkpoint old_ckpt = sample_checkpoint();
  write_checkpoint(p, old_ckpt);
  const Bytes before = read_file(p);
  Checkpoint big;
  big.params.push_back({"w", random_tensor({1 << 18}, 4)});  // 1 MiB

  // The file system refuses mid-write (file size limit): the temporary file is abandoned.
  {
    struct rlimit old_lim {};
    ASSERT_EQ(0, getrlimit(RLIMIT_FSIZE, &old_lim));
    auto old_handler = signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = old_lim;
    lim.rlim_cur = 64 * 1024;
    ASSERT_EQ(0, setrlimit(RLIMIT_FSIZE, &lim));
    std::string msg;
    try {
      write_checkpoint(p, big);
    } catch (const Error& e) {
      msg = e.what();
    }
    setrlimit(RLIMIT_FSIZE, &old_lim);
    signal(SIGXFSZ, old_handler);
    EXPECT_NE(msg.find("cannot write"), std::string::npos) << msg;
  }
  EXPECT_EQ(read_file(p), before);

  // The target is a directory: nothing replaces it.
  fs::create_directory(path("adir"));
  EXPECT_THROW(write_checkpoint(path("adir"), big), Error);
  EXPECT_TRUE(fs::is_directory(path("adir")));

  // The directory is missing.
  EXPECT_THROW(write_checkpoint(path("no/such/dir.ckpt"), big), Error);

  // A read-only directory (root ignores permissions, so only as a normal user).
  if (::geteuid() != 0) {
    fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec);
    EXPECT_THROW(write_checkpoint(p, big), Error);
    fs::permissions(dir_, fs::perms::owner_all);
  }
  EXPECT_EQ(read_file(p), before);
  expect_same_tensors(read_checkpoint(p).params, old_ckpt.params);
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
}

TEST_F(CheckpointTest, WriteRejectsBadTensorNames) {
  Checkpoint c;
  c.params.push_back({"w", Tensor({1})});
  c.params.push_back({"w", Tensor({1})});
  EXPECT_THROW(write_checkpoint(path("x.ckpt"), c), Error);
  c.params.pop_back();
  c.params.push_back({"", Tensor({1})});
  EXPECT_THROW(write_checkpoint(path("x.ckpt"), c), Error);
  EXPECT_FALSE(fs::exists(path("x.ckpt")));
}

TEST(RngState, RejectsGarbage) {
  std::mt19937_64 r;
  EXPECT_THROW(rng_state_from_text("not a state", r), Error);
  EXPECT_THROW(rng_state_from_text(rng_state_to_text(r) + " 12", r), Error);
}

}  // namespace
}  // namespace xcept
