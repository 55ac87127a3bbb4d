// "wiqa-lda": the W-IQA liveness test of spec 002 §2 -- the 24 image-quality metrics of the whole
// greyscale frame (src/iqa/) and a shrinkage LDA (iqa/lda.h) giving P(live). The metrics are a
// fixed front end (no gradient, like layers/lbp.h); the LDA is a Dense(24 -> 1) on standardised
// features whose weights are fitted in closed form by ModelInfo::fit (`fas train` calls it
// instead of the epoch loop). Input: [N, 1, 480, 640] in [0, 1], taken as 8-bit grey levels; any
// other frame size is resized to 640x480 by the data pipeline (the thesis found W-IQA tied to
// its training resolution, §6).
//
// Config beyond the faithful default: "features" (a list of metric names, default "all": the 24 of
// §2.3) and "transform" ("none", default; "slog": sign(x) ln(1 + |x|) of each metric before the
// LDA, which compresses the heavy tails of SME/GME/...): the variants studied in
// docs/experiments/EXP-060-wiqa-session-carry.md. "crossfit" (k >= 2; default 0, off): the
// training frames' NIQE and BIQI against pristine models fitted without their subject
// (docs/experiments/EXP-134-wiqa-crossfit-nss.md); subjects by "group_by" (NUAA's by default).
#include <cmath>
#include <regex>
#include <string>

#include "io/dataset.h"
#include "iqa/iqa.h"
#include "iqa/lda.h"
#include "iqa/nss.h"
#include "kernels/cpu.h"
#include "layers/layers.h"
#include "metrics/groups.h"
#include "models/registry.h"

namespace fas {

namespace {
struct WiqaOptions {
  std::vector<int> cols;  // metric indices used, in order
  bool slog = false;
  int crossfit = 0;          // subject folds for out-of-fold NIQE/BIQI on the training frames
  std::string group_by;      // the subject of a path (metrics/groups.h)
};

class WiqaLda : public Module {
 public:
  WiqaLda(WiqaOptions opt, Rng& rng) : opt_(std::move(opt)) {
    const int64_t p = (int64_t)opt_.cols.size();
    // Handles sharing the buffers' storage (load_state_dict copies into it); not references into
    // the module's buffer list, which moves as it grows.
    shift_ = register_buffer("shift", Tensor::zeros({p}));
    scale_ = register_buffer("scale", Tensor::ones({p}));
    fc_ = register_module("lda", std::make_shared<Linear>(p, 1, rng));
  }
  int p() const { return (int)opt_.cols.size(); }
  const WiqaOptions& options() const { return opt_; }
  // The classifier's inputs of one frame's metrics: the selected ones, transformed.
  void inputs(const iqa::Features& f, double* out) const {
    for (int k = 0; k < p(); ++k) {
      const double v = f[opt_.cols[k]];
      out[k] = opt_.slog ? std::copysign(std::log1p(std::abs(v)), v) : v;
    }
  }
  // Features [N, 24] in float64, one image per OpenMP thread.
  static std::vector<iqa::Features> features(const Tensor& x) {
    if (x.dim() != 4 || x.size(1) != 1)
      fail("wiqa-lda: expected greyscale input [N, 1, H, W], got " + shape_str(x.shape()));
    const int64_t N = x.size(0), H = x.size(2), W = x.size(3);
    std::vector<iqa::Features> f((size_t)N);
    std::string err;
#pragma omp parallel for schedule(dynamic) num_threads(std::max<int64_t>(1, std::min<int64_t>(num_threads(), N)))
    for (int64_t n = 0; n < N; ++n) {
      try {
        f[n] = iqa::compute_features(iqa::plane_from_unit(x.data() + n * H * W, (int)H, (int)W));
      } catch (const Error& e) {
#pragma omp critical
        err = e.what();
      }
    }
    if (!err.empty()) fail("wiqa-lda: " + err);
    return f;
  }
  Tensor forward(const Tensor& x) override {
    const std::vector<iqa::Features> f = features(x);
    Tensor z = Tensor::uninit({(int64_t)f.size(), p()});
    std::vector<double> in((size_t)p());
    for (size_t n = 0; n < f.size(); ++n) {
      inputs(f[n], in.data());
      for (int k = 0; k < p(); ++k) z.data()[n * p() + k] = (float)((in[k] - shift_.data()[k]) / scale_.data()[k]);
    }
    return (*fc_)(z);
  }
  std::string type_name() const override { return "WiqaLda"; }

  // Sets the layer to the LDA on raw features: logit = coef . f + b = (coef * scale) . z + (b +
  // coef . shift). The standardisation (training mean and std) keeps float32 weights exact
  // enough: raw features span 1e-3 (MAS) to 1e8 (SME).
  void set(const iqa::LdaModel& lda, const std::vector<double>& mean, const std::vector<double>& sd) {
    double b = lda.intercept;
    for (int k = 0; k < p(); ++k) {
      shift_.data()[k] = (float)mean[k];
      scale_.data()[k] = (float)sd[k];
      // Weights for the float32-rounded shift/scale actually stored.
      fc_->weight.data()[k] = (float)(lda.coef[k] * (double)scale_.data()[k]);
      b += lda.coef[k] * (double)shift_.data()[k];
    }
    fc_->bias.data()[0] = (float)b;
  }

 private:
  WiqaOptions opt_;
  Tensor shift_, scale_;
  std::shared_ptr<Linear> fc_;
};

iqa::Mvg fit_rows(const std::vector<std::vector<double>>& rows, int f, const char* what) {
  if (rows.size() < 2) fail("wiqa-lda: crossfit fold " + std::to_string(f) + " leaves fewer than 2 live " + what + " to fit on");
  return iqa::fit_mvg(rows);
}

// Cross-fitting: NIQE and BIQI of the frames of subject fold f against pristine models fitted on
// the live frames of the other folds, as the committed models (all live training frames) are
// fitted: NIQE from every block, BIQI from every frame's vector (tools/fit_iqa_pristine.py).
void crossfit_nss(const Dataset& train, const WiqaOptions& o, const std::vector<char>& ok,
                  const std::vector<iqa::NssInputs>& nss, std::vector<iqa::Features>& f) {
  std::vector<int> fold(train.size());
  for (size_t i = 0; i < train.size(); ++i) fold[i] = metrics::subject_fold(train.sample(i).path, o.group_by, o.crossfit);
  for (int k = 0; k < o.crossfit; ++k) {
    std::vector<std::vector<double>> niqe_rows, biqi_rows;
    bool held = false;
    for (size_t i = 0; i < train.size(); ++i) {
      if (!ok[i]) continue;
      held = held || fold[i] == k;
      if (fold[i] == k || train.sample(i).label != 1) continue;
      for (const auto& b : nss[i].blocks) niqe_rows.emplace_back(b.begin(), b.end());
      biqi_rows.emplace_back(nss[i].biqi.begin(), nss[i].biqi.end());
    }
    if (!held) fail("wiqa-lda: crossfit fold " + std::to_string(k) + " of " + std::to_string(o.crossfit) + " holds no frame (fewer subjects than folds?)");
    const iqa::Mvg niqe = fit_rows(niqe_rows, k, "NIQE blocks"), biqi = fit_rows(biqi_rows, k, "frames");
    for (size_t i = 0; i < train.size(); ++i) {
      if (!ok[i] || fold[i] != k) continue;
      f[i][iqa::NIQE] = iqa::niqe_score(niqe, nss[i].blocks);
      f[i][iqa::BIQI] = iqa::biqi_score(biqi, nss[i].biqi);
    }
  }
}

void fit_wiqa_lda(Module& mod, Dataset& train) {
  auto* net = dynamic_cast<WiqaLda*>(&mod);
  if (!net) fail("wiqa-lda: the module is a " + mod.type_name() + ", not a WiqaLda");
  std::vector<double> X;
  std::vector<int> y;
  std::string err;
  std::vector<iqa::Features> f(train.size());
  std::vector<char> ok(train.size(), 0);
  const WiqaOptions& opt = net->options();
  std::vector<iqa::NssInputs> nss(opt.crossfit ? train.size() : 0);
#pragma omp parallel for schedule(dynamic) num_threads(num_threads())
  for (int64_t i = 0; i < (int64_t)train.size(); ++i) {
    try {
      const Tensor img = train.load((size_t)i);  // undefined: a bad file skipped by --skip-bad
      if (!img.defined()) continue;
      f[i] = iqa::compute_features(iqa::plane_from_unit(img.data(), (int)img.size(1), (int)img.size(2)),
                                   opt.crossfit ? &nss[i] : nullptr);
      ok[i] = 1;
    } catch (const Error& e) {
#pragma omp critical
      if (err.empty()) err = e.what();
    }
  }
  if (!err.empty()) fail(err);
  if (opt.crossfit) crossfit_nss(train, opt, ok, nss, f);
  const int p = net->p();
  std::vector<double> row((size_t)p);
  for (size_t i = 0; i < f.size(); ++i) {
    if (!ok[i]) continue;
    net->inputs(f[i], row.data());
    X.insert(X.end(), row.begin(), row.end());
    y.push_back(train.sample(i).label == 1 ? 1 : 0);
  }
  const int n = (int)y.size();
  const iqa::LdaModel lda = iqa::fit_shrinkage_lda(X, y, p);
  std::vector<double> mean((size_t)p, 0.0), sd((size_t)p, 0.0);
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < p; ++k) mean[k] += X[(size_t)i * p + k] / n;
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < p; ++k) sd[k] += (X[(size_t)i * p + k] - mean[k]) * (X[(size_t)i * p + k] - mean[k]) / n;
  for (auto& s : sd) s = s > 0 ? std::sqrt(s) : 1.0;
  net->set(lda, mean, sd);
}
}  // namespace

void register_wiqa_lda() {
  ModelInfo m;
  m.name = "wiqa-lda";
  m.description = "W-IQA: 24 image-quality metrics of the whole grey frame + shrinkage LDA, fitted in closed form (spec 002)";
  m.defaults = {{"channels", 1}, {"height", 480}, {"width", 640}, {"normalize", "unit"}, {"features", "all"},
                {"transform", "none"}, {"crossfit", 0}, {"group_by", metrics::kNuaaSubject}};
  m.recipe = {/*epochs*/ 1, /*batch*/ 8, /*lr*/ 1e-3f, "bce_logits", /*augment*/ "none"};
  m.build = [](const Json& cfg, Rng& rng) -> std::shared_ptr<Module> {
    const Shape in = input_shape(cfg);
    if (in[0] != 1) fail("wiqa-lda: needs channels=1 (the grey frame), got " + std::to_string(in[0]));
    if (in[1] < 96 || in[2] < 96) fail("wiqa-lda: needs height and width >= 96 (one NIQE block)");
    WiqaOptions opt;
    const Json feats = cfg.value("features", Json("all"));  // absent in a config of the 24-metric default
    if (feats == "all") {
      for (int k = 0; k < iqa::kNumMetrics; ++k) opt.cols.push_back(k);
    } else {
      if (!feats.is_array() || feats.empty()) fail("wiqa-lda: config 'features' must be \"all\" or a list of metric names");
      for (const Json& name : feats) {
        const auto& names = iqa::metric_names();
        int k = 0;
        while (k < iqa::kNumMetrics && !(name.is_string() && name.get<std::string>() == names[k])) ++k;
        if (k == iqa::kNumMetrics) fail("wiqa-lda: unknown metric " + name.dump() + " in config 'features' (known: ad, biqi, ..., vifd)");
        opt.cols.push_back(k);
      }
    }
    const Json t = cfg.value("transform", Json("none"));
    if (t != "none" && t != "slog") fail("wiqa-lda: config 'transform' must be \"none\" or \"slog\", got " + t.dump());
    opt.slog = t == "slog";
    const Json cf = cfg.value("crossfit", Json(0));  // absent in configs written before it
    if (!cf.is_number_integer() || cf.get<int>() < 0 || cf.get<int>() == 1)
      fail("wiqa-lda: config 'crossfit' must be 0 (off) or a fold count >= 2, got " + cf.dump());
    opt.crossfit = cf.get<int>();
    const Json g = cfg.value("group_by", Json(metrics::kNuaaSubject));
    if (!g.is_string()) fail("wiqa-lda: config 'group_by' must be a regular expression string, got " + g.dump());
    opt.group_by = g.get<std::string>();
    try {
      (void)std::regex(opt.group_by);  // a bad pattern fails here, not after the features
    } catch (const std::regex_error&) {
      fail("wiqa-lda: config 'group_by' is not a valid regular expression: " + opt.group_by);
    }
    return std::make_shared<WiqaLda>(std::move(opt), rng);
  };
  m.fit = fit_wiqa_lda;
  m.whole_frame = true;
  register_model(std::move(m));
}

}  // namespace fas
