// The fas binary run as a subprocess: flags, errors (one line, exit 1), training, NaN stop,
// resume equality, eval and predict outputs.
#include <sys/wait.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/wait_policy.h"
#include "io/checkpoint.h"
#include "iqa/lda.h"
#include "io/image.h"
#include "io/plot.h"
#include "cli_testutil.h"
#include "io_testutil.h"
#include "kernels/cpu.h"
#include "kernels/gemm.h"
#include "kernels/qs8_nhwc.h"
#include "testutil.h"

using namespace fas;
using fas::cli::should_wait_passively;
using namespace fas::test;
using Json = nlohmann::json;

namespace {

const std::string kTrain = std::string(FAS_SOURCE_DIR) + "/data/sample/train.txt";
const std::string kTest = std::string(FAS_SOURCE_DIR) + "/data/sample/test.txt";
// A quick tiny-mlp run: 48 images -> 2 batches of 24 per epoch.
std::string quick(const std::string& out, int epochs) {
  return "train --model tiny-mlp --data " + q(kTrain) + " --val " + q(kTest) + " --limit 48 --batch 24 --threads 1 --seed 5 --epochs " +
         std::to_string(epochs) + " --out " + q(out);
}

Json history(const std::string& out) { return Json::parse(read_bytes(out + "/history.json")); }

}  // namespace

TEST(Cli, HelpForEverySubcommand) {
  auto dir = scratch_dir("cli");
  for (auto sub : {"train", "eval", "predict", "summary", "bench"}) {
    CmdResult r = run_fas(std::string(sub) + " --help", dir);
    EXPECT_EQ(r.code, 0) << sub;
    EXPECT_TRUE(has(r.out, "--threads") && has(r.out, "--seed") && has(r.out, "--out")) << sub << ": " << r.out;
  }
  EXPECT_EQ(run_fas("--help", dir).code, 0);
  // --version names the kernel path that runs, and FAS_ISA changes it.
  CmdResult v = run_fas("--version", dir);
  EXPECT_EQ(v.code, 0);
  EXPECT_TRUE(has(v.out, "fas 0.1.0, kernels " + isa_report())) << v.out;
  const char* prev = std::getenv("FAS_ISA");
  const std::string saved = prev ? prev : "";
  setenv("FAS_ISA", "scalar", 1);
  CmdResult s = run_fas("--version", dir);
  EXPECT_TRUE(has(s.out, "kernels scalar (available: scalar")) << s.out;
  setenv("FAS_ISA", "sse9", 1);  // unknown, and (below) one this CPU lacks: one error line, exit 1
  EXPECT_TRUE(one_error_line(run_fas("--version", dir), "unknown ISA 'sse9'"));
  EXPECT_TRUE(one_error_line(run_fas("summary --model tiny-mlp", dir), "unknown ISA 'sse9'"));
#if defined(__x86_64__)
  setenv("FAS_ISA", "neon", 1);
  EXPECT_TRUE(one_error_line(run_fas("--version", dir), "FAS_ISA=neon is not supported"));
#endif
  prev ? setenv("FAS_ISA", saved.c_str(), 1) : unsetenv("FAS_ISA");
  // FAS_GEMM: OpenBLAS on request (the version names the GEMM that runs), a bad value one error.
  setenv("FAS_GEMM", "openblas", 1);
  EXPECT_TRUE(has(run_fas("--version", dir).out, "GEMM OpenBLAS sgemm ("));
  setenv("FAS_GEMM", "mkl", 1);
  EXPECT_TRUE(one_error_line(run_fas("--version", dir), "FAS_GEMM=mkl is not one of: fas, openblas"));
  unsetenv("FAS_GEMM");
  EXPECT_TRUE(has(run_fas("--version", dir).out, "GEMM " + gemm_name()));
  // ... and the int8 kernels: with AVX2 forced, the AVX2 (or AVX-VNNI) ones, never AVX-512's.
  if (isa_supported(Isa::Avx2)) {
    setenv("FAS_ISA", "avx2", 1);
    EXPECT_TRUE(has(run_fas("--version", dir).out, std::string("int8 kernels ") + qs8_kernels(Isa::Avx2).name));
    EXPECT_FALSE(has(run_fas("--version", dir).out, "int8 kernels avx512"));
    prev ? setenv("FAS_ISA", saved.c_str(), 1) : unsetenv("FAS_ISA");
  }
  EXPECT_TRUE(has(run_fas("--version", dir).out, std::string("int8 kernels ") + qs8_kernels(active_isa()).name));
}

TEST(Cli, BadFlagsAreOneLineErrors) {
  auto dir = scratch_dir("cli");
  EXPECT_TRUE(one_error_line(run_fas("train --model tiny-mlp --data " + q(kTrain) + " --epochs abc", dir), "--epochs"));
  EXPECT_TRUE(one_error_line(run_fas("train --model tiny-mlp --data " + q(kTrain) + " --epochs 0", dir), "--epochs"));
  EXPECT_TRUE(one_error_line(run_fas("train --model tiny-mlp --data " + q(kTrain) + " --lr -1", dir), "--lr"));
  EXPECT_TRUE(one_error_line(run_fas("train --model tiny-mlp --data " + q(kTrain) + " --bogus", dir), "bogus"));
  EXPECT_TRUE(one_error_line(run_fas("train --model tiny-mlp", dir), "--data"));
  EXPECT_TRUE(one_error_line(run_fas("frobnicate", dir), "frobnicate"));
  EXPECT_TRUE(one_error_line(run_fas("train --model tiny-mlp --data " + q(kTrain) + " --threads 0", dir), "--threads"));
  EXPECT_TRUE(one_error_line(run_fas("train --model tiny-mlp --data " + q(kTrain) + " --set nokey=3", dir), "nokey"));
  EXPECT_TRUE(one_error_line(run_fas("train --model tiny-mlp --data " + q(kTrain) + " --set hidden=abc", dir), "hidden"));
  EXPECT_TRUE(one_error_line(run_fas("train --model tiny-mlp --data " + q(kTrain) + " --augment spin=3", dir), "spin"));
  EXPECT_NE(run_fas("", dir).code, 0);
}

TEST(Cli, UnknownModelAndBadDataNothingWritten) {
  auto dir = scratch_dir("cli");
  const std::string out = dir + "/run";
  EXPECT_TRUE(fails_cleanly(run_fas("train --model no-such-net --data " + q(kTrain) + " --out " + q(out), dir), "unknown model 'no-such-net'", out));
  EXPECT_TRUE(fails_cleanly(run_fas("summary --model no-such-net", dir), "tiny-mlp"));  // lists the known ones
  EXPECT_TRUE(fails_cleanly(run_fas("train --model tiny-mlp --data " + q(dir + "/none.txt") + " --out " + q(out), dir), "none.txt", out));
  write_bytes(dir + "/empty.txt", "# no images\n");
  EXPECT_TRUE(fails_cleanly(run_fas("train --model tiny-mlp --data " + q(dir + "/empty.txt") + " --out " + q(out), dir), "empty", out));
}

// Every image of --data, --data2 and --val is checked (a readable image file) before --out is
// made; a list that is an image, an image that is a directory or not an image: one line naming
// the list line and the problem, nothing printed, no directory.
TEST(Cli, TrainChecksEveryListedImageBeforeMakingOut) {
  auto dir = scratch_dir("cli");
  const std::string out = dir + "/a/run";  // two levels: neither may be left behind
  const std::string good = std::string(FAS_SOURCE_DIR) + "/data/sample/faces/ClientFace/0001/0001_00_00_01_0.jpg";
  std::filesystem::create_directories(dir + "/folder.jpg");
  write_bytes(dir + "/notes.png", "not an image at all\n");
  auto list = [&](const std::string& name, const std::string& last) {
    write_bytes(dir + "/" + name, good + " 1\n" + good + " 0\n" + last + " 1\n");
    return q(dir + "/" + name);
  };
  const std::string ok = list("ok.txt", good), with_dir = list("dir.txt", "folder.jpg"),
                    with_text = list("text.txt", "notes.png"), with_missing = list("missing.txt", "gone.jpg");
  const std::string base = "train --model tiny-mlp --threads 1 --epochs 1 --out " + q(out) + " ";
  EXPECT_TRUE(fails_cleanly(run_fas(base + "--data " + with_dir, dir), "dir.txt:3: image '" + dir + "/folder.jpg': is a directory", out));
  EXPECT_TRUE(fails_cleanly(run_fas(base + "--data " + with_text, dir), "text.txt:3: image '" + dir + "/notes.png': not an image", out));
  EXPECT_TRUE(fails_cleanly(run_fas(base + "--data " + with_missing, dir), "missing.txt:3", out));
  EXPECT_TRUE(fails_cleanly(run_fas(base + "--data " + ok + " --val " + with_missing, dir), "gone.jpg", out));
  EXPECT_TRUE(fails_cleanly(run_fas(base + "--data " + ok + " --data2 " + with_dir, dir), "is a directory", out));
  // The lists themselves: an image or a directory given as a list.
  EXPECT_TRUE(fails_cleanly(run_fas(base + "--data " + q(good), dir), "is a JPEG image, not a text list", out));
  EXPECT_TRUE(fails_cleanly(run_fas(base + "--data " + ok + " --val " + q(good), dir), "'" + good + "': is a JPEG image", out));
  EXPECT_TRUE(fails_cleanly(run_fas(base + "--data " + ok + " --val " + q(dir + "/folder.jpg"), dir), "no class subfolders", out));
  // --out that is a file: refused before training, the file untouched.
  write_bytes(dir + "/file", "keep");
  EXPECT_TRUE(fails_cleanly(run_fas("train --model tiny-mlp --data " + ok + " --out " + q(dir + "/file"), dir), "not a directory"));
  EXPECT_EQ(read_bytes(dir + "/file"), "keep");
  // The good list trains (the checks refuse only what is bad).
  EXPECT_EQ(run_fas(base + "--data " + ok + " --quiet", dir).code, 0);
  EXPECT_TRUE(std::filesystem::exists(out + "/last.safetensors"));
}

// A run that fails before its first checkpoint removes the directory it made; a failure after
// one keeps it (the last good checkpoint is what a resume needs; NanLossStops... checks that).
TEST(Cli, TrainFailingBeforeItsFirstCheckpointLeavesNoDirectory) {
  auto dir = scratch_dir("cli");
  const std::string out = dir + "/new/run";
  CmdResult r = run_fas(quick(out, 2) + " --quiet --debug-nan 1", dir);
  EXPECT_TRUE(fails_cleanly(r, "No checkpoint was written", dir + "/new"));
  // An existing directory is left as it was, with what it held.
  std::filesystem::create_directories(dir + "/old");
  write_bytes(dir + "/old/mine.txt", "x");
  EXPECT_TRUE(fails_cleanly(run_fas(quick(dir + "/old", 2) + " --quiet --debug-nan 1", dir), "loss is NaN"));
  EXPECT_EQ(read_bytes(dir + "/old/mine.txt"), "x");
}

// predict reads and checks every image (every model's input, for a fusion) before printing any
// result: a bad last image leaves stdout empty.
TEST(Cli, PredictChecksEveryImageBeforePrintingAny) {
  auto dir = scratch_dir("cli");
  ASSERT_EQ(run_fas(quick(dir + "/m", 1) + " --quiet", dir).code, 0);
  const std::string ck = q(dir + "/m/last.safetensors");
  const std::string good = q(std::string(FAS_SOURCE_DIR) + "/data/sample/faces/ClientFace/0001/0001_00_00_01_0.jpg");
  std::filesystem::create_directories(dir + "/folder.png");
  write_bytes(dir + "/notes.jpg", "text, not an image\n");
  for (const std::string& cks : {"--ckpt " + ck, "--ckpt " + ck + " --ckpt " + ck}) {
    const std::string base = "predict --resize --threads 1 " + cks + " " + good + " " + good + " ";
    ASSERT_EQ(run_fas(base, dir).code, 0);
    EXPECT_TRUE(fails_cleanly(run_fas(base + q(dir + "/folder.png"), dir), "image '" + dir + "/folder.png': is a directory"));
    EXPECT_TRUE(fails_cleanly(run_fas(base + q(dir + "/notes.jpg"), dir), "image '" + dir + "/notes.jpg': cannot decode"));
    EXPECT_TRUE(fails_cleanly(run_fas(base + q(dir + "/absent.jpg"), dir), "absent.jpg': cannot open"));
  }
  // Without --resize, a shape mismatch on the last image is caught before the first is printed.
  EXPECT_TRUE(fails_cleanly(run_fas("predict --threads 1 --ckpt " + ck + " " + good, dir), "--resize"));
}

// eval scores everything before it writes: a bad image in --data or --val (or a list that is an
// image) is one error, an empty stdout and no --out directory.
TEST(Cli, EvalBadImagesLeaveNothingBehind) {
  auto dir = scratch_dir("cli");
  ASSERT_EQ(run_fas(quick(dir + "/m", 1) + " --quiet", dir).code, 0);
  const std::string good = std::string(FAS_SOURCE_DIR) + "/data/sample/faces/ClientFace/0001/0001_00_00_01_0.jpg";
  std::filesystem::create_directories(dir + "/folder.jpg");
  write_bytes(dir + "/bad.txt", good + " 1\n" + good + " 0\nfolder.jpg 1\n");
  const std::string out = dir + "/ev";
  const std::string ev = "eval --threads 1 --ckpt " + q(dir + "/m/last.safetensors") + " --out " + q(out) + " ";
  EXPECT_TRUE(fails_cleanly(run_fas(ev + "--data " + q(dir + "/bad.txt"), dir), "bad.txt:3: image '" + dir + "/folder.jpg': is a directory", out));
  EXPECT_TRUE(fails_cleanly(run_fas(ev + "--data " + q(kTest) + " --val " + q(dir + "/bad.txt"), dir), "is a directory", out));
  EXPECT_TRUE(fails_cleanly(run_fas(ev + "--data " + q(good), dir), "is a JPEG image, not a text list", out));
  EXPECT_EQ(run_fas(ev + "--data " + q(kTest) + " --limit 8", dir).code, 0);  // the same command with a good list writes
  EXPECT_TRUE(std::filesystem::exists(out + "/metrics.json"));
}

// A non-number (or out-of-range value) for a numeric option: one line naming the option.
TEST(Cli, NonNumbersForNumericOptionsNameTheOption) {
  auto dir = scratch_dir("cli");
  const std::string out = dir + "/run";
  const std::string tr = "train --model tiny-mlp --data " + q(kTrain) + " --out " + q(out) + " ";
  for (const char* opt : {"--epochs", "--batch", "--limit", "--size", "--threads", "--seed", "--debug-nan"}) {
    EXPECT_TRUE(fails_cleanly(run_fas(tr + opt + " abc", dir), std::string(opt) + ": 'abc' is not an integer", out));
    EXPECT_TRUE(fails_cleanly(run_fas(tr + opt + " 3x", dir), std::string(opt) + ": '3x' is not an integer", out));
    EXPECT_TRUE(fails_cleanly(run_fas(tr + opt + " 1.5", dir), std::string(opt) + ": '1.5' is not an integer", out));
    EXPECT_TRUE(fails_cleanly(run_fas(tr + opt + " 0x10", dir), std::string(opt) + ": '0x10' is not an integer", out));
  }
  for (const char* opt : {"--lr", "--ema", "--weight-decay"}) {
    EXPECT_TRUE(fails_cleanly(run_fas(tr + opt + " abc", dir), std::string(opt) + ": 'abc' is not a number", out));
    EXPECT_TRUE(fails_cleanly(run_fas(tr + opt + " nan", dir), std::string(opt) + ": 'nan' is not a number", out));
  }
  // Numbers out of range say so (an unsigned seed of -1 must not wrap to 2^64 - 1).
  EXPECT_TRUE(fails_cleanly(run_fas(tr + "--seed -1", dir), "--seed: -1 is out of range: must be in [0, 18446744073709551615]", out));
  EXPECT_TRUE(fails_cleanly(run_fas(tr + "--epochs 0", dir), "--epochs: 0 is out of range: must be in [1, 1000000]", out));
  EXPECT_TRUE(fails_cleanly(run_fas(tr + "--lr 0", dir), "--lr: 0 is out of range: must be > 0", out));
  const std::string ev = "eval --ckpt x.safetensors --data " + q(kTest) + " --out " + q(out) + " ";
  for (const char* opt : {"--threshold", "--live-quantile"})
    EXPECT_TRUE(fails_cleanly(run_fas(ev + opt + " abc", dir), std::string(opt) + ": 'abc' is not a number", out));
  for (const char* opt : {"--batch", "--limit", "--calib-n"})
    EXPECT_TRUE(fails_cleanly(run_fas(ev + opt + " abc", dir), std::string(opt) + ": 'abc' is not an integer", out));
  EXPECT_TRUE(fails_cleanly(run_fas("predict --ckpt x.safetensors --threshold abc img.png", dir), "--threshold: 'abc' is not a number"));
  EXPECT_TRUE(fails_cleanly(run_fas("bench --model tiny-mlp --runs many", dir), "--runs: 'many' is not an integer"));
  EXPECT_TRUE(fails_cleanly(run_fas("latent --ckpt x --data y --test z --components 1,two", dir), "--components: 'two' is not an integer"));
  EXPECT_TRUE(fails_cleanly(run_fas("project --ckpt x --data y --steps 1e3", dir), "--steps: '1e3' is not an integer"));
  // Other parse errors are single lines too.
  EXPECT_TRUE(fails_cleanly(run_fas(tr + "stray words", dir), "stray", out));
  EXPECT_TRUE(fails_cleanly(run_fas("predict --ckpt x.safetensors", dir), "images"));
}

TEST(Cli, MissingImageNamesFileAndLineUnlessSkipped) {
  auto dir = scratch_dir("cli");
  // Two good sample images, then a missing one on line 3.
  std::ifstream in(kTrain);
  std::string l1, l2;
  std::getline(in, l1);
  std::getline(in, l2);
  const std::string base = std::string(FAS_SOURCE_DIR) + "/data/sample/";
  std::string list = base + l1 + "\n" + base + l2.substr(0, l2.rfind(' ')) + " 0\n" + "gone/nothere.jpg 1\n";
  write_bytes(dir + "/list.txt", list);
  std::string args = "train --model tiny-mlp --threads 1 --epochs 1 --data " + q(dir + "/list.txt") + " --out " + q(dir + "/run");
  CmdResult r = run_fas(args, dir);
  EXPECT_TRUE(fails_cleanly(r, "nothere.jpg", dir + "/run"));
  EXPECT_TRUE(has(r.err, "list.txt:3")) << r.err;
  r = run_fas(args + " --skip-bad", dir);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "skipped 1 bad training")) << r.out;
  EXPECT_EQ(history(dir + "/run")["epochs"][0]["skipped"], 1);
}

TEST(Cli, TrainEvalPredictWriteTheirOutputs) {
  auto dir = scratch_dir("cli");
  const std::string out = dir + "/run";
  CmdResult r = run_fas(quick(out, 2), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "epoch 1/2") && has(r.out, "epoch 2/2") && has(r.out, "val loss")) << r.out;
  for (auto f : {"last.safetensors", "best.safetensors", "history.json", "history.csv", "loss.svg", "val.svg", "roc_val.svg"})
    EXPECT_TRUE(std::filesystem::exists(out + "/" + f)) << f;
  Checkpoint ck = load_checkpoint(out + "/last.safetensors", "tiny-mlp");
  EXPECT_EQ(ck.info.epoch, 2);
  EXPECT_EQ(ck.info.step, 4);
  EXPECT_FALSE(ck.optim.empty());

  r = run_fas("eval --threads 1 --ckpt " + q(out + "/last.safetensors") + " --data " + q(kTest) + " --limit 40 --out " + q(dir + "/ev"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "APCER") && has(r.out, "ACER") && has(r.out, "EER")) << r.out;
  Json m = Json::parse(read_bytes(dir + "/ev/metrics.json"));
  EXPECT_EQ(m["n"], 40);
  for (auto f : {"metrics.csv", "roc.csv", "scores.csv", "roc.svg", "scores_hist.svg"})
    EXPECT_TRUE(std::filesystem::exists(dir + "/ev/" + f)) << f;
  EXPECT_FALSE(m.contains("hter"));
  // With a validation list: its EER threshold is applied to the test list (HTER).
  r = run_fas("eval --threads 1 --ckpt " + q(out + "/last.safetensors") + " --data " + q(kTest) + " --val " + q(kTrain) +
                  " --limit 40 --out " + q(dir + "/ev2"),
              dir);
  ASSERT_EQ(r.code, 0) << r.err;
  Json m2 = Json::parse(read_bytes(dir + "/ev2/metrics.json"));
  EXPECT_TRUE(m2.contains("hter"));
  EXPECT_EQ(m2["threshold"], m2["val_eer_threshold"]);
  EXPECT_TRUE(has(r.out, "HTER")) << r.out;

  const std::string img = std::string(FAS_SOURCE_DIR) + "/data/sample/faces/ClientFace/0001/0001_00_00_01_0.jpg";
  r = run_fas("predict --resize --ckpt " + q(out + "/best.safetensors") + " " + q(img) + " " + q(img), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    Json j = Json::parse(line);
    EXPECT_TRUE(j["decision"] == "live" || j["decision"] == "spoof") << line;
    EXPECT_GE(j["score"].get<double>(), 0.0);
    EXPECT_LE(j["score"].get<double>(), 1.0);
    ++n;
  }
  EXPECT_EQ(n, 2);
  // Without --resize a 3x128x128 image does not fit the 1x16x16 model: named shapes, no guess.
  EXPECT_TRUE(one_error_line(run_fas("predict --ckpt " + q(out + "/best.safetensors") + " " + q(img), dir), "[1, 16, 16]"));
  EXPECT_TRUE(one_error_line(run_fas("predict --resize --ckpt " + q(out + "/best.safetensors") + " " + q(dir + "/nope.png"), dir), "nope.png"));
}

TEST(Cli, BadCheckpointsAreOneLineErrors) {
  auto dir = scratch_dir("cli");
  const std::string out = dir + "/run";
  ASSERT_EQ(run_fas(quick(out, 1), dir).code, 0);
  std::string bytes = read_bytes(out + "/last.safetensors");
  write_bytes(dir + "/trunc.safetensors", bytes.substr(0, bytes.size() / 2));
  EXPECT_TRUE(one_error_line(run_fas("eval --ckpt " + q(dir + "/trunc.safetensors") + " --data " + q(kTest), dir), "truncated"));
  EXPECT_TRUE(one_error_line(
      run_fas("train --model tiny-cnn --data " + q(kTrain) + " --resume " + q(out + "/last.safetensors") + " --out " + q(dir + "/x"), dir),
      "holds model 'tiny-mlp', expected 'tiny-cnn'"));
  EXPECT_TRUE(one_error_line(run_fas("eval --ckpt " + q(dir + "/absent.safetensors") + " --data " + q(kTest), dir), "absent.safetensors"));
  // A directory or an image given as the checkpoint: named, never an allocation failure.
  EXPECT_TRUE(fails_cleanly(run_fas("eval --ckpt " + q(out) + " --data " + q(kTest) + " --out " + q(dir + "/e"), dir),
                            "checkpoint '" + out + "': is a directory", dir + "/e"));
  const std::string img = std::string(FAS_SOURCE_DIR) + "/data/sample/faces/ClientFace/0001/0001_00_00_01_0.jpg";
  EXPECT_TRUE(fails_cleanly(run_fas("predict --ckpt " + q(img) + " " + q(img), dir), "not safetensors"));
}

TEST(Cli, NanLossStopsAndKeepsTheLastGoodCheckpoint) {
  auto dir = scratch_dir("cli");
  const std::string out = dir + "/run";
  // Steps 1-4 are epochs 1-2; the NaN at step 5 is in epoch 3.
  CmdResult r = run_fas(quick(out, 4) + " --debug-nan 5", dir);
  EXPECT_TRUE(one_error_line(r, "loss is NaN at step 5 (epoch 3, batch 1)"));
  EXPECT_TRUE(has(r.err, "last.safetensors")) << r.err;
  Checkpoint ck = load_checkpoint(out + "/last.safetensors", "tiny-mlp");
  EXPECT_EQ(ck.info.epoch, 2);
  // It holds exactly the state after epoch 2: equal to a clean 2-epoch run's.
  ASSERT_EQ(run_fas(quick(dir + "/two", 2), dir).code, 0);
  SafeTensors clean = load_safetensors(dir + "/two/last.safetensors"), kept = load_safetensors(out + "/last.safetensors");
  ASSERT_EQ(clean.tensors.size(), kept.tensors.size());
  for (auto& [k, t] : clean.tensors) EXPECT_EQ(t.to_vector(), kept.tensors.at(k).to_vector()) << k;
  // A real divergence: Adam with an absurd learning rate overflows within a few steps.
  r = run_fas(quick(dir + "/run2", 3) + " --lr 1e30", dir);
  EXPECT_TRUE(one_error_line(r, "at step")) << r.err;
  EXPECT_TRUE(has(r.err, "NaN") || has(r.err, "Inf")) << r.err;
}

// A NaN in a gradient under a finite loss (as sqrt's derivative at 0 would give) is caught at its
// step, naming the parameter, and the last good checkpoint stays. The test hook writes the NaN
// into the last parameter's gradient after the step's backward.
TEST(Cli, NanGradientStopsNamingTheParameterAndKeepsTheLastGoodCheckpoint) {
  auto dir = scratch_dir("cli");
  const std::string out = dir + "/run";
  CmdResult r = run_fas(quick(out, 4) + " --debug-nan-grad 5", dir);
  EXPECT_TRUE(one_error_line(r, "gradient of fc2.bias is NaN at step 5 (epoch 3, batch 1); training stopped. "
                                "Last good checkpoint: " + out + "/last.safetensors"));
  EXPECT_EQ(load_checkpoint(out + "/last.safetensors", "tiny-mlp").info.epoch, 2);
  for (auto& [k, t] : load_safetensors(out + "/last.safetensors").tensors)
    for (float v : t.to_vector()) ASSERT_TRUE(std::isfinite(v)) << k;
}

// Resume equality, without and with dropout (whose masks are reseeded per epoch), with a
// plateau schedule (whose lr is recomputed from the stored history) and with weight averaging
// (whose state rides in last.safetensors; validation then scores the average) and with weight
// decay (a stored setting the resumed run must reuse, or its steps differ).
class CliResume : public ::testing::TestWithParam<const char*> {};
INSTANTIATE_TEST_SUITE_P(Flags, CliResume,
                         ::testing::Values(" --set dropout=0", " --set dropout=0.3",
                                           " --set dropout=0 --lr-schedule plateau:1:0.5",
                                           " --set dropout=0.3 --ema 0.9", " --set dropout=0 --weight-decay 0.05"));

TEST_P(CliResume, ContinuesExactlyLikeAnUninterruptedRun) {
  auto dir = scratch_dir("cli");
  const std::string a = dir + "/a", b = dir + "/b", set = GetParam();
  ASSERT_EQ(run_fas(quick(a, 3) + set, dir).code, 0);
  ASSERT_EQ(run_fas(quick(b, 2) + set, dir).code, 0);
  // Resume with only the new epoch count: batch, lr, seed, limit, augment come from the checkpoint.
  CmdResult r = run_fas("train --threads 1 --data " + q(kTrain) + " --val " + q(kTest) + " --epochs 3 --resume " +
                  q(b + "/last.safetensors") + " --out " + q(b),
              dir);
  ASSERT_EQ(r.code, 0) << r.err;
  Json ha = history(a)["epochs"], hb = history(b)["epochs"];
  ASSERT_EQ(ha.size(), 3u);
  ASSERT_EQ(hb.size(), 3u);
  for (int e = 0; e < 3; ++e) {
    EXPECT_EQ(ha[e]["train_loss"], hb[e]["train_loss"]) << "epoch " << e + 1;
    EXPECT_EQ(ha[e]["val"]["loss"], hb[e]["val"]["loss"]) << "epoch " << e + 1;
    EXPECT_EQ(ha[e]["step"], hb[e]["step"]);
    EXPECT_EQ(ha[e]["lr"], hb[e]["lr"]);
  }
  // The final weights and optimizer state are bit-identical too.
  SafeTensors fa = load_safetensors(a + "/last.safetensors"), fb = load_safetensors(b + "/last.safetensors");
  ASSERT_EQ(fa.tensors.size(), fb.tensors.size());
  for (auto& [k, t] : fa.tensors) EXPECT_EQ(t.to_vector(), fb.tensors.at(k).to_vector()) << k;
}

// --ema leaves training untouched, validates the average and writes it as its own checkpoint.
TEST(Cli, WeightAverageIsValidatedAndSavedBesideTheTrainingWeights) {
  auto dir = scratch_dir("cli");
  ASSERT_EQ(run_fas(quick(dir + "/plain", 2), dir).code, 0);
  CmdResult r = run_fas(quick(dir + "/ema", 2) + " --ema 0.9", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "weight average 0.9") && has(r.out, "ema.safetensors")) << r.out;
  Json hp = history(dir + "/plain")["epochs"], he = history(dir + "/ema")["epochs"];
  for (int e = 0; e < 2; ++e) {
    EXPECT_EQ(hp[e]["train_loss"], he[e]["train_loss"]) << "the average must not touch training";
    EXPECT_NE(hp[e]["val"]["loss"], he[e]["val"]["loss"]) << "validation scores the average";
  }
  Checkpoint last = load_checkpoint(dir + "/ema/last.safetensors"), avg = load_checkpoint(dir + "/ema/ema.safetensors");
  Checkpoint plain = load_checkpoint(dir + "/plain/last.safetensors");
  EXPECT_TRUE(avg.optim.empty() && avg.ema.empty());
  ASSERT_EQ(last.ema.size(), last.model.size());
  for (auto& [k, t] : last.model) {
    EXPECT_EQ(t.to_vector(), plain.model.at(k).to_vector()) << k;        // training weights as without --ema
    EXPECT_EQ(last.ema.at(k).to_vector(), avg.model.at(k).to_vector()) << k;  // the average, twice
  }
  EXPECT_NE(last.model.begin()->second.to_vector(), avg.model.begin()->second.to_vector());
  // The average evaluates like any checkpoint.
  r = run_fas("eval --threads 1 --ckpt " + q(dir + "/ema/ema.safetensors") + " --data " + q(kTest) + " --limit 20 --out " +
                  q(dir + "/ev"),
              dir);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(one_error_line(run_fas(quick(dir + "/x", 1) + " --ema 1", dir), "--ema"));
}

// --weight-decay reaches the optimizer (AdamW form, golden-tested in test_golden): the same run
// with it shrinks the weights; out-of-range values are one clear error.
TEST(Cli, WeightDecayShrinksTheWeights) {
  auto dir = scratch_dir("cli");
  ASSERT_EQ(run_fas(quick(dir + "/plain", 1) + " --lr 0.05", dir).code, 0);
  CmdResult r = run_fas(quick(dir + "/wd", 1) + " --lr 0.05 --weight-decay 1", dir);  // 5 % per step
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "weight decay 1")) << r.out;
  Checkpoint plain = load_checkpoint(dir + "/plain/last.safetensors"), wd = load_checkpoint(dir + "/wd/last.safetensors");
  double n_plain = 0, n_wd = 0;
  for (auto& [k, t] : plain.model) {
    if (k.find("running") != std::string::npos || k.find("num_batches") != std::string::npos) continue;
    for (float v : t.to_vector()) n_plain += (double)v * v;
    for (float v : wd.model.at(k).to_vector()) n_wd += (double)v * v;
  }
  EXPECT_LT(n_wd, 0.95 * n_plain);  // measured 0.87
  EXPECT_TRUE(one_error_line(run_fas(quick(dir + "/x", 1) + " --weight-decay 2", dir), "--weight-decay"));
  EXPECT_TRUE(one_error_line(run_fas(quick(dir + "/x", 1) + " --weight-decay -1", dir), "--weight-decay"));
}

TEST(Cli, LrScheduleSetsEachEpochsRate) {
  auto dir = scratch_dir("cli");
  ASSERT_EQ(run_fas(quick(dir + "/s", 3) + " --lr 0.01 --lr-schedule step:1:0.5", dir).code, 0);
  Json h = history(dir + "/s")["epochs"];
  ASSERT_EQ(h.size(), 3u);
  for (int e = 0; e < 3; ++e) EXPECT_NEAR(h[e]["lr"].get<double>(), 0.01 * std::pow(0.5, e), 1e-9) << e;
  EXPECT_TRUE(one_error_line(run_fas(quick(dir + "/x", 1) + " --lr-schedule wobble", dir), "unknown schedule 'wobble'"));
  EXPECT_TRUE(one_error_line(run_fas(quick(dir + "/x", 1) + " --lr-schedule step:0", dir), "--lr-schedule 'step:0'"));
}

// Patch training through the CLI (training on 16x16 windows, validating whole 32x32 images),
// and bad preprocessing / patch settings as one-line errors.
TEST(Cli, PatchTrainingAndBadPreprocessingSettings) {
  auto dir = scratch_dir("cli");
  const std::string base = "train --model mobilenetv2-lite --size 32 --data " + q(kTrain) + " --val " + q(kTest) +
                           " --limit 32 --epochs 1 --batch 16 --threads 1 --quiet ";
  CmdResult r = run_fas(base + "--set train_patch=16 --set pad_layers=false --set normalize=dog:0:1 --out " + q(dir + "/p"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  Json h = history(dir + "/p")["epochs"];
  ASSERT_EQ(h.size(), 1u);
  EXPECT_TRUE(std::isfinite(h[0]["val"]["loss"].get<double>()));
  EXPECT_TRUE(one_error_line(run_fas(base + "--set train_patch=64 --out " + q(dir + "/x"), dir), "train_patch 64"));
  // Keras pad layers sized for 32x32 would not fit 16x16 patches: named, with the way out.
  EXPECT_TRUE(one_error_line(run_fas(base + "--set train_patch=16 --out " + q(dir + "/x"), dir), "pad_layers=false"));
  EXPECT_TRUE(one_error_line(run_fas(base + "--set normalize=dog:2:1 --out " + q(dir + "/x"), dir), "dog:SIGMA0:SIGMA1"));
  EXPECT_TRUE(one_error_line(run_fas(base + "--set normalize=zscore --out " + q(dir + "/x"), dir), "normalize must be"));
  EXPECT_TRUE(one_error_line(run_fas(base + "--set normalize=1 --out " + q(dir + "/x"), dir), "config 'normalize' must be a string"));
  // MixStyle's keys: out-of-range, non-number and unknown values are one clear error each.
  EXPECT_TRUE(one_error_line(run_fas(base + "--set mixstyle=2 --out " + q(dir + "/x"), dir), "mixstyle is a probability"));
  EXPECT_TRUE(one_error_line(run_fas(base + "--set mixstyle=abc --out " + q(dir + "/x"), dir), "needs a number"));
  EXPECT_TRUE(one_error_line(run_fas(base + "--set mixstyle_partner=batch --out " + q(dir + "/x"), dir), "mixstyle_partner"));
  // Tiled evaluation: validated in training and eval, refused by the deployment engines.
  r = run_fas(base + "--set train_patch=16 --set pad_layers=false --set eval_tiles=true --out " + q(dir + "/t"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(std::isfinite(history(dir + "/t")["epochs"][0]["val"]["loss"].get<double>()));
  EXPECT_TRUE(one_error_line(run_fas(base + "--set eval_tiles=true --out " + q(dir + "/x"), dir), "eval_tiles needs train_patch"));
  EXPECT_TRUE(one_error_line(run_fas("eval --ckpt " + q(dir + "/t/last.safetensors") + " --data " + q(kTest) +
                                         " --limit 8 --engine float --out " + q(dir + "/te"), dir),
                             "--engine graph"));
}

// cli/wait_policy.h: passive waiting only for a job that starts on cores at least half busy,
// never against the user's own choice, never on one core.
TEST(Cli, WaitPolicyGoesPassiveOnlyOnABusyMachineUnlessTheUserChose) {
  EXPECT_FALSE(should_wait_passively(nullptr, nullptr, 0.2, 2));
  EXPECT_FALSE(should_wait_passively(nullptr, nullptr, 0.99, 2));
  EXPECT_TRUE(should_wait_passively(nullptr, nullptr, 1.0, 2));
  EXPECT_TRUE(should_wait_passively(nullptr, nullptr, 5.0, 8));
  EXPECT_FALSE(should_wait_passively(nullptr, nullptr, 3.9, 8));
  EXPECT_FALSE(should_wait_passively("active", nullptr, 4.0, 2));
  EXPECT_FALSE(should_wait_passively(nullptr, "300000", 4.0, 2));
  EXPECT_TRUE(should_wait_passively("", "", 4.0, 2));  // empty values count as unset
  EXPECT_FALSE(should_wait_passively(nullptr, nullptr, 4.0, 1));
}

// fas recalibrate: only the batch-norm statistics change (recomputed on the given images), the
// new checkpoint says where they came from and evaluates; bad requests are one-line errors.
TEST(Cli, RecalibrateRecomputesOnlyTheBatchNormStatistics) {
  auto dir = scratch_dir("cli");
  const std::string out = dir + "/m", ck = out + "/last.safetensors", rc = dir + "/recal.safetensors";
  ASSERT_EQ(run_fas("train --model mobilenetv2-lite --size 32 --data " + q(kTrain) +
                        " --limit 32 --epochs 1 --batch 16 --threads 1 --quiet --out " + q(out), dir).code, 0);
  CmdResult r = run_fas("recalibrate --ckpt " + q(ck) + " --data " + q(kTest) + " --limit 41 --batch 8 --threads 1 --out " + q(rc), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "40 images (5 batches)")) << r.out;  // the lone 41st image is left out
  Checkpoint a = load_checkpoint(ck), b = load_checkpoint(rc);
  EXPECT_EQ(b.info.extra.at("recalibrated_on"), kTest);
  EXPECT_EQ(b.info.model, a.info.model);
  EXPECT_EQ(b.info.config, a.info.config);
  ASSERT_EQ(a.model.size(), b.model.size());
  int changed = 0;
  for (auto& [k, t] : a.model) {
    const bool stat = k.find("running_") != std::string::npos;
    if (!stat) EXPECT_EQ(t.to_vector(), b.model.at(k).to_vector()) << k;
    else changed += t.to_vector() != b.model.at(k).to_vector();
  }
  EXPECT_EQ(changed, 2 * 52);  // mean and variance of all 52 BN layers
  EXPECT_EQ(run_fas("eval --ckpt " + q(rc) + " --data " + q(kTest) + " --limit 20 --threads 1 --out " + q(dir + "/ev"), dir).code, 0);
  // Never over the input; models without batch norm; missing inputs.
  EXPECT_TRUE(one_error_line(run_fas("recalibrate --ckpt " + q(ck) + " --data " + q(kTest) + " --out " + q(ck), dir),
                             "is the input checkpoint"));
  EXPECT_TRUE(one_error_line(run_fas("recalibrate --ckpt " + q(ck) + " --data " + q(kTest), dir), "--out"));
  ASSERT_EQ(run_fas(quick(dir + "/t", 1), dir).code, 0);
  EXPECT_TRUE(one_error_line(run_fas("recalibrate --ckpt " + q(dir + "/t/last.safetensors") + " --data " + q(kTest) +
                                         " --out " + q(dir + "/t2.safetensors"), dir),
                             "no batch norm"));
  EXPECT_TRUE(one_error_line(run_fas("recalibrate --ckpt " + q(ck) + " --data " + q(dir + "/nope.txt") + " --out " +
                                         q(dir + "/x.safetensors"), dir),
                             "nope.txt"));
}

TEST(Cli, DeploymentEnginesScoreLikeTheGraph) {
  // mobilenetv2-lite's float engine (BN folded, fused) must give the graph's scores; int8 must
  // be close and report its agreement; bad engine requests are one-line errors.
  auto dir = scratch_dir("cli");
  const std::string out = dir + "/m", ck = q(out + "/last.safetensors");
  ASSERT_EQ(run_fas("train --model mobilenetv2-lite --size 32 --set bn_momentum=0.5 --data " + q(kTrain) +
                        " --limit 64 --epochs 2 --batch 16 --threads 1 --quiet --out " + q(out), dir).code, 0);
  const std::string ev = "eval --ckpt " + ck + " --data " + q(kTest) + " --limit 60 --threads 1 --threshold 0.5 ";
  ASSERT_EQ(run_fas(ev + "--out " + q(out + "/g"), dir).code, 0);
  ASSERT_EQ(run_fas(ev + "--engine float --out " + q(out + "/f"), dir).code, 0);
  CmdResult r = run_fas(ev + "--engine int8 --calib " + q(kTrain) + " --calib-n 32 --out " + q(out + "/q"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "engine int8 vs graph")) << r.out;
  auto scores = [](const std::string& csv) {
    std::vector<double> v;
    std::istringstream in(read_bytes(csv));
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) v.push_back(std::stod(line.substr(line.rfind(',') + 1)));
    return v;
  };
  std::vector<double> g = scores(out + "/g/scores.csv"), f = scores(out + "/f/scores.csv"), i8 = scores(out + "/q/scores.csv");
  ASSERT_EQ(g.size(), 60u);
  ASSERT_EQ(f.size(), g.size());
  ASSERT_EQ(i8.size(), g.size());
  double spread = 0;
  for (size_t k = 0; k < g.size(); ++k) {
    EXPECT_NEAR(f[k], g[k], 1e-4) << k;
    EXPECT_NEAR(i8[k], g[k], 0.25) << k;  // int8 on a 2-epoch net: coarse, but the same function
    spread = std::max(spread, std::fabs(g[k] - g[0]));
  }
  EXPECT_GT(spread, 1e-3) << "scores are constant: the comparison would prove nothing";
  Json e = Json::parse(read_bytes(out + "/q/engine.json"));
  EXPECT_EQ(e["engine"], "int8");
  EXPECT_EQ(e["images"], 60);
  EXPECT_GT(e["decision_agreement"].get<double>(), 0.5);
  EXPECT_LE(e["decision_agreement"].get<double>(), 1.0);
  EXPECT_EQ(e["calibration_images"], 32);  // what was read, named with its list
  EXPECT_EQ(e["calibration_list"], kTrain);
  Json ef = Json::parse(read_bytes(out + "/f/engine.json"));  // the float engine calibrates on nothing
  EXPECT_TRUE(ef["calibration_list"].is_null() && ef["calibration_images"].is_null()) << ef.dump();
  // Asking for more calibration images than the list has: the count says what was used.
  ASSERT_EQ(run_fas(ev + "--engine int8 --calib " + q(kTrain) + " --calib-n 100000 --out " + q(out + "/q2"), dir).code, 0);
  size_t lines = 0;
  {
    std::istringstream in(read_bytes(kTrain));
    for (std::string l; std::getline(in, l);) lines += !l.empty();
  }
  EXPECT_EQ(Json::parse(read_bytes(out + "/q2/engine.json"))["calibration_images"], lines);
  // --calib-pct: clipping at a percentile of |a| instead of the maximum changes the int8 scores,
  // and engine.json says which clip ran; for an engine that does not calibrate it is an error.
  EXPECT_EQ(e["calibration_clip"], "max-abs");
  ASSERT_EQ(run_fas(ev + "--engine int8 --calib " + q(kTrain) + " --calib-n 32 --calib-pct 99 --out " + q(out + "/p"),
                    dir).code, 0);
  EXPECT_EQ(Json::parse(read_bytes(out + "/p/engine.json"))["calibration_clip"], 99.0);
  const std::vector<double> p99 = scores(out + "/p/scores.csv");
  double moved = 0;
  for (size_t k = 0; k < p99.size(); ++k) moved = std::max(moved, std::fabs(p99[k] - i8[k]));
  EXPECT_GT(moved, 1e-6) << "--calib-pct changed nothing";
  EXPECT_TRUE(one_error_line(run_fas(ev + "--engine float --calib-pct 99", dir), "--calib-pct applies to engines"));
  EXPECT_TRUE(one_error_line(run_fas(ev + "--calib-pct 99", dir), "not 'graph'"));
  EXPECT_NE(run_fas(ev + "--engine int8 --calib " + q(kTrain) + " --calib-pct 0", dir).code, 0);
  EXPECT_NE(run_fas(ev + "--engine int8 --calib " + q(kTrain) + " --calib-pct 101", dir).code, 0);
  // predict with an engine prints the engine's score.
  r = run_fas("predict --resize --engine float --threads 1 --ckpt " + ck + " " + q(std::string(FAS_SOURCE_DIR) + "/" +
              "data/sample/faces/ClientFace/0004/0004_01_06_03_0.jpg"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "\"score\"")) << r.out;
  EXPECT_TRUE(one_error_line(run_fas(ev + "--engine int8", dir), "pass --calib LIST"));
  EXPECT_TRUE(one_error_line(run_fas(ev + "--engine int8 --calib " + q(dir + "/missing.txt"), dir), "missing.txt"));
  EXPECT_TRUE(one_error_line(run_fas(ev + "--engine gpu", dir), "has no engine 'gpu' (engines: graph, float, int8)"));
}

// scores.csv as rows of its numeric columns after the path (label, score, ...) and the paths.
std::vector<std::vector<double>> csv_rows(const std::string& path, std::vector<std::string>* paths) {
  std::vector<std::vector<double>> rows;
  std::istringstream in(read_bytes(path));
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string cell;
    std::getline(f, cell, ',');
    if (paths) paths->push_back(cell);
    rows.emplace_back();
    while (std::getline(f, cell, ',')) rows.back().push_back(std::stod(cell));
  }
  return rows;
}

TEST(Cli, EvalFusesCheckpointsByTheirMeanLogOdds) {
  // Two models with different inputs (mobilenetv2-lite 3x32x32 through its logits override,
  // tiny-mlp 1x16x16 grey): the fused score is sigmoid(mean of their live log-odds), each
  // log-odds is the single model's P(live) inverted, on the same images in the same order.
  auto dir = scratch_dir("cli");
  const std::string a = dir + "/a/last.safetensors", b = dir + "/b/last.safetensors";
  ASSERT_EQ(run_fas("train --model mobilenetv2-lite --size 32 --set bn_momentum=0.5 --data " + q(kTrain) +
                        " --limit 64 --epochs 2 --batch 16 --threads 1 --quiet --out " + q(dir + "/a"), dir).code, 0);
  ASSERT_EQ(run_fas(quick(dir + "/b", 3) + " --quiet", dir).code, 0);
  const std::string ev = "eval --threads 1 --data " + q(kTest) + " --limit 50 ";
  ASSERT_EQ(run_fas(ev + "--threshold 0.5 --ckpt " + q(a) + " --out " + q(dir + "/ea"), dir).code, 0);
  ASSERT_EQ(run_fas(ev + "--threshold 0.5 --ckpt " + q(b) + " --out " + q(dir + "/eb"), dir).code, 0);
  CmdResult r = run_fas(ev + "--ckpt " + q(a) + " --ckpt " + q(b) + " --out " + q(dir + "/f"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "fusion of mobilenetv2-lite + tiny-mlp")) << r.out;
  std::vector<std::string> pa, pb, pf;
  auto ra = csv_rows(dir + "/ea/scores.csv", &pa), rb = csv_rows(dir + "/eb/scores.csv", &pb),
       rf = csv_rows(dir + "/f/scores.csv", &pf);
  ASSERT_EQ(rf.size(), 50u);
  ASSERT_EQ(pf, pa);
  ASSERT_EQ(pf, pb);
  EXPECT_TRUE(has(read_bytes(dir + "/f/scores.csv"), "path,label,score,logit_1,logit_2\n"));
  auto logit = [](double p) { return std::log(p / (1 - p)); };
  size_t checked = 0;
  double spread = 0;
  for (size_t i = 0; i < rf.size(); ++i) {
    ASSERT_EQ(rf[i].size(), 4u);
    EXPECT_EQ(rf[i][0], ra[i][0]);  // label
    const double za = rf[i][2], zb = rf[i][3];
    EXPECT_NEAR(rf[i][1], 1 / (1 + std::exp(-(za + zb) / 2)), 1e-6) << i;
    for (auto [p, z] : {std::pair{ra[i][1], za}, std::pair{rb[i][1], zb}})
      if (p > 1e-4 && p < 1 - 1e-4) {
        EXPECT_NEAR(z, logit(p), 2e-3) << i;
        ++checked;
      }
    spread = std::max(spread, std::fabs(za - rf[0][2]) + std::fabs(zb - rf[0][3]));
  }
  EXPECT_GT(checked, 50u);
  EXPECT_GT(spread, 1e-3) << "constant log-odds prove nothing";
  Json m = Json::parse(read_bytes(dir + "/f/metrics.json"));
  EXPECT_EQ(m["threshold"], 0.5);  // no --val, no --threshold: 0.5 on the fused P(live)
  // With --val, the fused validation scores' EER threshold is used.
  ASSERT_EQ(run_fas(ev + "--ckpt " + q(a) + " --ckpt " + q(b) + " --val " + q(kTrain) + " --out " + q(dir + "/fv"), dir).code, 0);
  Json mv = Json::parse(read_bytes(dir + "/fv/metrics.json"));
  EXPECT_EQ(mv["threshold"], mv["val_eer_threshold"]);
  // predict fuses the same way, image by image, and lists each model's log-odds.
  const std::string img = std::string(FAS_SOURCE_DIR) + "/data/sample/faces/ClientFace/0001/0001_00_00_01_0.jpg";
  r = run_fas("predict --resize --threads 1 --ckpt " + q(a) + " --ckpt " + q(b) + " " + q(img), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  Json pj = Json::parse(r.out);
  ASSERT_EQ(pj["logits"].size(), 2u);
  const double zm = (pj["logits"][0].get<double>() + pj["logits"][1].get<double>()) / 2;
  EXPECT_NEAR(pj["score"].get<double>(), 1 / (1 + std::exp(-zm)), 1e-6);
  EXPECT_EQ(pj["threshold"], 0.5);
  EXPECT_TRUE(one_error_line(run_fas("predict --ckpt " + q(a) + " --ckpt " + q(b) + " " + q(img), dir), "--resize"));
  // --adapt-threshold: the mixture cut of the evaluated scores themselves (fused or single).
  for (const std::string& cks : {"--ckpt " + q(a) + " --ckpt " + q(b), "--ckpt " + q(b)}) {
    r = run_fas(ev + cks + " --adapt-threshold --out " + q(dir + "/fa"), dir);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(has(r.out, "adapted threshold (transductive, labels unused)")) << r.out;
    Json ma = Json::parse(read_bytes(dir + "/fa/metrics.json"));
    EXPECT_TRUE(has(ma["threshold_source"].get<std::string>(), "labels unused")) << ma.dump();
    EXPECT_GT(ma["threshold"].get<double>(), 0.0);
    EXPECT_LT(ma["threshold"].get<double>(), 1.0);
  }
  EXPECT_TRUE(one_error_line(run_fas(ev + "--ckpt " + q(b) + " --adapt-threshold --threshold 0.5", dir), "--adapt-threshold"));
  EXPECT_TRUE(one_error_line(run_fas(ev + "--ckpt " + q(b) + " --adapt-threshold --val " + q(kTrain), dir), "--adapt-threshold"));
  // Errors: an engine (it scores one checkpoint), an anomaly-score model, a bad second file.
  EXPECT_TRUE(one_error_line(run_fas(ev + "--ckpt " + q(a) + " --ckpt " + q(b) + " --engine float", dir), "fusion"));
  ASSERT_EQ(run_fas("train --model stacked-ae --set stage=1 --size 16 --data " + q(kTrain) +
                        " --limit 16 --epochs 1 --batch 8 --threads 1 --quiet --out " + q(dir + "/ae"), dir).code, 0);
  EXPECT_TRUE(one_error_line(run_fas(ev + "--ckpt " + q(a) + " --ckpt " + q(dir + "/ae/last.safetensors"), dir), "anomaly score"));
  EXPECT_TRUE(one_error_line(run_fas(ev + "--ckpt " + q(a) + " --ckpt " + q(dir + "/nope.safetensors"), dir), "nope.safetensors"));
}

TEST(Cli, TinyCnnTrainsToAFallingLoss) {
  // The conv path end to end at a small size: the training loss falls over three epochs.
  auto dir = scratch_dir("cli");
  const std::string out = dir + "/cnn";
  CmdResult r = run_fas("train --model tiny-cnn --size 24 --data " + q(kTrain) + " --val " + q(kTest) +
                        " --limit 64 --epochs 3 --batch 16 --threads 1 --out " + q(out), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  Json h = history(out)["epochs"];
  ASSERT_EQ(h.size(), 3u);
  EXPECT_LT(h[2]["train_loss"].get<double>(), h[0]["train_loss"].get<double>()) << h.dump();
  Checkpoint ck = load_checkpoint(out + "/last.safetensors", "tiny-cnn");
  EXPECT_TRUE(ck.model.count("block1.bn.running_mean"));
  EXPECT_EQ(Json::parse(ck.info.config)["height"], 24);
}

TEST(Cli, LbpBaselineSeparatesTheSampleAndEvaluates) {
  // lbp-lr end to end on the bundled sample: train (the objective falls), evaluate on the test
  // sample (other sessions) with a texture model that ranks well above chance there.
  auto dir = scratch_dir("cli");
  const std::string out = dir + "/lbp";
  CmdResult r = run_fas("train --model lbp-lr --data " + q(kTrain) + " --epochs 6 --threads 1 --out " + q(out), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  Json h = history(out)["epochs"];
  ASSERT_EQ(h.size(), 6u);
  EXPECT_LT(h[5]["train_loss"].get<double>(), 0.5 * h[0]["train_loss"].get<double>()) << h.dump();
  r = run_fas("eval --ckpt " + q(out + "/last.safetensors") + " --data " + q(kTest) + " --threshold 0.5 --out " + q(out + "/eval"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_GT(Json::parse(read_bytes(out + "/eval/metrics.json"))["auc"].get<double>(), 0.7);  // 0.78 here; chance is 0.5
  EXPECT_TRUE(one_error_line(run_fas("train --model lbp-lr --data " + q(kTrain) + " --set space=hsv --out " + q(out + "2"), dir), "'hsv'"));
  EXPECT_TRUE(one_error_line(run_fas("train --model lbp-lr --data " + q(kTrain) + " --set radii=3 --out " + q(out + "2"), dir), "'radii'"));
  EXPECT_TRUE(one_error_line(run_fas("train --model lbp-lr --data " + q(kTrain) + " --size 8 --out " + q(out + "2"), dir), "too small"));
}

TEST(Cli, SummaryAndBench) {
  auto dir = scratch_dir("cli");
  CmdResult r = run_fas("summary --list", dir);
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(has(r.out, "tiny-mlp") && has(r.out, "tiny-cnn")) << r.out;
  r = run_fas("summary --model tiny-mlp --set hidden=8", dir);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "Total params") && has(r.out, "2,065")) << r.out;  // 256*8+8 + 8+1
  EXPECT_TRUE(one_error_line(run_fas("summary --model tiny-mlp --set dropout=1.5", dir), "dropout"));
  r = run_fas("bench --model tiny-mlp --batch 4 --runs 3 --warmup 1 --train --threads 1", dir);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "forward") && has(r.out, "train step") && has(r.out, "median")) << r.out;
  EXPECT_TRUE(has(r.out, " 1 threads")) << r.out;
  r = run_fas("bench --model tiny-mlp --runs 1 --warmup 0", dir);  // no flag: $FAS_NUM_THREADS
  EXPECT_EQ(r.code, 0) << r.err;
  setenv("FAS_NUM_THREADS", "2", 1);
  r = run_fas("bench --model tiny-mlp --runs 1 --warmup 0", dir);
  EXPECT_TRUE(has(r.out, " 2 threads")) << r.out;
  r = run_fas("bench --model tiny-mlp --runs 1 --warmup 0 --threads 1", dir);  // the flag wins
  EXPECT_TRUE(has(r.out, " 1 threads")) << r.out;
  setenv("FAS_NUM_THREADS", "two", 1);
  EXPECT_TRUE(one_error_line(run_fas("bench --model tiny-mlp --runs 1", dir), "FAS_NUM_THREADS"));
  unsetenv("FAS_NUM_THREADS");
  EXPECT_TRUE(one_error_line(run_fas("bench --model tiny-mlp --batch 0", dir), "--batch"));
}

// fas bench --engine: the deployment engines, one instance per thread on parts of the batch
// (at batch 1 the float engine splits its image over all the threads).
TEST(Cli, BenchDeploymentEngines) {
  auto dir = scratch_dir("cli");
  const std::string mb = "bench --model mobilenetv2-lite --size 32 --runs 2 --warmup 0 ";
  CmdResult r = run_fas(mb + "--engine float --batch 3 --threads 2", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "engine float") && has(r.out, "2 instance(s)") && has(r.out, "median")) << r.out;
  EXPECT_TRUE(has(r.out, "peak activation memory")) << r.out;
  // A batch smaller than the thread count: the float engine splits each image over the rest.
  r = run_fas(mb + "--engine float --batch 1 --threads 2", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "1 instance(s) x 2 thread(s)") && !has(r.out, "larger --batch")) << r.out;
  // Several instances never nest threads: 2 images on 4 threads is 2 x 1, and says so.
  r = run_fas(mb + "--engine float --batch 2 --threads 4", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "2 instance(s) x 1 thread(s)") && has(r.out, "larger --batch")) << r.out;
  r = run_fas(mb + "--engine int8 --batch 1 --threads 2", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "engine int8") && has(r.out, "1 instance(s)") && has(r.out, "larger --batch")) << r.out;
  EXPECT_TRUE(one_error_line(run_fas(mb + "--engine bogus", dir), "no engine 'bogus' (engines: graph, float, int8)"));
  EXPECT_TRUE(one_error_line(run_fas(mb + "--engine float --train", dir), "cannot be combined with --engine"));
  EXPECT_TRUE(one_error_line(run_fas("bench --model tiny-mlp --engine float", dir), "no engine 'float'"));
}

TEST(Cli, EvalGroupByReportsErrorsPerGroup) {
  auto dir = scratch_dir("cli");
  ASSERT_EQ(run_fas(quick(dir + "/m", 1) + " --quiet", dir).code, 0);
  const std::string ck = q(dir + "/m/last.safetensors");
  const std::string ev = "eval --threads 1 --data " + q(kTest) + " --limit 60 --threshold 0.5 --ckpt " + ck;
  for (const std::string& fuse : {std::string(), " --ckpt " + ck}) {  // one model, and a fusion
    CmdResult r = run_fas(ev + fuse + " --group-by '/([0-9]{4})_' --out " + q(dir + "/g"), dir);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(has(r.out, "errors per group") && has(r.out, "groups.csv")) << r.out;
    Json m = Json::parse(read_bytes(dir + "/g/metrics.json"));
    std::istringstream in(read_bytes(dir + "/g/groups.csv"));
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line.rfind("group,live,spoof,live_rejected,spoof_accepted,", 0), 0u) << line;
    int64_t live = 0, spoof = 0, fn = 0, fp = 0, rows = 0;
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string key, v[4];
      std::getline(f, key, ',');
      for (auto& x : v) std::getline(f, x, ',');
      EXPECT_EQ(key.size(), 4u) << line;  // a NUAA subject ID
      live += std::stoll(v[0]), spoof += std::stoll(v[1]), fn += std::stoll(v[2]), fp += std::stoll(v[3]);
      ++rows;
    }
    EXPECT_GT(rows, 1);
    EXPECT_EQ(live, m["n_live"].get<int64_t>());
    EXPECT_EQ(spoof, m["n_spoof"].get<int64_t>());
    EXPECT_EQ(fn, m["fn"].get<int64_t>());
    EXPECT_EQ(fp, m["fp"].get<int64_t>());
  }
  // Both fail before anything is scored or written.
  EXPECT_TRUE(one_error_line(run_fas(ev + " --group-by '([0-9' --out " + q(dir + "/bad"), dir), "not a regular expression"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/bad"));
  EXPECT_TRUE(one_error_line(run_fas(ev + " --group-by 'no-such-folder' --out " + q(dir + "/none"), dir), "matches none"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/none"));
}

// predict --detect: full frames go through the face detector (detect/face_crop.h, fas serve's
// path); the score is the model's on the squared largest face, and a frame without a face gets
// "no face found" and no score.
TEST(Cli, PredictDetectScoresTheFaceCropOrSaysNoFace) {
  auto dir = scratch_dir("cli");
  const std::string src = FAS_SOURCE_DIR, ck = q(src + "/models/lbp-lr.safetensors");
  const std::string live = src + "/data/sample/frame_live.jpg", spoof = src + "/data/sample/frame_spoof.jpg";
  // A face-less 640x480 frame: a smooth gradient with a few flat blocks.
  Tensor blank = Tensor::zeros({3, 480, 640});
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < 480; ++y)
      for (int64_t x = 0; x < 640; ++x)
        blank.data()[(c * 480 + y) * 640 + x] = (float)(x / 640.0 * 0.5 + ((x / 80 + y / 80) % 2) * 0.25 + c * 0.05);
  const std::string none = dir + "/no_face.png";
  plot::write_png(none, blank);
#ifndef FAS_HAVE_DLIB
  EXPECT_TRUE(one_error_line(run_fas("predict --detect --ckpt " + ck + " " + q(live), dir), "dlib"));
  GTEST_SKIP() << "built without dlib";
#endif
  CmdResult r = run_fas("predict --detect --threads 1 --ckpt " + ck + " " + q(live) + " " + q(spoof) + " " + q(none), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<Json> lines;
  std::istringstream in(r.out);
  for (std::string l; std::getline(in, l);) lines.push_back(Json::parse(l));
  ASSERT_EQ(lines.size(), 3u) << r.out;
  // Where the prepared NUAA crops of these two frames lie in them (x, y, side), found by
  // tools/crop_agreement.py's template match (correlation 0.997 and 0.999).
  const int64_t bundled[2][3] = {{205, 136, 181}, {120, 81, 179}};
  for (int k = 0; k < 2; ++k) {
    const Json& j = lines[k];
    ASSERT_TRUE(j["face"].is_object()) << j.dump();
    const int64_t x = j["face"]["x"], y = j["face"]["y"], w = j["face"]["w"], h = j["face"]["h"];
    EXPECT_EQ(w, h) << "squared";
    EXPECT_GE(x, 0); EXPECT_GE(y, 0); EXPECT_LE(x + w, 640); EXPECT_LE(y + h, 480);
    EXPECT_GE(j["faces_found"].get<int>(), 1);
    // The detected face is the prepared crop's face: intersection over union >= 0.5.
    const int64_t bx = bundled[k][0], by = bundled[k][1], bs = bundled[k][2];
    const double iw = std::max<int64_t>(0, std::min(x + w, bx + bs) - std::max(x, bx));
    const double ih = std::max<int64_t>(0, std::min(y + h, by + bs) - std::max(y, by));
    EXPECT_GE(iw * ih / (double)(w * h + bs * bs - iw * ih), 0.5) << j.dump();
    // The score is the model's on that crop, cut here and written losslessly.
    const Tensor frame = load_image(k ? spoof : live, 3);
    const std::string cut = dir + "/cut" + std::to_string(k) + ".png";
    plot::write_png(cut, crop(frame, y, x, h, w));
    CmdResult rc = run_fas("predict --resize --threads 1 --ckpt " + ck + " " + q(cut), dir);
    ASSERT_EQ(rc.code, 0) << rc.err;
    EXPECT_NEAR(j["score"].get<double>(), Json::parse(rc.out)["score"].get<double>(), 1e-6);
    // The whole frame squeezed to 128x128 scores differently: the crop is what was scored.
    rc = run_fas("predict --resize --threads 1 --ckpt " + ck + " " + q(k ? spoof : live), dir);
    EXPECT_GT(std::fabs(j["score"].get<double>() - Json::parse(rc.out)["score"].get<double>()), 1e-4);
  }
  const Json& nf = lines[2];
  EXPECT_TRUE(nf["face"].is_null()) << nf.dump();
  EXPECT_EQ(nf["message"], "no face found");
  EXPECT_EQ(nf["decision"], "no face");
  EXPECT_EQ(nf["faces_found"], 0);
  EXPECT_FALSE(nf.contains("score")) << "no face: no guess";
  // A fusion of two checkpoints scores the same crop with each.
  r = run_fas("predict --detect --threads 1 --ckpt " + ck + " --ckpt " + q(src + "/models/mobilenetv2-lite.safetensors") +
                  " " + q(live), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  Json fj = Json::parse(r.out);
  EXPECT_EQ(fj["face"], lines[0]["face"]);
  ASSERT_EQ(fj["logits"].size(), 2u);
  EXPECT_NEAR(fj["logits"][0].get<double>(), std::log(lines[0]["score"].get<double>() / (1 - lines[0]["score"].get<double>())), 1e-3);
}

// fas fuse: the LDA is fitted on out-of-fold scores (each fold's members retrained without its
// subjects), saved as one checkpoint naming its members; eval and predict read it.
TEST(Cli, FuseFitsOnOutOfFoldScoresAndEvalPredictUseIt) {
  auto dir = scratch_dir("cli");
  const std::string a = dir + "/lbp", b = dir + "/mlp", f = dir + "/fuse";
  ASSERT_EQ(run_fas("train --model lbp-lr --data " + q(kTrain) + " --epochs 3 --threads 1 --quiet --out " + q(a), dir).code, 0);
  ASSERT_EQ(run_fas("train --model tiny-mlp --size 24 --data " + q(kTrain) + " --epochs 2 --threads 1 --quiet --out " + q(b), dir).code, 0);
  const std::string members = "--ckpt " + q(a + "/last.safetensors") + " --train " + q(kTrain) + " --ckpt " +
                              q(b + "/last.safetensors") + " --train " + q(kTrain);
  CmdResult r = run_fas("fuse " + members + " --data " + q(kTrain) + " --folds 3 --threads 1 --out " + q(f), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  // Fold f's training lists hold no image of a subject of fold f (subject number mod 3).
  auto subject = [](const std::string& p) { return std::stoi(p.substr(p.rfind('/') + 1, 4)); };
  for (int fold = 0; fold < 3; ++fold)
    for (int k = 0; k < 2; ++k) {
      std::istringstream in(read_bytes(f + "/fold" + std::to_string(fold) + "/train_" + std::to_string(k) + ".txt"));
      size_t n = 0;
      for (std::string p, l; in >> p >> l; ++n) EXPECT_NE(subject(p) % 3, fold) << p;
      EXPECT_GT(n, 50u);
    }
  // The LDA is the one of the out-of-fold log-odds in oof_scores.csv.
  std::istringstream oof(read_bytes(f + "/oof_scores.csv"));
  std::string line;
  std::getline(oof, line);
  EXPECT_EQ(line, "path,label,fold,logit_1,logit_2");
  std::vector<double> X;
  std::vector<int> y;
  std::map<std::string, std::pair<double, double>> oof_z;
  while (std::getline(oof, line)) {
    std::vector<std::string> c;
    std::stringstream ss(line);
    for (std::string t; std::getline(ss, t, ',');) c.push_back(t);
    ASSERT_EQ(c.size(), 5u) << line;
    EXPECT_EQ(std::stoi(c[2]), subject(c[0]) % 3);
    y.push_back(std::stoi(c[1]));
    X.push_back(std::stod(c[3])), X.push_back(std::stod(c[4]));
    oof_z[c[0].substr(c[0].rfind('/') + 1)] = {X[X.size() - 2], X.back()};
  }
  ASSERT_EQ(y.size(), 200u);
  const iqa::LdaModel lda = iqa::fit_shrinkage_lda(X, y, 2);
  const SafeTensors st = load_safetensors(f + "/fusion.safetensors");
  EXPECT_EQ(st.meta.at("fas_model"), "fusion");
  const Json cfg = Json::parse(st.meta.at("fas_config"));
  ASSERT_EQ(cfg["members"].size(), 2u);
  EXPECT_EQ(cfg["members"][0]["model"], "lbp-lr");
  EXPECT_EQ(cfg["members"][1]["ckpt"], "../mlp/last.safetensors");  // relative to the fusion file
  for (int k = 0; k < 2; ++k) EXPECT_NEAR(cfg["coef"][k].get<double>(), lda.coef[k], 1e-6 * (1 + std::fabs(lda.coef[k])));
  EXPECT_NEAR(cfg["intercept"].get<double>(), lda.intercept, 1e-6 * (1 + std::fabs(lda.intercept)));
  // eval: fused log-odds = intercept + coef . members' log-odds (the full-data members', not the
  // folds': they differ from the out-of-fold ones), P(live) = sigmoid, threshold 0.5.
  r = run_fas("eval --ckpt " + q(f + "/fusion.safetensors") + " --data " + q(kTrain) + " --threads 1 --out " + q(dir + "/ev"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "fusion (lda) of lbp-lr + tiny-mlp")) << r.out;
  std::istringstream sc(read_bytes(dir + "/ev/scores.csv"));
  std::getline(sc, line);
  EXPECT_EQ(line, "path,label,score,logit_lbp-lr,logit_tiny-mlp,fused_logit");
  size_t rows = 0, moved = 0;
  double first_score = -1;
  while (std::getline(sc, line)) {
    std::vector<double> c;
    std::stringstream ss(line.substr(line.find(',') + 1));
    for (std::string t; std::getline(ss, t, ',');) c.push_back(std::stod(t));
    ASSERT_EQ(c.size(), 5u);
    const double z = lda.intercept + lda.coef[0] * c[2] + lda.coef[1] * c[3];
    EXPECT_NEAR(c[4], z, 1e-4 * (1 + std::fabs(z)));
    EXPECT_NEAR(c[1], 1 / (1 + std::exp(-c[4])), 1e-6);
    const std::string path = line.substr(0, line.find(','));
    const auto& o = oof_z.at(path.substr(path.rfind('/') + 1));
    moved += std::fabs(o.first - c[2]) > 1e-3;
    if (rows++ == 0) first_score = c[1];
  }
  EXPECT_EQ(rows, 200u);
  EXPECT_GT(moved, 100u) << "out-of-fold scores must come from the fold models";
  EXPECT_EQ(Json::parse(read_bytes(dir + "/ev/metrics.json"))["threshold"], 0.5);
  // predict gives the same fused P(live) for the list's first image.
  std::istringstream tl(read_bytes(kTrain));
  std::string first;
  tl >> first;
  r = run_fas("predict --threads 1 --ckpt " + q(f + "/fusion.safetensors") + " " +
                  q(std::string(FAS_SOURCE_DIR) + "/data/sample/" + first), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NEAR(Json::parse(r.out)["score"].get<double>(), first_score, 1e-5);
  // Errors: a --train per --ckpt; no threshold chosen on the evaluated list; a missing member.
  EXPECT_TRUE(one_error_line(run_fas("fuse --ckpt " + q(a + "/last.safetensors") + " --train " + q(kTrain) + " --ckpt " +
                                         q(b + "/last.safetensors") + " --data " + q(kTrain) + " --out " + q(dir + "/f2"), dir),
                             "one --train list per --ckpt"));
  EXPECT_TRUE(one_error_line(run_fas("eval --ckpt " + q(f + "/fusion.safetensors") + " --data " + q(kTest) + " --val " + q(kTrain), dir),
                             "fixed threshold"));
  std::filesystem::rename(b, dir + "/mlp_moved");
  EXPECT_TRUE(one_error_line(run_fas("eval --ckpt " + q(f + "/fusion.safetensors") + " --data " + q(kTest), dir), "not found"));
}

// fas serve's own inputs: each bad one is one line and exit 1 before anything listens.
TEST(Cli, ServeBadInputsAreOneLineErrors) {
  auto dir = scratch_dir("cli");
  const std::string lbp = std::string(FAS_SOURCE_DIR) + "/models/lbp-lr.safetensors";
  EXPECT_TRUE(fails_cleanly(run_fas("serve --port 0 --token-file " + q(dir + "/absent.txt"), dir), "absent.txt"));
  write_bytes(dir + "/empty.txt", "\n");
  EXPECT_TRUE(fails_cleanly(run_fas("serve --port 0 --token-file " + q(dir + "/empty.txt"), dir), "is empty"));
  EXPECT_TRUE(fails_cleanly(run_fas("serve --port 0 --generator " + q(lbp), dir), "not an autodecoder"));
  EXPECT_TRUE(fails_cleanly(run_fas("serve --port 0 --ckpt " + q(dir + "/none.safetensors"), dir), "none.safetensors"));
  EXPECT_TRUE(fails_cleanly(run_fas("serve --port 70000", dir), "--port"));
}
