#include "io/checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

#include "core/error.h"
#include "io/atomic_file.h"

namespace xcept {

static_assert(std::endian::native == std::endian::little,
              "checkpoint I/O copies little-endian integers and floats as they are in memory");

namespace {

constexpr char kMagic[8] = {'X', 'C', 'E', 'P', 'T', 'C', 'K', 'P'};
constexpr uint64_t kHeaderBytes = 24;  // magic, version, reserved, file size
constexpr uint64_t kMinFileBytes = kHeaderBytes + 8 + 8 + 8 + 4;
constexpr uint32_t kMaxNameBytes = 4096;
constexpr uint32_t kMaxRank = 8;

std::string sys_error() {
  return std::strerror(errno);
}

// zlib's CRC-32 takes 32-bit lengths; checkpoints can be larger.
uint32_t crc32_update(uint32_t crc, const void* data, uint64_t n) {
  const auto* p = static_cast<const Bytef*>(data);
  while (n > 0) {
    uInt chunk = uInt(std::min<uint64_t>(n, uint64_t{1} << 30));
    crc = uint32_t(::crc32(crc, p, chunk));
    p += chunk;
    n -= chunk;
  }
  return crc;
}

// ---- writing

struct TensorView {
  const std::string* name;
  const Tensor* tensor;
};

uint64_t check_section(const std::vector<TensorView>& section, const char* what,
                       const std::string& path) {
  uint64_t bytes = 8;
  std::set<std::string_view> names;
  for (const TensorView& t : section) {
    const Dims& d = t.tensor->dims();
    if (t.name->empty() || t.name->size() > kMaxNameBytes)
      fail("{}: {} tensor name '{}' must be 1 to {} bytes", path, what, *t.name, kMaxNameBytes);
    if (!names.insert(*t.name).second)
      fail("{}: two {} tensors are named '{}'", path, what, *t.name);
    if (d.size() > kMaxRank)
      fail("{}: {} tensor '{}' has rank {} > {}", path, what, *t.name, d.size(), kMaxRank);
    int64_t numel = 1;
    for (int64_t x : d) numel *= x;  // Tensor already bounded the product
    if (numel != t.tensor->numel() || (numel > 0 && !t.tensor->data()))
      fail("{}: {} tensor '{}' is empty (default-constructed)", path, what, *t.name);
    bytes += 4 + t.name->size() + 4 + 8 * d.size() + 4 * uint64_t(numel);
  }
  return bytes;
}

// Buffered writes to a file descriptor, with the running CRC.
class FdWriter {
 public:
  FdWriter(int fd, const std::string& path) : fd_(fd), path_(path) { buf_.reserve(kBuf); }
  void put(const void* data, size_t n) {
    crc_ = crc32_update(crc_, data, n);
    const char* p = static_cast<const char*>(data);
    if (buf_.size() + n > kBuf) flush();
    if (n >= kBuf) return raw(p, n);
    buf_.insert(buf_.end(), p, p + n);
  }
  void u32(uint32_t v) { put(&v, 4); }
  void u64(uint64_t v) { put(&v, 8); }
  void flush() {
    raw(buf_.data(), buf_.size());
    buf_.clear();
  }
  uint32_t crc() const { return crc_; }
  uint64_t written() const { return written_; }

 private:
  static constexpr size_t kBuf = size_t{1} << 20;
  void raw(const char* p, size_t n) {
    write_all(fd_, p, n, path_);
    written_ += n;
  }
  int fd_;
  const std::string& path_;
  std::vector<char> buf_;
  uint32_t crc_ = 0;
  uint64_t written_ = 0;
};

void put_section(FdWriter& out, const std::vector<TensorView>& section) {
  out.u64(section.size());
  for (const TensorView& t : section) {
    out.u32(uint32_t(t.name->size()));
    out.put(t.name->data(), t.name->size());
    out.u32(uint32_t(t.tensor->rank()));
    for (int64_t d : t.tensor->dims()) out.put(&d, 8);
    if (t.tensor->numel() > 0) out.put(t.tensor->data(), size_t(t.tensor->numel()) * 4);
  }
}

void write_views(const std::string& path, const CheckpointMeta& meta,
                 const std::vector<TensorView>& params, const std::vector<TensorView>& optim) {
  std::string json;
  try {
    json = checkpoint_meta_to_json(meta).dump();
  } catch (const nlohmann::json::exception& e) {
    fail("{}: checkpoint metadata cannot be written as JSON: {}", path, e.what());
  }
  const uint64_t total = kHeaderBytes + 8 + json.size() + check_section(params, "parameter", path) +
                         check_section(optim, "optimizer state", path) + 4;

  write_file_atomic(path, [&](int fd) {
    FdWriter out(fd, path);
    out.put(kMagic, 8);
    out.u32(kCheckpointVersion);
    out.u32(0);
    out.u64(total);
    out.u64(json.size());
    out.put(json.data(), json.size());
    put_section(out, params);
    put_section(out, optim);
    const uint32_t crc = out.crc();
    out.u32(crc);
    out.flush();
    if (out.written() != total)
      fail("{}: internal error: wrote {} bytes, expected {}", path, out.written(), total);
  });
}

// ---- reading

class FileReader {
 public:
  explicit FileReader(const std::string& path) : path_(path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("{}: cannot open checkpoint: {}", path, sys_error());
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      fail("{}: not a regular file", path);
    }
    size_ = uint64_t(st.st_size);
    f_ = ::fdopen(fd, "rb");
    if (!f_) {
      ::close(fd);
      fail("{}: cannot open checkpoint: {}", path, sys_error());
    }
  }
  ~FileReader() { std::fclose(f_); }
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  uint64_t size() const { return size_; }
  uint64_t pos() const { return pos_; }
  // Reads exactly n bytes at the current position; the caller has checked n fits.
  void read(void* dst, uint64_t n) {
    if (n == 0) return;
    if (std::fread(dst, 1, n, f_) != n)
      fail("{}: read failed at byte {} (the file changed while being read?)", path_, pos_);
    pos_ += n;
  }
  void seek(uint64_t pos) {
    if (std::fseek(f_, long(pos), SEEK_SET) != 0) fail("{}: seek failed: {}", path_, sys_error());
    pos_ = pos;
  }

 private:
  std::string path_;
  std::FILE* f_ = nullptr;
  uint64_t size_ = 0, pos_ = 0;
};

// Parses the body of a file whose size and CRC are already verified. Lengths are still
// checked: a file can be crafted with a valid CRC, and nothing is allocated on its word.
class BodyParser {
 public:
  BodyParser(FileReader& in, const std::string& path, uint64_t end)
      : in_(in), path_(path), end_(end) {}

  uint64_t left() const { return end_ - in_.pos(); }
  void need(uint64_t n, const std::string& what) {
    if (n > left())
      fail("{}: {} claims {} bytes at byte {}, but only {} bytes remain before the checksum", path_,
           what, n, in_.pos(), left());
  }
  uint32_t u32(const std::string& what) {
    uint32_t v;
    need(4, what);
    in_.read(&v, 4);
    return v;
  }
  uint64_t u64(const std::string& what) {
    uint64_t v;
    need(8, what);
    in_.read(&v, 8);
    return v;
  }

  std::string json() {
    uint64_t n = u64("metadata length");
    need(n, "metadata");
    std::string s(n, '\0');
    in_.read(s.data(), n);
    return s;
  }

  NamedTensors section(const char* what) {
    uint64_t count = u64(std::string(what) + " tensor count");
    // Each record is at least 8 bytes (name length and rank), which bounds any count.
    if (count > left() / 8)
      fail("{}: {} tensor count {} cannot fit in the {} bytes that remain", path_, what, count,
           left());
    NamedTensors out;
    std::set<std::string> names;
    for (uint64_t i = 0; i < count; ++i) {
      std::string label = fmt::format("{} tensor #{}", what, i);
      uint32_t name_len = u32(label + " name length");
      if (name_len == 0 || name_len > kMaxNameBytes)
        fail("{}: {} has a name of {} bytes (must be 1 to {})", path_, label, name_len,
             kMaxNameBytes);
      need(name_len, label + " name");
      std::string name(name_len, '\0');
      in_.read(name.data(), name_len);
      label = fmt::format("{} tensor '{}'", what, name);
      if (!names.insert(name).second) fail("{}: {} appears twice", path_, label);
      uint32_t rank = u32(label + " rank");
      if (rank > kMaxRank) fail("{}: {} has rank {} (at most {})", path_, label, rank, kMaxRank);
      Dims dims(rank);
      need(8 * uint64_t(rank), label + " dims");
      in_.read(dims.data(), 8 * uint64_t(rank));
      uint64_t numel = 1;
      for (int64_t d : dims) {
        if (d < 0) fail("{}: {} has a negative dimension ({})", path_, label, dims_to_string(dims));
        if (__builtin_mul_overflow(numel, uint64_t(d), &numel) || numel > (uint64_t{1} << 61))
          fail("{}: {} has dims {} whose product overflows", path_, label, dims_to_string(dims));
      }
      need(numel * 4, fmt::format("{} ({} floats of data)", label, dims_to_string(dims)));
      Tensor t(dims);
      in_.read(t.data(), numel * 4);
      out.push_back({std::move(name), std::move(t)});
    }
    return out;
  }

 private:
  FileReader& in_;
  const std::string& path_;
  uint64_t end_;
};

}  // namespace

void write_checkpoint(const std::string& path, const Checkpoint& ckpt) {
  std::vector<TensorView> params, optim;
  for (const NamedTensor& t : ckpt.params) params.push_back({&t.name, &t.tensor});
  for (const NamedTensor& t : ckpt.optimizer_state) optim.push_back({&t.name, &t.tensor});
  write_views(path, ckpt.meta, params, optim);
}

void write_checkpoint(const std::string& path, const CheckpointMeta& meta, const ParamList& params,
                      const NamedTensors& optimizer_state) {
  std::vector<TensorView> p, optim;
  for (const ParamRef& r : params) {
    if (!r.value) fail("{}: parameter '{}' has no value tensor", path, r.name);
    p.push_back({&r.name, r.value});
  }
  for (const NamedTensor& t : optimizer_state) optim.push_back({&t.name, &t.tensor});
  write_views(path, meta, p, optim);
}

Checkpoint read_checkpoint(const std::string& path) {
  FileReader in(path);
  const uint64_t size = in.size();

  char magic[8] = {};
  in.read(magic, std::min<uint64_t>(size, 8));
  if (std::memcmp(magic, kMagic, std::min<uint64_t>(size, 8)) != 0)
    fail("{}: not an xcept checkpoint (it does not start with \"XCEPTCKP\")", path);
  if (size < kHeaderBytes)
    fail("{}: truncated at byte {} (the header alone is {} bytes)", path, size, kHeaderBytes);
  uint32_t version, reserved;
  uint64_t declared;
  in.read(&version, 4);
  in.read(&reserved, 4);
  in.read(&declared, 8);
  if (version != kCheckpointVersion)
    fail("{}: unsupported checkpoint format version {} (this build reads version {})", path,
         version, kCheckpointVersion);
  if (declared < kMinFileBytes)
    fail("{}: header declares a size of {} bytes, below the smallest checkpoint ({})", path,
         declared, kMinFileBytes);
  if (size < declared)
    fail("{}: truncated at byte {} (the header declares {} bytes)", path, size, declared);
  if (size > declared)
    fail("{}: {} unexpected bytes after byte {}, where the header says the file ends", path,
         size - declared, declared);

  // Verify the checksum before parsing, so damage reads as damage and not as some odd length.
  in.seek(0);
  uint32_t crc = 0;
  {
    std::vector<char> buf(std::min<uint64_t>(declared - 4, uint64_t{1} << 20));
    for (uint64_t left = declared - 4; left > 0;) {
      uint64_t n = std::min<uint64_t>(left, buf.size());
      in.read(buf.data(), n);
      crc = crc32_update(crc, buf.data(), n);
      left -= n;
    }
  }
  uint32_t stored;
  in.read(&stored, 4);
  if (stored != crc)
    fail("{}: checksum mismatch (stored {:08x}, computed {:08x}): the file is damaged", path,
         stored, crc);

  in.seek(kHeaderBytes);
  BodyParser body(in, path, declared - 4);
  Checkpoint ckpt;
  std::string json = body.json();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: metadata is not valid JSON: {}", path, e.what());
  }
  ckpt.meta = checkpoint_meta_from_json(j, path);
  ckpt.params = body.section("parameter");
  ckpt.optimizer_state = body.section("optimizer state");
  if (body.left() != 0) fail("{}: {} unexpected bytes after the last tensor", path, body.left());
  return ckpt;
}

// ---- metadata <-> JSON

nlohmann::json checkpoint_meta_to_json(const CheckpointMeta& m) {
  nlohmann::json j;
  j["model"] = m.model;
  j["model_config"] = m.model_config;
  j["epoch"] = m.epoch;
  j["step"] = m.step;
  j["optimizer"] = m.optimizer;
  j["rng_state"] = m.rng_state;
  j["best_metric"] = m.best_metric ? nlohmann::json(*m.best_metric) : nlohmann::json(nullptr);
  j["extra"] = m.extra;
  return j;
}

CheckpointMeta checkpoint_meta_from_json(const nlohmann::json& j, const std::string& path) {
  if (!j.is_object()) fail("{}: metadata is not a JSON object", path);
  CheckpointMeta m;
  auto field = [&](const char* key, auto check, const char* want) -> const nlohmann::json* {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return nullptr;
    if (!check(*it)) fail("{}: metadata field '{}' is not {}", path, key, want);
    return &*it;
  };
  auto is_str = [](const nlohmann::json& v) { return v.is_string(); };
  auto is_int = [](const nlohmann::json& v) { return v.is_number_integer(); };
  auto is_num = [](const nlohmann::json& v) { return v.is_number(); };
  auto is_obj = [](const nlohmann::json& v) { return v.is_object(); };
  if (auto v = field("model", is_str, "a string")) m.model = v->get<std::string>();
  if (auto v = field("model_config", is_obj, "an object")) m.model_config = *v;
  if (auto v = field("epoch", is_int, "an integer")) m.epoch = v->get<int64_t>();
  if (auto v = field("step", is_int, "an integer")) m.step = v->get<int64_t>();
  if (auto v = field("optimizer", is_str, "a string")) m.optimizer = v->get<std::string>();
  if (auto v = field("rng_state", is_str, "a string")) m.rng_state = v->get<std::string>();
  if (auto v = field("best_metric", is_num, "a number")) m.best_metric = v->get<double>();
  if (auto v = field("extra", is_obj, "an object")) m.extra = *v;
  return m;
}

}  // namespace xcept
