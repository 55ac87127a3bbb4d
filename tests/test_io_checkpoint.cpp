// safetensors checkpoints: conformance (checked by an independent reader written here),
// round trips, validation errors, atomic replacement.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>

#include "io/checkpoint.h"
#include "io_testutil.h"
#include "layers/module.h"
#include "optim/optim.h"
#include "testutil.h"

using namespace fas;
using namespace fas::test;

namespace {

// --- An independent safetensors reader: byte offsets and a hand scan of the JSON text, no
// JSON library, to check the writer against the format rather than against itself.
struct RawEntry {
  std::string dtype;
  std::vector<uint64_t> shape;
  uint64_t begin = 0, end = 0;
};
struct RawFile {
  uint64_t header_len = 0;
  std::string header;
  std::string data;
};
RawFile raw_read(const std::string& path) {
  std::string bytes = read_bytes(path);
  RawFile f;
  EXPECT_GE(bytes.size(), 8u);
  for (int i = 7; i >= 0; --i) f.header_len = (f.header_len << 8) | (unsigned char)bytes[i];
  f.header = bytes.substr(8, f.header_len);
  f.data = bytes.substr(8 + f.header_len);
  return f;
}
std::vector<uint64_t> numbers_after(const std::string& s, const std::string& key) {
  size_t p = s.find("\"" + key + "\"");
  std::vector<uint64_t> v;
  if (p == std::string::npos) return v;
  p = s.find('[', p);
  size_t e = s.find(']', p);
  const char* c = s.c_str() + p + 1;
  while (c < s.c_str() + e) {
    char* end;
    unsigned long long x = std::strtoull(c, &end, 10);
    if (end == c) {
      ++c;
      continue;
    }
    v.push_back(x);
    c = end;
  }
  return v;
}
RawEntry raw_entry(const RawFile& f, const std::string& name) {
  RawEntry r;
  size_t p = f.header.find("\"" + name + "\":");
  EXPECT_NE(p, std::string::npos) << name;
  if (p == std::string::npos) return r;
  std::string obj = f.header.substr(p, f.header.find('}', p) - p + 1);
  size_t d = obj.find("\"dtype\"");
  size_t q1 = obj.find('"', obj.find(':', d) + 1);
  r.dtype = obj.substr(q1 + 1, obj.find('"', q1 + 1) - q1 - 1);
  r.shape = numbers_after(obj, "shape");
  auto off = numbers_after(obj, "data_offsets");
  EXPECT_EQ(off.size(), 2u);
  if (off.size() == 2) r.begin = off[0], r.end = off[1];
  return r;
}
std::vector<float> raw_floats(const RawFile& f, const RawEntry& e) {
  std::vector<float> v((e.end - e.begin) / 4);
  std::memcpy(v.data(), f.data.data() + e.begin, e.end - e.begin);
  return v;
}

// A model with a parameter and a buffer in a child, for the checkpoint-level tests.
class Net : public Module {
 public:
  explicit Net(int64_t n) {
    w = register_parameter("w", Tensor::full({n, 2}, 0.5f));
    auto c = std::make_shared<Child>();
    register_module("bn", c);
    child = c;
  }
  struct Child : public Module {
    Child() { rm = register_buffer("running_mean", Tensor::full({3}, 0.25f)); }
    Tensor forward(const Tensor& x) override { return x; }
    std::string type_name() const override { return "Child"; }
    Tensor rm;
  };
  Tensor forward(const Tensor& x) override { return matmul(x, w); }
  std::string type_name() const override { return "Net"; }
  Tensor w;
  std::shared_ptr<Child> child;
};

}  // namespace

TEST(Checkpoint, WriterConformsToTheFormat) {
  auto dir = scratch_dir("ck");
  Rng rng(1);
  TensorMap t = {{"a.weight", randn({2, 3}, rng)}, {"b", randn({5}, rng)}, {"scalar", Tensor::scalar(7.f)}};
  save_safetensors(dir + "/x.safetensors", t, {{"fas_model", "m"}, {"note", "quote \" and \\ ok"}});
  RawFile f = raw_read(dir + "/x.safetensors");
  EXPECT_EQ(f.header_len % 8, 0u);  // padded so the data is 8-byte aligned
  EXPECT_EQ(f.header.front(), '{');
  EXPECT_TRUE(has(f.header, "\"__metadata__\":{\"fas_model\":\"m\""));
  uint64_t total = 0;
  for (auto& [name, tensor] : t) {
    RawEntry e = raw_entry(f, name);
    EXPECT_EQ(e.dtype, "F32");
    std::vector<uint64_t> shape(tensor.shape().begin(), tensor.shape().end());
    EXPECT_EQ(e.shape, shape) << name;
    EXPECT_EQ(e.end - e.begin, (uint64_t)tensor.numel() * 4);
    EXPECT_EQ(raw_floats(f, e), tensor.to_vector()) << name;
    total += e.end - e.begin;
  }
  EXPECT_EQ(f.data.size(), total);  // no stray bytes after the tensors
}

TEST(Checkpoint, ReaderAcceptsAHandWrittenFile) {
  // Written by hand per the format: other key order, whitespace, data not in header order.
  auto dir = scratch_dir("ck");
  const float x[2] = {1.5f, -2.f}, y[3] = {3.f, 4.f, 5.f};
  std::string header =
      R"({ "y" : {"data_offsets":[0,12], "shape":[3], "dtype":"F32"}, "x": {"dtype":"F32","shape":[1,2],"data_offsets":[12,20]},)"
      R"( "__metadata__": {"k": "v"} })";
  std::string file(8, '\0');
  for (int i = 0; i < 8; ++i) file[i] = (char)((header.size() >> (8 * i)) & 0xFF);
  file += header;
  file.append(reinterpret_cast<const char*>(y), 12);
  file.append(reinterpret_cast<const char*>(x), 8);
  write_bytes(dir + "/h.safetensors", file);
  SafeTensors st = load_safetensors(dir + "/h.safetensors");
  EXPECT_EQ(st.meta.at("k"), "v");
  EXPECT_EQ(st.tensors.at("x").shape(), (Shape{1, 2}));
  EXPECT_EQ(st.tensors.at("x").to_vector(), (std::vector<float>{1.5f, -2.f}));
  EXPECT_EQ(st.tensors.at("y").to_vector(), (std::vector<float>{3.f, 4.f, 5.f}));
}

TEST(Checkpoint, RoundTripAndBadFiles) {
  auto dir = scratch_dir("ck");
  Rng rng(2);
  TensorMap t = {{"w", randn({4, 3}, rng)}, {"empty", Tensor::zeros({0, 3})}};
  const std::string p = dir + "/r.safetensors";
  save_safetensors(p, t, {{"a", "b"}});
  SafeTensors st = load_safetensors(p);
  EXPECT_EQ(st.tensors.at("w").to_vector(), t["w"].to_vector());
  EXPECT_EQ(st.tensors.at("empty").shape(), (Shape{0, 3}));
  EXPECT_EQ(st.meta.at("a"), "b");

  std::string good = read_bytes(p);
  auto bad = [&](const std::string& name, const std::string& bytes, const std::string& want) {
    write_bytes(dir + "/" + name, bytes);
    std::string e = error_of([&] { load_safetensors(dir + "/" + name); });
    EXPECT_TRUE(has(e, name)) << e;
    EXPECT_TRUE(has(e, want)) << name << ": " << e;
  };
  bad("trunc_data", good.substr(0, good.size() - 5), "truncated");
  bad("trunc_header", good.substr(0, 20), "truncated");
  bad("tiny", good.substr(0, 3), "truncated");
  std::string badjson = good;
  badjson[8] = '[';
  bad("badjson", badjson, "bad");
  std::string f16 = good;
  auto pos = f16.find("F32");
  f16.replace(pos, 3, "F16");
  bad("f16", f16, "dtype");
  EXPECT_TRUE(has(error_of([&] { load_safetensors(dir + "/absent"); }), "absent"));
}

// A shape whose element count overflows 64 bits ([2^62, 4] wraps to 0, matching empty offsets)
// or whose dims exceed int64 is refused, not turned into a wrapped or negative shape. Found by
// fuzz/fuzz_checkpoint under UBSan.
TEST(Checkpoint, OverflowingShapesAreErrors) {
  auto dir = scratch_dir("ck");
  auto file_with = [&](const std::string& name, const std::string& entry) {
    std::string h = "{\"t\":" + entry + "}";
    while (h.size() % 8) h += ' ';
    std::string f(8, '\0');
    for (int i = 0; i < 8; ++i) f[i] = (char)((uint64_t)h.size() >> (8 * i));
    write_bytes(dir + "/" + name, f + h + std::string(16, '\0'));
    return error_of([&] { load_safetensors(dir + "/" + name); });
  };
  std::string e = file_with("wrap.st", R"({"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]})");
  EXPECT_TRUE(has(e, "wrap.st") && has(e, "bad shape")) << e;
  e = file_with("neg.st", R"({"dtype":"F32","shape":[18446744073709551615,0],"data_offsets":[0,0]})");
  EXPECT_TRUE(has(e, "neg.st") && has(e, "bad shape")) << e;
  e = file_with("big.st", R"({"dtype":"F32","shape":[5],"data_offsets":[0,20]})");
  EXPECT_TRUE(has(e, "big.st") && has(e, "truncated")) << e;
  e = file_with("notarray.st", R"({"dtype":"F32","shape":7,"data_offsets":[0,0]})");
  EXPECT_TRUE(has(e, "notarray.st") && has(e, "bad shape")) << e;
  // The largest shape that fits still loads.
  write_bytes(dir + "/ok.st", "");
  save_safetensors(dir + "/ok.st", {{"t", Tensor::full({2, 2}, 3.f)}}, {});
  EXPECT_EQ(load_safetensors(dir + "/ok.st").tensors.at("t").to_vector(), (std::vector<float>(4, 3.f)));
}

TEST(Checkpoint, ModelAndOptimizerRoundTrip) {
  auto dir = scratch_dir("ck");
  Net a(4);
  Adam opt(a.named_parameters());
  a.w.grad_data()[0] = 1.f;
  opt.step();
  CheckpointInfo info{"net", R"({"n":4})", 3, 17, {{"extra", "x"}}};
  save_checkpoint(dir + "/c.safetensors", info, a, &opt);

  Checkpoint ck = load_checkpoint(dir + "/c.safetensors", "net");
  EXPECT_EQ(ck.info.model, "net");
  EXPECT_EQ(ck.info.config, R"({"n":4})");
  EXPECT_EQ(ck.info.epoch, 3);
  EXPECT_EQ(ck.info.step, 17);
  EXPECT_EQ(ck.info.extra.at("extra"), "x");
  EXPECT_TRUE(ck.model.count("bn.running_mean"));
  EXPECT_TRUE(ck.optim.count("w.exp_avg"));
  // The optimizer state sits under the "optim." prefix in the file.
  EXPECT_TRUE(load_safetensors(dir + "/c.safetensors").tensors.count("optim.w.exp_avg_sq"));

  Net b(4);
  Adam opt_b(b.named_parameters());
  restore_checkpoint(ck, dir + "/c.safetensors", b, &opt_b);
  EXPECT_EQ(b.w.to_vector(), a.w.to_vector());
  EXPECT_EQ(b.child->rm.to_vector(), a.child->rm.to_vector());
  EXPECT_EQ(opt_b.steps(), 1);
  EXPECT_EQ(opt_b.state_dict().at("w.exp_avg").to_vector(), opt.state_dict().at("w.exp_avg").to_vector());

  std::string e = error_of([&] { load_checkpoint(dir + "/c.safetensors", "other"); });
  EXPECT_TRUE(has(e, "'net'") && has(e, "'other'") && has(e, "c.safetensors")) << e;
  Net wrong(5);
  e = error_of([&] { restore_checkpoint(ck, dir + "/c.safetensors", wrong, nullptr); });
  EXPECT_TRUE(has(e, "c.safetensors") && has(e, "'w'") && has(e, "[4, 2]") && has(e, "[5, 2]")) << e;
  save_safetensors(dir + "/plain.safetensors", {{"w", Tensor::zeros({1})}}, {});
  e = error_of([&] { load_checkpoint(dir + "/plain.safetensors"); });
  EXPECT_TRUE(has(e, "not a fas checkpoint")) << e;
}

// The optimizer's step count comes from the file: NaN, huge, negative, fractional or
// non-scalar values are one error, not a float-to-int conversion (undefined behaviour).
TEST(Checkpoint, BadOptimizerStepIsAnError) {
  Net a(4);
  Adam opt(a.named_parameters());
  for (const Tensor& bad : {Tensor::scalar(NAN), Tensor::scalar(1e30f), Tensor::scalar(-1.f), Tensor::scalar(2.5f),
                            Tensor::full({2}, 1.f)}) {
    std::string e = error_of([&] { opt.load_state_dict({{"step", bad}}); });
    EXPECT_TRUE(has(e, "'step'")) << e;
  }
  opt.load_state_dict({{"step", Tensor::scalar(7.f)}});
  EXPECT_EQ(opt.steps(), 7);
}

TEST(Checkpoint, FailedWriteLeavesTheOldFileIntact) {
  auto dir = scratch_dir("ck");
  const std::string p = dir + "/keep.safetensors";
  save_safetensors(p, {{"w", Tensor::full({4}, 1.f)}}, {{"v", "old"}});
  const std::string before = read_bytes(p);
  // A child process whose file size limit is 64 KiB tries to replace it with a 4 MB file: the
  // write fails part-way (EFBIG), which must surface as a fas::Error and leave no trace.
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit lim{65536, 65536};
    setrlimit(RLIMIT_FSIZE, &lim);
    try {
      save_safetensors(p, {{"w", Tensor::full({1 << 20}, 2.f)}}, {{"v", "new"}});
    } catch (const Error& e) {
      _exit(std::string(e.what()).find("keep.safetensors") != std::string::npos ? 42 : 43);
    }
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 42) << "the failed write did not raise a fas::Error naming the file";
  EXPECT_EQ(read_bytes(p), before);
  EXPECT_EQ(load_safetensors(p).meta.at("v"), "old");
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1) << "a temp file was left behind";
}

// kill -9 at random points while a child process rewrites a checkpoint over and over: after
// every kill the file loads and is one whole version (its metadata and every value agree), never
// a mix or a torn write. 40 trials; each kill comes a random 0-3 ms after the child's temp file
// appears (the write under way), so kills land inside the write, at its rename, and after it.
TEST(Checkpoint, KillDuringWriteLeavesAWholeCheckpoint) {
  auto dir = scratch_dir("ck");
  const std::string p = dir + "/run.safetensors";
  const int64_t n = 1 << 19;  // 2 MB of data
  save_safetensors(p, {{"w", Tensor::full({n}, 0.f)}}, {{"v", "0"}});
  Rng rng(9);
  int survived = 0, inside = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const int start = std::stoi(load_safetensors(p).meta.at("v"));
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0)
      for (int v = start + 1;; ++v) save_safetensors(p, {{"w", Tensor::full({n}, (float)v)}}, {{"v", std::to_string(v)}});
    // The writer's temp file is named "<path>.tmp.<pid>.<k>" (io/atomic_file.cpp).
    const std::string mine = "run.safetensors.tmp." + std::to_string(pid) + ".";
    auto temp_exists = [&] {
      for (auto& e : std::filesystem::directory_iterator(dir))
        if (e.path().filename().string().rfind(mine, 0) == 0) return true;
      return false;
    };
    while (!temp_exists()) usleep(50);
    usleep((useconds_t)rng.below(3000));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    inside += temp_exists();  // a killed writer's temp file stays behind: the kill cut a write short
    SafeTensors st = load_safetensors(p);  // throws (fails the test) on a torn file
    const int v = std::stoi(st.meta.at("v"));
    const std::vector<float> w = st.tensors.at("w").to_vector();
    ASSERT_EQ((int64_t)w.size(), n);
    ASSERT_GE(v, start);
    ASSERT_EQ(w.front(), (float)v);
    ASSERT_EQ(w.back(), (float)v);
    ++survived;
  }
  EXPECT_EQ(survived, 40);
  EXPECT_GT(inside, 0) << "no kill landed inside a write: the test did not test anything";
  std::printf("kill -9 during checkpoint writes: %d trials, %d cut a write short, all left a whole checkpoint\n",
              survived, inside);
}
