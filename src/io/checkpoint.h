// Checkpoints in the safetensors format (https://github.com/huggingface/safetensors):
//   8 bytes   little-endian u64 N = header length
//   N bytes   JSON: {"__metadata__": {str: str}, "<name>": {"dtype": "F32", "shape": [...],
//             "data_offsets": [begin, end]}, ...}, offsets relative to the end of the header
//   raw       little-endian float32 data, tensors back to back in header order
// A fas checkpoint holds the model's parameters and buffers under their state-dict names and
// the optimizer state under "optim.<name>", with metadata "fas_model" (registry name),
// "fas_config" (model config JSON), "epoch", "step" and free extra keys (e.g. "history").
#pragma once
#include <map>
#include <string>

#include "tensor/tensor.h"

namespace fas {

class Module;
class Optimizer;

using TensorMap = std::map<std::string, Tensor>;
using Metadata = std::map<std::string, std::string>;

// Atomic (io/atomic_file.h: temp file, fsync, rename, fsync of the directory), so a crash or
// error leaves either the old file or the new one, never a half-written one.
void save_safetensors(const std::string& path, const TensorMap& tensors, const Metadata& meta);

struct SafeTensors {
  TensorMap tensors;
  Metadata meta;
};
// Validates everything it reads: file size vs header length, JSON syntax, dtype F32 only,
// offsets inside the data and matching the shape, no overlaps. Errors name the file.
SafeTensors load_safetensors(const std::string& path);
// The same from the file's bytes in memory; `path` names it in errors.
SafeTensors parse_safetensors(const unsigned char* bytes, size_t size, const std::string& path);

// --- fas checkpoints on top of the format
inline const char* kOptimPrefix = "optim.";
inline const char* kEmaPrefix = "ema.";  // the weight average of `fas train --ema` (optim/ema.h)

struct CheckpointInfo {
  std::string model;   // registry name
  std::string config;  // JSON
  int64_t epoch = 0;   // completed epochs
  int64_t step = 0;    // optimizer steps taken
  Metadata extra;      // any other metadata
};

// ema: the weight average's state dict, saved under "ema.<name>" (nullptr: none).
void save_checkpoint(const std::string& path, const CheckpointInfo& info, const Module& model,
                     const Optimizer* opt, const TensorMap* ema = nullptr);
// The same with the optimizer state given as tensors (a training step with several optimizers).
void save_checkpoint(const std::string& path, const CheckpointInfo& info, const Module& model,
                     const TensorMap& optim_state, const TensorMap* ema = nullptr);

struct Checkpoint {
  CheckpointInfo info;
  TensorMap model;  // state dict of the model
  TensorMap optim;  // optimizer state, prefix stripped (empty if none saved)
  TensorMap ema;    // weight average, prefix stripped (empty if none saved)
};
// expected_model: when non-empty, a checkpoint of another model is an error naming both.
Checkpoint load_checkpoint(const std::string& path, const std::string& expected_model = "");
// The same from parsed safetensors (the metadata checks and the split into model/optim/ema).
Checkpoint checkpoint_from(SafeTensors st, const std::string& path, const std::string& expected_model = "");
// Copies the tensors into model (and opt when given and state was saved); a missing tensor or a
// shape mismatch is one fas::Error naming the checkpoint file and the tensor.
void restore_checkpoint(const Checkpoint& ck, const std::string& path, Module& model, Optimizer* opt);

}  // namespace fas
