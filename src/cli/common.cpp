#include "cli/common.h"

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "autograd/graph.h"
#include "cli/commands.h"
#include "kernels/cpu.h"

namespace fas::cli {

namespace fs = std::filesystem;

int setup_threads(int flag) {
  if (const char* env = std::getenv("FAS_NUM_THREADS"); env && *env) {
    char* end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (*end || v <= 0 || v > 1024) fail("FAS_NUM_THREADS must be a positive integer, got '" + std::string(env) + "'");
  }
  num_threads();  // applies $FAS_NUM_THREADS once (kernels/cpu.h), so the flag below wins over it
  if (flag > 0) set_num_threads(flag);
  return num_threads();
}

void make_dirs(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) fail("cannot create directory '" + dir + "': " + ec.message());
}

OutputDir::OutputDir(std::string dir) : dir_(std::move(dir)) {
  std::error_code ec;
  // The topmost missing component is what an error must remove (mkdir -p may make several).
  fs::path top;
  for (fs::path p = fs::absolute(dir_, ec); !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
    top = p;
    if (p == p.parent_path()) break;
  }
  make_dirs(dir_);
  made_ = !top.empty();
  if (made_) dir_ = top.string();
}

OutputDir::~OutputDir() {
  std::error_code ec;
  if (made_ && !keep_) fs::remove_all(dir_, ec);
}

void check_output_dir(const std::string& path, const std::string& flag) {
  std::error_code ec;
  if (fs::exists(path, ec) && !fs::is_directory(path, ec))
    fail(flag + " '" + path + "': exists and is not a directory");
}

std::string join_path(const std::string& dir, const std::string& name) { return (fs::path(dir) / name).string(); }

LoadedModel build_model(const std::string& name, const Json& config, uint64_t seed) {
  LoadedModel m;
  m.info = &find_model(name);
  m.config = config;
  Rng rng(seed);
  m.module = m.info->build(config, rng);
  if (!m.module) fail("model '" + name + "': build returned nothing");
  return m;
}

LoadedModel build_model_to_load(const std::string& name, const Json& config) {
  LoadedModel m;
  m.info = &find_model(name);
  m.config = config;
  m.module = build_uninitialised(*m.info, config);
  return m;
}

LoadedModel load_model(const std::string& path) {
  Checkpoint ck = load_checkpoint(path);
  Json cfg = Json::parse(ck.info.config, nullptr, false);
  if (cfg.is_discarded() || !cfg.is_object()) fail("checkpoint '" + path + "': bad model config JSON in metadata");
  LoadedModel m = build_model_to_load(ck.info.model, cfg);
  restore_checkpoint(ck, path, *m.module, nullptr);
  m.module->eval();
  m.ckpt = std::move(ck);
  return m;
}

const ModelInfo::Engine& find_engine(const ModelInfo& info, const std::string& engine) {
  auto it = info.engines.find(engine);
  if (it == info.engines.end()) {
    std::string names = "graph";
    for (auto& [n, e] : info.engines) names += ", " + n;
    fail("model '" + info.name + "' has no engine '" + engine + "' (engines: " + names + ")");
  }
  return it->second;
}

Tensor load_calibration(const LoadedModel& m, const std::string& engine, const std::string& calib_list,
                        int64_t calib_n, uint64_t seed) {
  if (calib_list.empty())
    fail("engine '" + engine + "' calibrates on training images: pass --calib LIST (e.g. the training list)");
  if (calib_n <= 0) fail("--calib-n must be positive");
  Dataset ds(limit_samples(read_samples(calib_list), calib_n, seed), image_spec(m.config), false, calib_list);
  LoaderOptions lo;
  lo.batch = ds.size();
  BatchLoader loader(ds, lo);
  Batch b;
  if (!loader.next(b)) fail("calibration list '" + calib_list + "' has no images");
  return b.x;
}

Scorer make_engine_scorer(const LoadedModel& m, const EngineOptions& o, uint64_t seed, int64_t* calib_used) {
  const std::string& engine = o.name;
  if (calib_used) *calib_used = 0;
  const bool graph = engine.empty() || engine == "graph";
  const ModelInfo::Engine* eng = graph ? nullptr : &find_engine(*m.info, engine);
  if (o.calib_pct > 0 && !(eng && eng->needs_calibration))
    fail("--calib-pct applies to engines that calibrate (e.g. int8), not '" + (graph ? "graph" : engine) + "'");
  if (graph) return nullptr;
  Tensor calib;
  if (eng->needs_calibration) {
    calib = load_calibration(m, engine, o.calib, o.calib_n, seed);
    if (calib_used) *calib_used = calib.size(0);
  }
  m.module->eval();
  std::shared_ptr<DeployEngine> e = eng->make(*m.module, calib, o.calib_pct);
  return [e](const Tensor& x) {
    std::vector<float> p((size_t)x.size(0));
    e->predict(x.data(), x.size(0), p.data());
    return p;
  };
}

ScoredSet score_dataset(const LoadedModel& m, Dataset& ds, size_t batch, bool with_loss, const Scorer& scorer) {
  ScoredSet out;
  LoaderOptions lo;
  lo.batch = batch;
  BatchLoader loader(ds, lo);
  Batch b;
  double loss_sum = 0;
  const bool was_training = m.module->is_training();
  m.module->eval();
  const std::string& kind = m.info->recipe.loss;
  while (loader.next(b)) {
    std::vector<float> s = scorer ? scorer(b.x) : model_scores(*m.info, *m.module, b.x);
    if (s.size() != b.index.size())
      fail("model '" + m.info->name + "' gave " + std::to_string(s.size()) + " scores for " +
           std::to_string(b.index.size()) + " images");
    const float* y = b.y.data();
    for (size_t r = 0; r < s.size(); ++r) {
      out.scores.push_back(s[r]);
      out.labels.push_back((int)y[r]);
      out.index.push_back(b.index[r]);
      if (!with_loss) continue;
      // The built-in losses follow from the scores; a model with its own loss runs it.
      if (m.info->loss) continue;
      if (kind == "recon_mse") {
        loss_sum += s[r];
      } else {  // P(live) -> binary cross-entropy, log clamped at -100 like PyTorch
        const double p = s[r];
        loss_sum -= y[r] > 0.5f ? std::max(std::log(p), -100.0) : std::max(std::log1p(-p), -100.0);
      }
    }
    if (with_loss && m.info->loss) {
      NoGradGuard ng;
      loss_sum += (double)model_loss(*m.info, *m.module, b.x, b.y).item() * (double)s.size();
    }
  }
  m.module->train(was_training);
  out.mean_loss = out.scores.empty() ? NAN : loss_sum / (double)out.scores.size();
  if (!with_loss) out.mean_loss = NAN;
  return out;
}

bool stdout_is_tty() { return ::isatty(STDOUT_FILENO) == 1; }

std::string fmt_seconds(double s) {
  if (!std::isfinite(s) || s < 0) s = 0;
  long t = std::lround(s);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  return buf;
}

Progress::Progress(std::string label, size_t total, bool tty)
    : label_(std::move(label)), total_(total), tty_(tty), start_(std::chrono::steady_clock::now()), last_draw_() {}

double Progress::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(size_t done, double loss) {
  if (!tty_) return;
  auto now = std::chrono::steady_clock::now();
  if (done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;  // redraw at most 10/s
  last_draw_ = now;
  const double t = elapsed(), rate = t > 0 ? done / t : 0;
  const double eta = rate > 0 ? (total_ - done) / rate : 0;
  const int width = 24;
  int fill = total_ ? (int)(width * (double)done / (double)total_) : width;
  std::string bar(fill, '=');
  if (fill < width) bar += '>' + std::string(width - fill - 1, ' ');
  char tail[32] = "";
  if (std::isfinite(loss)) std::snprintf(tail, sizeof tail, "  loss %.4f", loss);
  std::printf("\r%s [%s] %zu/%zu  %.1f img/s  ETA %s%s\x1b[K", label_.c_str(), bar.c_str(), done, total_, rate,
              fmt_seconds(eta).c_str(), tail);
  std::fflush(stdout);
}

void Progress::finish(const std::string& line) {
  if (tty_) std::printf("\r\x1b[K");
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

// The decision threshold stored at training time (validation EER threshold), if any.
bool stored_threshold(const LoadedModel& m, double* t) {
  auto it = m.ckpt.info.extra.find("threshold");
  if (it == m.ckpt.info.extra.end()) return false;
  try {
    *t = std::stod(it->second);
  } catch (const std::logic_error&) {
    return false;
  }
  return std::isfinite(*t);
}

// The members of a fusion: P(live) models (their log-odds are averaged), scored by their graphs.
// `name` gets "fusion of A + B".
std::vector<LoadedModel> load_fusion(const std::vector<std::string>& ckpts, const EngineOptions& e, const char* cmd,
                                     std::string* name) {
  if (!e.name.empty() && e.name != "graph") fail(std::string(cmd) + ": --engine scores one checkpoint; fusion uses the graphs");
  std::vector<LoadedModel> ms;
  if (name) *name = "fusion of";
  for (const auto& c : ckpts) {
    ms.push_back(load_model(c));
    const ModelInfo& info = *ms.back().info;
    if (info.score != ScoreKind::LiveProbability)
      fail(std::string(cmd) + ": '" + c + "' (model " + info.name + ") gives an anomaly score; fusion averages P(live) log-odds");
    if (name) *name += (ms.size() > 1 ? " + " : " ") + info.name;
  }
  return ms;
}

}  // namespace fas::cli
