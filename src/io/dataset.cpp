#include "io/dataset.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tensor/random.h"

namespace fas {

namespace fs = std::filesystem;

namespace {
// What a binary file given as a list is, from its first bytes ("" when it reads as text): a list
// is text, so a NUL or another control byte means the wrong file was passed.
std::string binary_kind(const std::string& head) {
  const auto* u = reinterpret_cast<const unsigned char*>(head.data());
  const size_t n = head.size();
  if (n >= 3 && u[0] == 0xFF && u[1] == 0xD8 && u[2] == 0xFF) return "a JPEG image";
  if (n >= 4 && head.compare(0, 4, "\x89PNG") == 0) return "a PNG image";
  if (n >= 2 && head.compare(0, 2, "BM") == 0 && head.find('\0') != std::string::npos) return "a BMP image";
  for (unsigned char c : head)
    if (c == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r')) return "a binary file";
  return "";
}
// A line quoted in an error: control bytes shown as '?', long lines cut, so the message stays
// one readable line whatever the file holds past the bytes binary_kind looked at.
std::string printable(std::string s) {
  if (s.size() > 120) s = s.substr(0, 117) + "...";
  for (auto& c : s)
    if ((unsigned char)c < 0x20 || c == 0x7F) c = '?';
  return s;
}
}  // namespace

std::vector<Sample> read_list(const std::string& list_path) {
  std::error_code ec;
  if (fs::is_directory(list_path, ec)) fail("dataset list '" + list_path + "': is a directory");
  std::ifstream f(list_path, std::ios::binary);
  if (!f) fail("dataset list '" + list_path + "': cannot open (" + std::strerror(errno) + ")");
  {
    std::string head(512, '\0');
    f.read(&head[0], (std::streamsize)head.size());
    head.resize((size_t)f.gcount());
    const std::string kind = binary_kind(head);
    if (!kind.empty())
      fail("dataset list '" + list_path + "': is " + kind + ", not a text list of 'relative/path label' lines");
    f.clear();
    f.seekg(0);
  }
  return parse_list(f, list_path);
}

std::vector<Sample> parse_list(std::istream& f, const std::string& list_path) {
  const fs::path dir = fs::path(list_path).parent_path();
  std::vector<Sample> out;
  std::string line;
  for (int lineno = 1; std::getline(f, line); ++lineno) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t b = line.find_first_not_of(" \t");
    if (b == std::string::npos || line[b] == '#') continue;
    // The label is the last field, so paths may contain spaces.
    size_t e = line.find_last_not_of(" \t");
    size_t sp = line.find_last_of(" \t", e);
    const std::string where = list_path + ":" + std::to_string(lineno);
    if (sp == std::string::npos || sp < b) fail(where + ": expected 'relative/path label', got '" + printable(line) + "'");
    std::string lab = line.substr(sp + 1, e - sp);
    std::string rel = line.substr(b, line.find_last_not_of(" \t", sp) - b + 1);
    if (lab != "0" && lab != "1") fail(where + ": label must be 0 (spoof) or 1 (live), got '" + lab + "'");
    fs::path p = fs::path(rel).is_absolute() ? fs::path(rel) : dir / rel;
    out.push_back({p.string(), lab == "1" ? 1 : 0, where});
  }
  return out;
}

namespace {
std::string lower(std::string s) {
  for (auto& c : s) c = (char)std::tolower((unsigned char)c);
  return s;
}
int known_label(const std::string& name) {
  std::string n = lower(name);
  for (const char* live : {"live", "real", "client", "genuine", "bonafide", "bona_fide"})
    if (n.rfind(live, 0) == 0) return 1;
  for (const char* spoof : {"spoof", "fake", "attack", "imposter", "impostor"})
    if (n.rfind(spoof, 0) == 0) return 0;
  return -1;
}
bool is_image(const fs::path& p) {
  std::string e = lower(p.extension().string());
  return e == ".jpg" || e == ".jpeg" || e == ".png" || e == ".bmp" || e == ".pgm" || e == ".ppm" || e == ".tga";
}
}  // namespace

std::vector<Sample> read_folder(const std::string& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) fail("dataset folder '" + root + "': not a directory");
  std::vector<std::string> classes;
  for (auto& d : fs::directory_iterator(root))
    if (d.is_directory()) classes.push_back(d.path().filename().string());
  std::sort(classes.begin(), classes.end());
  if (classes.empty()) fail("dataset folder '" + root + "': no class subfolders");
  const bool numeric = std::all_of(classes.begin(), classes.end(), [](const std::string& c) {
    return !c.empty() && std::all_of(c.begin(), c.end(), [](char ch) { return std::isdigit((unsigned char)ch); });
  });
  const bool named = std::all_of(classes.begin(), classes.end(), [](const std::string& c) { return known_label(c) >= 0; });
  std::vector<Sample> out;
  for (size_t ci = 0; ci < classes.size(); ++ci) {
    int label = numeric ? std::stoi(classes[ci]) : named ? known_label(classes[ci]) : (int)ci;
    if (label != 0 && label != 1)
      fail("dataset folder '" + root + "': class '" + classes[ci] + "' maps to label " + std::to_string(label) +
           "; anti-spoofing needs labels 0 (spoof) and 1 (live)");
    std::vector<std::string> files;
    for (auto& e : fs::recursive_directory_iterator(fs::path(root) / classes[ci]))
      if (e.is_regular_file() && is_image(e.path())) files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    for (auto& f : files) out.push_back({f, label, root + "/" + classes[ci]});
  }
  return out;
}

std::vector<Sample> read_samples(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) ? read_folder(path) : read_list(path);
}

uint64_t mix_seed(uint64_t a, uint64_t b) {
  // splitmix64 finaliser over a combination of both: well spread, order sensitive.
  uint64_t z = a * 0x9E3779B97F4A7C15ULL + b + 0x632BE59BD9B4E019ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::vector<size_t> epoch_order(size_t n, uint64_t seed, int64_t epoch, bool shuffle) {
  std::vector<size_t> o(n);
  for (size_t i = 0; i < n; ++i) o[i] = i;
  if (shuffle) {
    Rng rng(mix_seed(seed, (uint64_t)epoch));
    for (size_t i = n; i > 1; --i) std::swap(o[i - 1], o[rng.below(i)]);
  }
  return o;
}

void check_sample_files(const std::vector<Sample>& s) {
  for (const auto& x : s) {
    try {
      check_image_file(x.path);
    } catch (const Error& e) {
      fail(x.origin.empty() ? std::string(e.what()) : x.origin + ": " + e.what());
    }
  }
}

std::vector<Sample> live_samples(std::vector<Sample> s, const std::string& list, const std::string& why) {
  std::vector<Sample> live;
  for (auto& x : s)
    if (x.label == 1) live.push_back(std::move(x));
  if (live.empty()) fail("dataset '" + list + "' has no live (label 1) images " + why);
  return live;
}

std::vector<Sample> limit_samples(std::vector<Sample> s, int64_t n, uint64_t seed) {
  if (n <= 0 || (size_t)n >= s.size()) return s;
  auto o = epoch_order(s.size(), mix_seed(seed, 0x11317), 0, true);
  o.resize((size_t)n);
  std::sort(o.begin(), o.end());
  std::vector<Sample> out;
  for (auto i : o) out.push_back(std::move(s[i]));
  return out;
}

Tensor load_sample(const Sample& s, const ImageSpec& spec) {
  try {
    Tensor img = load_image(s.path, spec.channels);
    return resize(img, spec.height, spec.width, spec.resize);
  } catch (const Error& e) {
    fail(s.origin.empty() ? std::string(e.what()) : s.origin + ": " + e.what());
  }
}

Dataset::Dataset(std::vector<Sample> samples, ImageSpec spec, bool skip_bad, std::string name)
    : samples_(std::move(samples)), spec_(std::move(spec)), skip_bad_(skip_bad), name_(std::move(name)) {
  if (samples_.empty()) fail("dataset '" + name_ + "' is empty: no images listed");
  bad_.assign(samples_.size(), 0);
}

Tensor Dataset::load(size_t i) {
  const Sample& s = samples_.at(i);
  try {
    return load_sample(s, spec_);
  } catch (const Error& e) {
    if (!skip_bad_) throw;
    std::lock_guard<std::mutex> lk(mu_);
    if (!bad_[i]) {
      bad_[i] = 1;
      if (n_bad_++ == 0) first_bad_ = e.what();
    }
    return Tensor();
  }
}

size_t Dataset::bad_count() const {
  std::lock_guard<std::mutex> lk(mu_);
  return n_bad_;
}
std::string Dataset::first_bad_message() const {
  std::lock_guard<std::mutex> lk(mu_);
  return first_bad_;
}
int64_t Dataset::live_count() const {
  int64_t n = 0;
  for (auto& s : samples_) n += s.label == 1;
  return n;
}

BatchLoader::BatchLoader(Dataset& ds, LoaderOptions opt) : ds_(ds), opt_(opt) {
  if (opt_.batch == 0) fail("batch size must be at least 1");
  if (opt_.prefetch == 0) opt_.prefetch = 1;
  order_ = epoch_order(ds.size(), opt_.seed, opt_.epoch, opt_.shuffle);
  if (opt_.drop_last && order_.size() >= opt_.batch) order_.resize(order_.size() / opt_.batch * opt_.batch);
  if (opt_.ranks == 0 || opt_.rank >= opt_.ranks) fail("loader: rank out of range");
  if (opt_.ranks > opt_.batch) fail("batch size " + std::to_string(opt_.batch) + " is smaller than the " + std::to_string(opt_.ranks) + " ranks");
  if (opt_.ranks > 1 && order_.size() % opt_.batch && order_.size() % opt_.batch < opt_.ranks)
    order_.resize(order_.size() / opt_.batch * opt_.batch);
  worker_ = std::thread([this] { run(); });
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

size_t BatchLoader::num_batches() const { return (order_.size() + opt_.batch - 1) / opt_.batch; }

Batch BatchLoader::make(size_t b) {
  const ImageSpec& spec = ds_.spec();
  const size_t gb = b * opt_.batch, ge = std::min(order_.size(), gb + opt_.batch), m = ge - gb;
  const size_t begin = gb + m * opt_.rank / opt_.ranks, end = gb + m * (opt_.rank + 1) / opt_.ranks;
  std::vector<Tensor> imgs;
  Batch out;
  out.global_items = m;
  for (size_t k = begin; k < end; ++k) {
    const size_t i = order_[k];
    Tensor img = ds_.load(i);
    if (!img.defined()) continue;
    Rng rng(mix_seed(mix_seed(opt_.seed ^ 0xA0A0A0A0ULL, (uint64_t)opt_.epoch), i));
    if (opt_.augment && opt_.augment->any()) img = augment(img, *opt_.augment, rng);
    if (opt_.patch > 0) {
      const int64_t H = img.size(1), W = img.size(2), P = opt_.patch;
      if (P > H || P > W) fail("patch " + std::to_string(P) + " is larger than the image " + shape_str(img.shape()));
      const int64_t top = (int64_t)rng.below((uint64_t)(H - P + 1)), left = (int64_t)rng.below((uint64_t)(W - P + 1));
      img = crop(img, top, left, P, P);
    }
    imgs.push_back(img);
    out.index.push_back(i);
  }
  if (imgs.empty()) return out;
  const int64_t per = imgs[0].numel();
  out.x = Tensor::zeros({(int64_t)imgs.size(), imgs[0].size(0), imgs[0].size(1), imgs[0].size(2)});
  out.y = Tensor::zeros({(int64_t)imgs.size()});
  for (size_t r = 0; r < imgs.size(); ++r) {
    std::copy(imgs[r].data(), imgs[r].data() + per, out.x.data() + r * per);
    out.y.data()[r] = (float)ds_.sample(out.index[r]).label;
  }
  normalize_inplace(out.x, spec.norm);
  return out;
}

void BatchLoader::run() {
  const size_t nb = num_batches();
  for (size_t b = 0; b < nb; ++b) {
    Batch batch;
    try {
      batch = make(b);
    } catch (...) {
      std::lock_guard<std::mutex> lk(mu_);
      error_ = std::current_exception();
      break;
    }
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return stop_ || ready_.size() < opt_.prefetch; });
    if (stop_) return;
    if (batch.x.defined()) ready_.push_back(std::move(batch));
    cv_.notify_all();
  }
  std::lock_guard<std::mutex> lk(mu_);
  done_ = true;
  cv_.notify_all();
}

bool BatchLoader::next(Batch& out) {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [&] { return !ready_.empty() || done_ || error_; });
  if (!ready_.empty()) {
    out = std::move(ready_.front());
    ready_.pop_front();
    cv_.notify_all();
    return true;
  }
  if (error_) std::rethrow_exception(error_);
  return false;
}

}  // namespace fas
