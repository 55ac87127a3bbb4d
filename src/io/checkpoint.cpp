#include "io/checkpoint.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <climits>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "io/atomic_file.h"
#include "layers/module.h"
#include "optim/optim.h"

namespace fas {

using json = nlohmann::json;

// The format stores little-endian bytes; we copy floats as they are in memory, which is only
// right on little-endian hosts (x86-64, aarch64 Linux — every platform fas targets).
static_assert(sizeof(float) == 4, "float32 expected");

namespace {

[[noreturn]] void io_fail(const std::string& path, const std::string& what) {
  fail("checkpoint '" + path + "': " + what + (errno ? std::string(" (") + std::strerror(errno) + ")" : ""));
}

[[noreturn]] void ck_fail(const std::string& path, const std::string& what) {
  fail("checkpoint '" + path + "': " + what);
}

}  // namespace

void save_safetensors(const std::string& path, const TensorMap& tensors, const Metadata& meta) {
  json header = json::object();
  json m = json::object();
  for (auto& [k, v] : meta) m[k] = v;
  header["__metadata__"] = m;
  uint64_t offset = 0;
  for (auto& [name, t] : tensors) {
    if (name == "__metadata__") fail("checkpoint '" + path + "': reserved tensor name '__metadata__'");
    if (!t.defined()) fail("checkpoint '" + path + "': tensor '" + name + "' is undefined");
    uint64_t bytes = (uint64_t)t.numel() * 4;
    header[name] = {{"dtype", "F32"}, {"shape", t.shape()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string h = header.dump();
  while (h.size() % 8) h.push_back(' ');  // the format's recommended alignment of the data
  const uint64_t hlen = h.size();
  unsigned char len8[8];
  for (int i = 0; i < 8; ++i) len8[i] = (unsigned char)(hlen >> (8 * i));

  std::string file;
  file.reserve(8 + h.size() + offset);
  file.append(reinterpret_cast<const char*>(len8), 8);
  file += h;
  for (auto& [name, t] : tensors) file.append(reinterpret_cast<const char*>(t.data()), (size_t)t.numel() * 4);
  io::write_file_atomic(path, file);
}

SafeTensors load_safetensors(const std::string& path) {
  std::error_code ec;  // a directory opens as a stream that reads as a read error
  if (std::filesystem::is_directory(path, ec)) ck_fail(path, "is a directory, not a checkpoint file");
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    errno = errno ? errno : ENOENT;
    io_fail(path, "cannot open");
  }
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) io_fail(path, "read error");
  return parse_safetensors(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), path);
}

SafeTensors parse_safetensors(const unsigned char* bytes, size_t fsize, const std::string& path) {
  if (fsize < 8) ck_fail(path, "truncated: " + std::to_string(fsize) + " bytes, no header length");
  uint64_t hlen = 0;
  for (int i = 0; i < 8; ++i) hlen |= (uint64_t)bytes[i] << (8 * i);
  if (hlen > fsize - 8) ck_fail(path, "truncated or not safetensors: header length " + std::to_string(hlen) +
                            " exceeds the file size " + std::to_string(fsize));
  json header;
  try {
    header = json::parse(bytes + 8, bytes + 8 + hlen);
  } catch (const std::exception& e) {
    ck_fail(path, std::string("bad JSON header: ") + e.what());
  }
  if (!header.is_object()) ck_fail(path, "bad header: not a JSON object");
  const unsigned char* data = bytes + 8 + hlen;
  const uint64_t data_size = fsize - 8 - hlen;
  SafeTensors out;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const json& e = it.value();
    if (name == "__metadata__") {
      if (!e.is_object()) ck_fail(path, "bad header: __metadata__ is not an object");
      for (auto m = e.begin(); m != e.end(); ++m) {
        if (!m.value().is_string()) ck_fail(path, "bad header: metadata '" + m.key() + "' is not a string");
        out.meta[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets"))
      ck_fail(path, "bad header entry for tensor '" + name + "'");
    if (e["dtype"] != "F32") ck_fail(path, "tensor '" + name + "' has dtype " + e["dtype"].dump() + ", only F32 is supported");
    if (!e["shape"].is_array()) ck_fail(path, "tensor '" + name + "': bad shape " + e["shape"].dump());
    if (e["shape"].size() > 5) ck_fail(path, "tensor '" + name + "': more than 5 dimensions");
    // The element count is computed without overflow: a crafted shape like [2^62, 4] must not
    // wrap around to a small product that matches the offsets.
    Shape shape;
    uint64_t numel = 1;
    bool too_big = false;
    for (auto& d : e["shape"]) {
      if (!d.is_number_unsigned()) ck_fail(path, "tensor '" + name + "': bad shape " + e["shape"].dump());
      const uint64_t v = d.get<uint64_t>();
      if (v > (uint64_t)INT64_MAX || __builtin_mul_overflow(numel, v, &numel)) too_big = true;
      shape.push_back(too_big ? 0 : (int64_t)v);
    }
    if (too_big || numel > data_size / 4)
      ck_fail(path, "truncated or bad shape: tensor '" + name + "' of shape " + e["shape"].dump() +
          " needs more bytes than the data section's " + std::to_string(data_size));
    const json& off = e["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      ck_fail(path, "tensor '" + name + "': bad data_offsets");
    uint64_t b = off[0].get<uint64_t>(), en = off[1].get<uint64_t>();
    if (b > en || en > data_size)
      ck_fail(path, "truncated: tensor '" + name + "' needs bytes [" + std::to_string(b) + ", " + std::to_string(en) +
          ") but the data section has " + std::to_string(data_size));
    if (en - b != numel * 4)
      ck_fail(path, "tensor '" + name + "': data_offsets span " + std::to_string(en - b) + " bytes, shape " +
          shape_str(shape) + " needs " + std::to_string(numel * 4));
    ranges.push_back({b, en});
    Tensor t = Tensor::zeros(shape);
    if (en > b) std::memcpy(t.data(), data + b, (size_t)(en - b));
    out.tensors[name] = t;
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second) ck_fail(path, "bad header: overlapping tensor data");
  return out;
}

void save_checkpoint(const std::string& path, const CheckpointInfo& info, const Module& model,
                     const Optimizer* opt, const TensorMap* ema) {
  save_checkpoint(path, info, model, opt ? opt->state_dict() : TensorMap{}, ema);
}

void save_checkpoint(const std::string& path, const CheckpointInfo& info, const Module& model,
                     const TensorMap& optim_state, const TensorMap* ema) {
  TensorMap all = model.state_dict();
  for (auto& [k, v] : optim_state) all[kOptimPrefix + k] = v;
  if (ema)
    for (auto& [k, v] : *ema) all[kEmaPrefix + k] = v;
  Metadata meta = info.extra;
  meta["format"] = "fas-checkpoint-1";
  meta["fas_model"] = info.model;
  meta["fas_config"] = info.config;
  meta["epoch"] = std::to_string(info.epoch);
  meta["step"] = std::to_string(info.step);
  save_safetensors(path, all, meta);
}

Checkpoint load_checkpoint(const std::string& path, const std::string& expected_model) {
  return checkpoint_from(load_safetensors(path), path, expected_model);
}

Checkpoint checkpoint_from(SafeTensors st, const std::string& path, const std::string& expected_model) {
  auto need = [&](const char* key) -> std::string {
    auto it = st.meta.find(key);
    if (it == st.meta.end()) fail("checkpoint '" + path + "': not a fas checkpoint (no metadata '" + key + "')");
    return it->second;
  };
  Checkpoint ck;
  ck.info.model = need("fas_model");
  ck.info.config = need("fas_config");
  try {
    ck.info.epoch = std::stoll(need("epoch"));
    ck.info.step = std::stoll(need("step"));
  } catch (const std::logic_error&) {
    fail("checkpoint '" + path + "': bad epoch/step metadata");
  }
  if (!expected_model.empty() && ck.info.model != expected_model)
    fail("checkpoint '" + path + "' holds model '" + ck.info.model + "', expected '" + expected_model + "'");
  for (auto& [k, v] : st.meta)
    if (k != "fas_model" && k != "fas_config" && k != "epoch" && k != "step") ck.info.extra[k] = v;
  const std::string pre = kOptimPrefix, epre = kEmaPrefix;
  for (auto& [k, v] : st.tensors) {
    if (k.compare(0, pre.size(), pre) == 0) ck.optim[k.substr(pre.size())] = v;
    else if (k.compare(0, epre.size(), epre) == 0) ck.ema[k.substr(epre.size())] = v;
    else ck.model[k] = v;
  }
  return ck;
}

void restore_checkpoint(const Checkpoint& ck, const std::string& path, Module& model, Optimizer* opt) {
  try {
    model.load_state_dict(ck.model, true);
    if (opt && !ck.optim.empty()) opt->load_state_dict(ck.optim);
  } catch (const Error& e) {
    fail("checkpoint '" + path + "' does not fit model '" + ck.info.model + "': " + e.what());
  }
}

}  // namespace fas
