// fas project and fas generate: the auto-decoder's (spec 004) own subcommands.
//   project   finds each image's code with the decoder frozen (models/autodecoder.h) and reports
//             its reconstruction MSE: held-out images get a real error, the honest validation the
//             thesis lacked; writes codes.csv and reconstructions.png (inputs above decodings).
//   generate  decodes a code given in standard deviations about the mean of the learned codes
//             (the spec's sliders), from a preset, an interpolation strip or a hybrid of two codes.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "autograd/graph.h"
#include "cli/autodecoder_cli.h"
#include "cli/common.h"
#include "io/atomic_file.h"
#include "io/plot.h"

namespace fas::cli {

AutoDecoderCkpt load_autodecoder(const std::string& path) {
  AutoDecoderCkpt a;
  a.m = load_model(path);
  a.ad = dynamic_cast<AutoDecoder*>(a.m.module.get());
  if (!a.ad) fail("checkpoint '" + path + "' holds model '" + a.m.info->name + "', not an autodecoder");
  auto it = a.m.ckpt.info.extra.find(kGroupsKey);
  if (it != a.m.ckpt.info.extra.end()) {
    Json g = Json::parse(it->second, nullptr, false);
    if (!g.is_array() || (int64_t)g.size() != a.ad->images())
      fail("checkpoint '" + path + "': bad '" + kGroupsKey + "' metadata (one integer per code expected)");
    for (auto& v : g) {
      if (!v.is_number_integer()) fail("checkpoint '" + path + "': bad '" + kGroupsKey + "' metadata");
      a.groups.push_back(v.get<int>());
    }
  }
  a.stats = latent_stats(*a.ad, a.groups);
  return a;
}

std::vector<float> code_of(const AutoDecoder& ad, int64_t k) {
  if (k < 0 || k >= ad.images())
    fail("image " + std::to_string(k) + " is outside the model's codes [0, " + std::to_string(ad.images()) + ")");
  const float* w = ad.codes->weight.data() + k * ad.latent();
  return std::vector<float>(w, w + ad.latent());
}

Tensor decode_one(AutoDecoder& ad, const std::vector<float>& z) {
  NoGradGuard ng;
  Tensor out = ad.decode(Tensor::from({1, (int64_t)z.size()}, z));
  return out.reshape({3, 256, 256});
}

std::vector<float> preset_sd(const AutoDecoderCkpt& a, const std::string& preset, uint64_t seed) {
  const size_t d = a.stats.mean.size();
  if (preset == "mean") return std::vector<float>(d, 0.f);
  if (preset == "random") {  // spec §4: clip(N(0, 1), -3, 3) per slider
    Rng rng(seed);
    std::vector<float> s(d);
    for (auto& v : s) v = std::clamp(rng.normal(), -3.f, 3.f);
    return s;
  }
  auto number_after = [&](const std::string& prefix) -> int64_t {
    const std::string rest = preset.substr(prefix.size());
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(rest, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != rest.size()) fail("--preset " + preset + ": '" + rest + "' is not an integer");
    return v;
  };
  if (preset.rfind("group:", 0) == 0) {
    if (a.groups.empty()) fail("--preset " + preset + ": the checkpoint records no groups");
    return code_to_sd(a.stats, latent_stats(*a.ad, a.groups, (int)number_after("group:")).mean);
  }
  if (preset.rfind("image:", 0) == 0) return code_to_sd(a.stats, code_of(*a.ad, number_after("image:")));
  fail("--preset " + preset + ": use mean, random, group:G or image:K");
}

namespace {

std::vector<float> parse_floats(const std::string& s, const char* what) {
  std::vector<float> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t used = 0;
    float f = 0;
    try {
      f = std::stof(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || !std::isfinite(f)) fail(std::string(what) + ": '" + item + "' is not a number");
    v.push_back(f);
  }
  return v;
}

std::vector<int64_t> parse_ints(const std::string& s, const char* what) {
  std::vector<int64_t> v;
  for (float f : parse_floats(s, what)) {
    if (f != std::floor(f)) fail(std::string(what) + ": " + std::to_string(f) + " is not an integer");
    v.push_back((int64_t)f);
  }
  return v;
}

std::string fmt_code(const std::vector<float>& s) {
  std::ostringstream o;
  o.precision(3);
  for (size_t j = 0; j < s.size(); ++j) o << (j ? "," : "") << s[j];
  return o.str();
}

}  // namespace

int run_generate(const GenerateOptions& o) {
  setup_threads(o.common.threads);
  if (o.common.out.empty()) fail("generate: --out FILE.png is required");
  AutoDecoderCkpt a = load_autodecoder(o.ckpt);
  const size_t d = a.stats.mean.size();
  std::vector<Tensor> frames;
  std::string what;
  if (!o.interpolate.empty()) {
    auto ab = parse_ints(o.interpolate, "--interpolate");
    if (ab.size() != 2) fail("--interpolate A,B takes two image numbers");
    if (o.frames < 2) fail("--frames must be at least 2");
    const auto za = code_of(*a.ad, ab[0]), zb = code_of(*a.ad, ab[1]);
    for (int f = 0; f < o.frames; ++f) {
      const float t = (float)f / (float)(o.frames - 1);
      std::vector<float> z(d);
      for (size_t j = 0; j < d; ++j) z[j] = (1 - t) * za[j] + t * zb[j];
      frames.push_back(decode_one(*a.ad, z));
    }
    what = "interpolation of images " + std::to_string(ab[0]) + " and " + std::to_string(ab[1]) + ", " +
           std::to_string(o.frames) + " frames";
  } else {
    std::vector<float> z;
    if (!o.hybrid.empty()) {
      auto ab = parse_ints(o.hybrid, "--hybrid");
      if (ab.size() != 2) fail("--hybrid A,B takes two image numbers");
      if (o.dims.empty()) fail("--hybrid needs --dims i,j,... (the dimensions taken from A)");
      const auto za = code_of(*a.ad, ab[0]);
      z = code_of(*a.ad, ab[1]);
      for (int64_t j : parse_ints(o.dims, "--dims")) {
        if (j < 0 || j >= (int64_t)d) fail("--dims: " + std::to_string(j) + " is outside [0, " + std::to_string(d) + ")");
        z[j] = za[j];
      }
      what = "hybrid: dimensions " + o.dims + " of image " + std::to_string(ab[0]) + ", the rest of image " +
             std::to_string(ab[1]);
    } else {
      std::vector<float> s = o.sd.empty() ? preset_sd(a, o.preset, o.common.seed) : parse_floats(o.sd, "--sd");
      if (s.size() != d)
        fail("--sd: the model's codes have " + std::to_string(d) + " dimensions, got " + std::to_string(s.size()) + " values");
      z = code_from_sd(a.stats, s);
      what = (o.sd.empty() ? "preset " + o.preset : "code") + " (standard deviations " + fmt_code(s) + ")";
    }
    frames.push_back(decode_one(*a.ad, z));
  }
  if (frames.size() == 1) plot::write_png(o.common.out, frames[0]);
  else plot::write_image_grid_png(o.common.out, {frames});
  std::printf("fas generate: %s -> %s\n", what.c_str(), o.common.out.c_str());
  return 0;
}

int run_project(const ProjectCliOptions& o) {
  setup_threads(o.common.threads);
  if (o.data.empty()) fail("project: --data LIST is required");
  AutoDecoderCkpt a = load_autodecoder(o.ckpt);
  Dataset ds(limit_samples(read_samples(o.data), o.limit, o.common.seed), image_spec(a.m.config), false, o.data);
  const std::string out = o.common.out.empty() ? "project" : o.common.out;
  ProjectOptions po;
  po.steps = o.steps;
  po.lr = o.lr;
  // Everything is read and projected before anything is written.
  LoaderOptions lo;
  lo.batch = 16;
  BatchLoader loader(ds, lo);
  Batch b;
  std::ostringstream csv;
  csv << "path,label,mse";
  for (int64_t j = 0; j < a.ad->latent(); ++j) csv << ",z" << j;
  csv << '\n';
  std::vector<Tensor> inputs, recons;
  double sum = 0;
  size_t n = 0;
  while (loader.next(b)) {
    Projection p = project_codes(*a.ad, b.x, a.stats.mean, po);
    for (size_t r = 0; r < b.index.size(); ++r) {
      csv << ds.sample(b.index[r]).path << ',' << (int)b.y.data()[r] << ',' << p.mse[r];
      for (int64_t j = 0; j < a.ad->latent(); ++j) csv << ',' << p.codes.data()[r * a.ad->latent() + j];
      csv << '\n';
      sum += p.mse[r];
      ++n;
      if (inputs.size() < 8) {
        const int64_t px = 3 * 256 * 256;
        inputs.push_back(Tensor::from({3, 256, 256}, std::vector<float>(b.x.data() + r * px, b.x.data() + (r + 1) * px)));
        NoGradGuard ng;
        std::vector<float> z(p.codes.data() + r * a.ad->latent(), p.codes.data() + (r + 1) * a.ad->latent());
        recons.push_back(decode_one(*a.ad, z));
      }
    }
  }
  make_dirs(out);
  io::write_file_atomic(join_path(out, "codes.csv"), csv.str());
  plot::write_image_grid_png(join_path(out, "reconstructions.png"), {inputs, recons});
  std::printf("fas project: %zu images, %d steps (lr %g): mean reconstruction MSE %.6f; codes in %s, grid in %s\n", n,
              o.steps, o.lr, sum / (double)n, join_path(out, "codes.csv").c_str(),
              join_path(out, "reconstructions.png").c_str());
  return 0;
}

}  // namespace fas::cli
