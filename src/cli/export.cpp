// fas export: writes a checkpoint's inference engine as a .fasm file (deploy/fasm.h) -- what the
// minimal build (FAS_MINIMAL) loads through the C API (include/fas/fas_c.h).
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "deploy/fasm.h"
#include "deploy/fasm_write.h"
#include "io/atomic_file.h"
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

}  // namespace

int run_export(const ExportOptions& o) {
  setup_threads(o.common.threads);
  if (o.common.out.empty()) fail("export: --out FILE is required (the .fasm file)");
  LoadedModel m = load_model(o.ckpt);
  const std::string& e = o.engine.name;
  std::string bytes;
  if (m.info->name == "mobilenetv2-lite") {
    auto& net = module_as<MobileNetV2Lite>(*m.module, "mobilenetv2-lite");
    if (net.config().eval_tiles) fail("export: the engines score whole images; this checkpoint evaluates tiles");
    if (e == "float") {
      bytes = fasm::export_mobilenetv2(MobileNetV2Infer(net));
    } else if (e == "int8") {
      // Calibrated exactly as `fas eval --engine int8` calibrates (same list, count and seed).
      const Tensor calib = load_calibration(m, e, o.engine.calib, o.engine.calib_n, o.common.seed);
      bytes = fasm::export_mobilenetv2(MobileNetV2Int8(fold_mobilenetv2(net), calib.data(), calib.size(0)));
    } else {
      fail("export: mobilenetv2-lite exports engine float or int8, not '" + e + "'");
    }
  } else if (m.info->name == "lbp-lr") {
    if (e != "float") fail("export: lbp-lr exports one form, float; not '" + e + "'");
    bytes = fasm::export_lbp_lr(lbp_lr_model(m));
  } else {
    fail("export: model '" + m.info->name + "' has no deployable engine (mobilenetv2-lite and lbp-lr have)");
  }
  io::write_file_atomic(o.common.out, bytes);
  std::printf("exported %s (%s) -> %s, %zu bytes\n", o.ckpt.c_str(),
              (m.info->name == "lbp-lr" ? std::string("lbp-lr") : m.info->name + " " + e).c_str(), o.common.out.c_str(),
              bytes.size());
  return 0;
}

}  // namespace fas::cli
