// Checkpoint files: training metadata, model parameters and optimizer state in one binary
// file that a crash can never leave half-written.
//
// Format, version 1, little-endian:
//   char[8]  "XCEPTCKP"
//   u32      format version (1)
//   u32      reserved (0)
//   u64      total file size in bytes, checksum included (truncation is found at once)
//   u64 L,   L bytes: metadata as UTF-8 JSON (CheckpointMeta)
//   u64 N,   N tensor records: model parameters (trainable and not)
//   u64 M,   M tensor records: optimizer state (Optimizer::export_state)
//   u32      CRC-32 (zlib's) of every byte before it
// Tensor record: u32 name length, name bytes, u32 rank, i64 dims[rank], f32 data[product].
//
// write_checkpoint writes "<path>.tmp.<pid>", fsyncs it, renames it over `path` and fsyncs
// the directory: readers see the old file or the new one, never a mix, and a failed write
// leaves the old file as it was. read_checkpoint trusts nothing: it checks the magic, the
// version, the size, the CRC, and every length against the bytes left before allocating.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "core/named_tensor.h"
#include "layers/param.h"

namespace xcept {

inline constexpr uint32_t kCheckpointVersion = 1;

struct CheckpointMeta {
  std::string model{};  // e.g. "xception"
  nlohmann::json model_config = nlohmann::json::object();
  int64_t epoch = 0;        // epochs completed
  int64_t step = 0;         // optimizer steps taken in all
  std::string optimizer{};  // a make_optimizer name
  std::string rng_state{};  // rng_state_to_text()
  std::optional<double> best_metric{};
  nlohmann::json extra = nlohmann::json::object();  // anything else the caller keeps
};

struct Checkpoint {
  CheckpointMeta meta;
  NamedTensors params;           // model parameters, by full name
  NamedTensors optimizer_state;  // as Optimizer::export_state returns it
};

// Throws xcept::Error naming `path` (and the system's reason) on any failure, after
// removing its temporary file; an existing file at `path` is then untouched.
void write_checkpoint(const std::string& path, const Checkpoint& ckpt);
// Same, reading the parameters straight from the model (no copy of the weights).
void write_checkpoint(const std::string& path, const CheckpointMeta& meta, const ParamList& params,
                      const NamedTensors& optimizer_state);

// Throws xcept::Error naming `path`: "not an xcept checkpoint", "truncated at byte N",
// "checksum mismatch", an unsupported version, or the field whose length or dims cannot be.
Checkpoint read_checkpoint(const std::string& path);

// The metadata as the file encodes it (JSON), and back; errors name `source`.
nlohmann::json checkpoint_meta_to_json(const CheckpointMeta& meta);
CheckpointMeta checkpoint_meta_from_json(const nlohmann::json& j, const std::string& source);

// Copies of every parameter value (trainable and not), for Checkpoint::params.
NamedTensors snapshot_params(const ParamList& params);
// Copies saved tensors into the model's parameters by name. Checks everything first and
// throws, changing nothing, if a parameter is missing, a saved tensor has no parameter, or
// dims differ; the message lists the problems and names `source` (e.g. the file).
void load_params(const NamedTensors& saved, const ParamList& params, std::string_view source);

// The generator's full state as text (the standard's stream format), and back.
std::string rng_state_to_text(const std::mt19937_64& rng);
void rng_state_from_text(std::string_view text, std::mt19937_64& rng);

}  // namespace xcept
