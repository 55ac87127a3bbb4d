// Running the fas binary as a subprocess in the CLI tests (test_cli, test_train_faults).
// Header-only, like io_testutil.h: the CMake glob links test_*.cpp with testutil.cpp only.
#pragma once
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "io_testutil.h"

namespace fas::test {

struct CmdResult {
  int code = -1;
  std::string out, err;
};

inline std::string q(const std::string& s) { return "'" + s + "'"; }

// Runs `fas ARGS` with stdout/stderr captured in files of dir.
inline CmdResult run_fas(const std::string& args, const std::string& dir) {
  const std::string o = dir + "/stdout.txt", e = dir + "/stderr.txt";
  std::string cmd = std::string(FAS_BINARY_DIR) + "/fas " + args + " > " + q(o) + " 2> " + q(e);
  int st = std::system(cmd.c_str());
  CmdResult r;
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  r.out = read_bytes(o);
  r.err = read_bytes(e);
  return r;
}

// One clear line on stderr starting "fas: error:", exit code 1.
inline ::testing::AssertionResult one_error_line(const CmdResult& r, const std::string& must_contain) {
  if (r.code != 1) return ::testing::AssertionFailure() << "exit code " << r.code << ", stderr: " << r.err;
  if (r.err.rfind("fas: error: ", 0) != 0) return ::testing::AssertionFailure() << "stderr: " << r.err;
  if (std::count(r.err.begin(), r.err.end(), '\n') != 1) return ::testing::AssertionFailure() << "not one line: " << r.err;
  if (!has(r.err, must_contain)) return ::testing::AssertionFailure() << "'" << must_contain << "' not in: " << r.err;
  return ::testing::AssertionSuccess();
}

// An error that leaves nothing behind: one error line, nothing on stdout and (when given) no
// output directory `out`.
inline ::testing::AssertionResult fails_cleanly(const CmdResult& r, const std::string& must_contain, const std::string& out = "") {
  ::testing::AssertionResult one = one_error_line(r, must_contain);
  if (!one) return one;
  if (!r.out.empty()) return ::testing::AssertionFailure() << "stdout not empty: " << r.out;
  if (!out.empty() && std::filesystem::exists(out)) return ::testing::AssertionFailure() << "'" << out << "' was left behind";
  return ::testing::AssertionSuccess();
}

}  // namespace fas::test
