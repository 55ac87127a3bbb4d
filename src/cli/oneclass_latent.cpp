// fas latent: the latent-space analysis of spec 001 §3.4 for the one-class models. Latents (VAE:
// mu, the deterministic code; GANomaly: z = E1(x)) of the live images of --data fit a PCA (2-D
// scatter of --test, live vs spoof) and one Gaussian mixture per --components size; each
// mixture's negative log-likelihood scores --test (higher = spoof), thresholded at the
// --live-quantile of the live training images' scores. Output: latent.json, latent.csv, pca.svg.
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "autograd/graph.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "io/atomic_file.h"
#include "io/plot.h"
#include "metrics/metrics.h"
#include "models/oneclass.h"
#include "models/oneclass_latent.h"

namespace fas::cli {

namespace {

struct Latents {
  std::vector<double> z;  // [n, d]
  std::vector<int> labels;
  int64_t n = 0, d = 0;
};

// The model's latent of a batch, or an error for models without one.
Tensor latent_of(const LoadedModel& m, const Tensor& x) {
  if (auto* v = dynamic_cast<Vae*>(m.module.get())) return v->encode(x).first;
  if (auto* g = dynamic_cast<GANomaly*>(m.module.get())) return g->run(x).z;
  fail("latent: model '" + m.info->name + "' has no latent space (use dcvae, resvae or ganomaly)");
}

Latents encode_list(const LoadedModel& m, const std::string& list, bool live_only, const LatentOptions& o) {
  std::vector<Sample> s = limit_samples(read_samples(list), o.limit, o.common.seed);
  if (live_only) s = live_samples(std::move(s), list, "to fit on (fas latent fits its mixtures on live images)");
  Dataset ds(std::move(s), image_spec(m.config), o.skip_bad, list);
  LoaderOptions lo;
  lo.batch = (size_t)o.batch;
  BatchLoader loader(ds, lo);
  Latents out;
  Batch b;
  NoGradGuard ng;
  m.module->eval();
  while (loader.next(b)) {
    Tensor z = latent_of(m, b.x);
    out.d = z.size(1);
    const float* p = z.data();
    out.z.insert(out.z.end(), p, p + z.numel());
    for (int64_t i = 0; i < z.size(0); ++i) out.labels.push_back(b.y.data()[i] > 0.5f ? 1 : 0);
    out.n += z.size(0);
  }
  if (out.n == 0) fail("latent: '" + list + "': no readable images");
  return out;
}

// Test latents projected on the training PCA, live and spoof as two point clouds (isolated
// points of a line chart are drawn as dots).
void write_pca_plot(const std::string& path, const Pca& p, const Latents& test) {
  std::vector<double> t = p.transform(test.z);
  plot::Series live{"live (test)", {}, {}, "#1f77b4"}, spoof{"spoof (test)", {}, {}, "#d62728"};
  for (int64_t i = 0; i < test.n; ++i) {
    plot::Series& s = test.labels[i] == 1 ? live : spoof;
    s.x.insert(s.x.end(), {t[2 * i], NAN});
    s.y.insert(s.y.end(), {t[2 * i + 1], NAN});
  }
  plot::ChartOptions co;
  co.title = "Latents on the first two principal components of the live training latents";
  co.xlabel = "PC 1";
  co.ylabel = "PC 2";
  co.markers = false;
  plot::write_svg(path, plot::line_chart_svg({live, spoof}, co));
}

}  // namespace

int run_latent(const LatentOptions& o) {
  setup_threads(o.common.threads);
  if (o.batch <= 0) fail("latent: --batch must be positive");
  if (o.components.empty()) fail("latent: --components needs at least one size");
  LoadedModel m = load_model(o.ckpt);
  Latents train = encode_list(m, o.data, true, o);
  Latents test = encode_list(m, o.test, false, o);
  const std::string out = o.common.out.empty() ? join_path(std::filesystem::path(o.ckpt).parent_path().string(), "latent") : o.common.out;
  make_dirs(out);
  std::printf("fas latent: %s, %lld live training latents of %lld dimensions, %lld test images\n", o.ckpt.c_str(),
              (long long)train.n, (long long)train.d, (long long)test.n);

  if (train.n >= 2 && train.d >= 2) write_pca_plot(join_path(out, "pca.svg"), fit_pca(train.z, train.n, train.d, 2), test);

  Json rows = Json::array();
  std::ostringstream csv;
  csv << "components,covariance,iterations,converged,threshold,apcer,bpcer,acer,eer,auc\n";
  std::printf("  %5s %5s %10s %8s %8s %8s %8s %7s\n", "k", "iter", "threshold", "APCER", "BPCER", "ACER", "EER", "AUC");
  for (int64_t k : o.components) {
    if (k > train.n) fail("latent: " + std::to_string(k) + " components for " + std::to_string(train.n) + " training latents");
    GmmOptions go;
    go.components = k;
    go.diagonal = o.covariance == "diag";
    go.seed = o.common.seed;
    Gmm g = fit_gmm(train.z, train.n, train.d, go);
    // Anomaly score = -log p(z): the threshold from the live training latents, then the test list.
    std::vector<double> tr = g.score_samples(train.z);
    for (double& v : tr) v = -v;
    metrics::EvalOptions eo;
    eo.higher_is_live = false;
    eo.threshold = metrics::quantile(tr, o.live_quantile);
    std::vector<double> te = g.score_samples(test.z);
    std::vector<float> scores(te.size());
    for (size_t i = 0; i < te.size(); ++i) scores[i] = (float)-te[i];
    metrics::Report r = metrics::evaluate({scores, test.labels}, eo);
    std::printf("  %5lld %5d %10.5g %7.2f%% %7.2f%% %7.2f%% %7.2f%% %7.4f%s\n", (long long)k, g.iterations, r.threshold,
                100 * r.apcer, 100 * r.bpcer, 100 * r.acer, 100 * r.eer, r.auc, g.converged ? "" : "  (not converged)");
    rows.push_back({{"components", k}, {"covariance", o.covariance}, {"iterations", g.iterations},
                    {"converged", g.converged}, {"train_mean_loglik", g.lower_bound}, {"threshold", r.threshold},
                    {"apcer", r.apcer}, {"bpcer", r.bpcer}, {"acer", r.acer}, {"eer", r.eer}, {"auc", r.auc}});
    csv << k << ',' << o.covariance << ',' << g.iterations << ',' << g.converged << ',' << r.threshold << ',' << r.apcer
        << ',' << r.bpcer << ',' << r.acer << ',' << r.eer << ',' << r.auc << '\n';
  }
  Json j = {{"checkpoint", o.ckpt}, {"train_list", o.data}, {"test_list", o.test}, {"train_live_latents", train.n},
            {"latent_dim", train.d}, {"live_quantile", o.live_quantile}, {"mixtures", rows}};
  io::write_file_atomic(join_path(out, "latent.json"), j.dump(2) + "\n");
  io::write_file_atomic(join_path(out, "latent.csv"), csv.str());
  std::printf("wrote latent.json, latent.csv, pca.svg in %s\n", out.c_str());
  return 0;
}

}  // namespace fas::cli
