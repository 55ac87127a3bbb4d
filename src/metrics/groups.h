// Errors per group of images -- a subject, a capture session, a device -- at one threshold. A
// whole-list ACER can hide that one person's faces carry most of the errors (NUAA's test session:
// one subject's over-exposed live faces, docs/experiments/EXP-023), which is what
// decides whether a threshold will carry to the next person.
#pragma once
#include <cstdint>
#include <regex>
#include <string>
#include <vector>

#include "metrics/metrics.h"

namespace fas::metrics {

struct GroupErrors {
  std::string key;
  int64_t live = 0, spoof = 0;
  int64_t live_rejected = 0, spoof_accepted = 0;  // BPCER / APCER numerators at the threshold
  double live_median = 0, spoof_median = 0;       // median score of each class; NaN when the class is absent
};

// One row per distinct key, sorted by key; keys[i] belongs to s.scores[i]. Same decision rule as
// confusion() (metrics.h). Throws fas::Error ("metrics: ...") on size mismatch or bad labels.
std::vector<GroupErrors> group_errors(const std::vector<std::string>& keys, const Scores& s, double threshold,
                                      bool higher_is_live);

// The key of a path: the first capture group of `re` (the whole match if it has none), searched
// anywhere in the path; kNoGroup when it does not match.
inline const char* const kNoGroup = "(none)";
std::string group_key(const std::string& path, const std::regex& re);

// The NUAA subject of a path ("ClientFace/0004/0004_00_00_01_0.jpg" -> "0004").
inline const char* const kNuaaSubject = "/([0-9]{4})_";

// Subject folds: the group of a path (group_key with the regex) as a number
// modulo k (a non-numeric group: its FNV-1a hash), so every list is split by the same rule.
int subject_fold(const std::string& path, const std::string& group_regex, int k);

std::string groups_csv(const std::vector<GroupErrors>& g);    // key,live,spoof,bpcer,apcer,... one row each
std::string groups_table(const std::vector<GroupErrors>& g);  // aligned text for a terminal (rates in %)

}  // namespace fas::metrics
