// fas export: writes a checkpoint's inference engine as a .fasm file (deploy/fasm.h) -- what the
// minimal build (FAS_MINIMAL) loads through the C API (include/fas/fas_c.h).
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "deploy/fasm.h"
#include "deploy/fasm_write.h"
#include "io/atomic_file.h"
#include "iqa/iqa.h"
#include "kernels/lbp.h"
#include "models/mobilenetv2_infer.h"
#include "models/mobilenetv2_int8.h"

namespace fas::cli {

namespace {

// lbp-lr from its config and weights: the model's forward is Dense(histograms - scale / 59)
// (models/lbp_lr.cpp), so the offset is that float.
fasm::LbpLrModel lbp_lr_model(const LoadedModel& m) {
  fasm::LbpLrModel l;
  const Json& c = m.config;
  l.C = c.at("channels").get<int64_t>(), l.H = c.at("height").get<int64_t>(), l.W = c.at("width").get<int64_t>();
  l.ycc = c.at("space").get<std::string>() == "ycc";
  l.grid = c.at("grid").get<int>();
  for (const auto& r : c.at("radii")) l.radii.push_back(r.get<int>());
  l.scale = c.at("scale").get<float>();
  l.offset = -l.scale / (float)kLbpBins;
  Tensor w, b;
  for (auto& [name, t] : m.module->named_parameters()) {
    if (name == "logits.weight") w = t;
    if (name == "logits.bias") b = t;
  }
  if (!w.defined() || !b.defined() || b.numel() != 1) fail("export: lbp-lr checkpoint without its logits layer");
  l.w.assign(w.data(), w.data() + w.numel());
  l.bias = b.data()[0];
  return l;
}

// wiqa-lda from its config (selected metrics, transform) and state (models/wiqa_lda.cpp): the
// standardisation buffers and the LDA layer as stored.
fasm::WiqaLdaModel wiqa_lda_model(const LoadedModel& m) {
  fasm::WiqaLdaModel l;
  const Json& c = m.config;
  l.H = c.at("height").get<int64_t>(), l.W = c.at("width").get<int64_t>();
  l.slog = c.value("transform", Json("none")) == "slog";
  const Json feats = c.value("features", Json("all"));
  const auto& names = iqa::metric_names();
  if (feats == "all")
    for (int k = 0; k < iqa::kNumMetrics; ++k) l.cols.push_back(k);
  if (feats.is_array())
    for (const Json& f : feats)
      for (int k = 0; k < iqa::kNumMetrics; ++k)
        if (f.is_string() && f.get<std::string>() == names[k]) l.cols.push_back(k);
  const std::map<std::string, Tensor> sd = m.module->state_dict();
  auto vec = [&](const char* name) {
    const auto it = sd.find(name);
    if (it == sd.end() || it->second.numel() != (int64_t)l.cols.size())
      fail(std::string("export: wiqa-lda checkpoint without a matching '") + name + "'");
    return std::vector<float>(it->second.data(), it->second.data() + it->second.numel());
  };
  l.shift = vec("shift"), l.scale = vec("scale"), l.w = vec("lda.weight");
  const auto b = sd.find("lda.bias");
  if (b == sd.end() || b->second.numel() != 1) fail("export: wiqa-lda checkpoint without its LDA bias");
  l.bias = b->second.data()[0];
  return l;
}

}  // namespace

int run_export(const ExportOptions& o) {
  setup_threads(o.common.threads);
  if (o.common.out.empty()) fail("export: --out FILE is required (the .fasm file)");
  LoadedModel m = load_model(o.ckpt);
  const std::string& e = o.engine.name;
  if (o.engine.calib_pct > 0 && e != "int8") fail("export: --calib-pct applies to the int8 engine, not '" + e + "'");
  std::string bytes;
  if (m.info->name == "mobilenetv2-lite") {
    auto& net = module_as<MobileNetV2Lite>(*m.module, "mobilenetv2-lite");
    if (net.config().eval_tiles) fail("export: the engines score whole images; this checkpoint evaluates tiles");
    if (e == "float") {
      bytes = fasm::export_mobilenetv2(MobileNetV2Infer(net));
    } else if (e == "int8") {
      // Calibrated exactly as `fas eval --engine int8` calibrates (same list, count and seed).
      const Tensor calib = load_calibration(m, e, o.engine.calib, o.engine.calib_n, o.common.seed);
      bytes = fasm::export_mobilenetv2(MobileNetV2Int8(fold_mobilenetv2(net), calib.data(), calib.size(0),
                                                         int8_options(o.engine.calib_pct)));
    } else {
      fail("export: mobilenetv2-lite exports engine float or int8, not '" + e + "'");
    }
  } else if (m.info->name == "lbp-lr") {
    if (e != "float") fail("export: lbp-lr exports one form, float; not '" + e + "'");
    bytes = fasm::export_lbp_lr(lbp_lr_model(m));
  } else if (m.info->name == "wiqa-lda") {
    if (e != "float") fail("export: wiqa-lda exports one form, float; not '" + e + "'");
    bytes = fasm::export_wiqa_lda(wiqa_lda_model(m));
  } else {
    fail("export: model '" + m.info->name + "' has no deployable engine (mobilenetv2-lite, lbp-lr and wiqa-lda have)");
  }
  io::write_file_atomic(o.common.out, bytes);
  std::printf("exported %s (%s) -> %s, %zu bytes\n", o.ckpt.c_str(),
              (m.info->name != "mobilenetv2-lite" ? m.info->name : m.info->name + " " + e).c_str(), o.common.out.c_str(),
              bytes.size());
  return 0;
}

}  // namespace fas::cli
