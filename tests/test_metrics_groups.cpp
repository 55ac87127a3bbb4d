// Errors per group (metrics/groups.h): hand-computed counts, medians and rates, the decision rule
// shared with confusion(), keys from paths, and bad input.
#include <cmath>
#include <regex>

#include "metrics/groups.h"
#include "testutil.h"

using namespace fas;
using namespace fas::metrics;

TEST(MetricsGroups, CountsMediansAndRatesByHand) {
  // Group "a": live {0.9, 0.2, 0.6}, spoof {0.1, 0.7}; group "b": live {0.8}, spoof {0.4, 0.5, 0.3, 0.55}.
  const std::vector<std::string> k = {"b", "a", "a", "b", "a", "b", "a", "b", "a", "b"};
  const Scores s{{0.8f, 0.9f, 0.2f, 0.4f, 0.1f, 0.5f, 0.6f, 0.3f, 0.7f, 0.55f}, {1, 1, 1, 0, 0, 0, 1, 0, 0, 0}};
  const auto g = group_errors(k, s, 0.5, true);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].key, "a");  // sorted by key
  EXPECT_EQ(g[0].live, 3);
  EXPECT_EQ(g[0].spoof, 2);
  EXPECT_EQ(g[0].live_rejected, 1);   // 0.2 < 0.5
  EXPECT_EQ(g[0].spoof_accepted, 1);  // 0.7 >= 0.5
  EXPECT_FLOAT_EQ(g[0].live_median, 0.6f);
  EXPECT_FLOAT_EQ((float)g[0].spoof_median, (0.1f + 0.7f) / 2);  // even count: mean of the middle two
  EXPECT_EQ(g[1].key, "b");
  EXPECT_EQ(g[1].live_rejected, 0);
  EXPECT_EQ(g[1].spoof_accepted, 2);  // 0.5 (the threshold itself accepts) and 0.55
  EXPECT_FLOAT_EQ((float)g[1].spoof_median, (0.4f + 0.5f) / 2);
  // The groups add up to the whole list's confusion at the same threshold.
  const Confusion c = confusion(s.scores, s.labels, 0.5, true);
  EXPECT_EQ(g[0].live_rejected + g[1].live_rejected, c.fn());
  EXPECT_EQ(g[0].spoof_accepted + g[1].spoof_accepted, c.fp());
  // Anomaly scores (higher = spoof): live <=> score <= threshold.
  const auto ga = group_errors(k, s, 0.5, false);
  EXPECT_EQ(ga[0].live_rejected, 2);   // 0.9, 0.6 > 0.5
  EXPECT_EQ(ga[1].spoof_accepted, 3);  // 0.4, 0.5, 0.3 <= 0.5
  // CSV: one row per group, rates as fractions; a class a group lacks has empty rate and median.
  const auto one = group_errors({"x", "y"}, Scores{{0.9f, 0.1f}, {1, 0}}, 0.5, true);
  const std::string csv = groups_csv(one);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "group,live,spoof,live_rejected,spoof_accepted,bpcer,apcer,live_median_score,spoof_median_score");
  EXPECT_NE(csv.find("\nx,1,0,0,0,0,,0.9,\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\ny,0,1,0,0,,0,,0.1\n"), std::string::npos) << csv;
  const std::string tab = groups_table(g);
  EXPECT_NE(tab.find("BPCER"), std::string::npos) << tab;
  EXPECT_NE(tab.find("33.33 %"), std::string::npos) << tab;  // group a: 1 of 3 live rejected
  // A key longer than any line buffer is printed whole, and its row still carries the counts.
  const std::string long_key(300, 'k');
  const std::string t2 = groups_table(group_errors({long_key}, Scores{{0.9f}, {1}}, 0.5, true));
  EXPECT_NE(t2.find(long_key + "       1       0"), std::string::npos) << t2;
}

TEST(MetricsGroups, KeysFromPaths) {
  const std::regex subject("/([0-9]{4})_"), session("_([0-9]{2})_[0-9]+\\."), whole("Client|Imposter");
  const std::string p = "faces/ClientFace/0004/0004_01_06_03_17.jpg";
  EXPECT_EQ(group_key(p, subject), "0004");
  EXPECT_EQ(group_key(p, session), "03");
  EXPECT_EQ(group_key(p, whole), "Client");  // no capture group: the whole match
  EXPECT_EQ(group_key("elsewhere.png", subject), kNoGroup);
}

TEST(MetricsGroups, BadInputIsAClearError) {
  for (auto f : {+[] { group_errors({"a"}, Scores{{0.1f, 0.2f}, {0, 1}}, 0.5, true); },
                 +[] { group_errors({"a", "b"}, Scores{{0.1f, 0.2f}, {0, 2}}, 0.5, true); },
                 +[] { group_errors({"a", "b"}, Scores{{0.1f, NAN}, {0, 1}}, 0.5, true); }}) {
    try {
      f();
      ADD_FAILURE() << "no throw";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("metrics: ", 0), 0u) << e.what();
    }
  }
}
