// An operating threshold from unlabelled scores: a two-component 1-D Gaussian mixture fitted by
// EM, cut where the two components' weighted densities are equal, between their means.
//
// What it is for: a model moved to a new capture session (camera, light) keeps its ranking but
// not its calibration -- on NUAA the fixed 0.5 threshold of models trained on the training
// sessions misplaces the test session's cut by several logits (docs/experiments/EXP-013).
// Fitting the cut to the new session's own unlabelled score distribution is
// transductive adaptation: it uses the evaluated images (never their labels), assumes both
// classes are present in bulk, and its figures belong apart from train-only ones.
#pragma once
#include <vector>

namespace fas::metrics {

struct Mixture {
  double weight[2] = {0, 0}, mean[2] = {0, 0}, stddev[2] = {0, 0};  // component 0 has the lower mean
  double threshold = 0;  // in (mean[0], mean[1]): weight0 N0(t) = weight1 N1(t)
  int iterations = 0;
};

// Fits x (at least 4 finite values, not all equal; else a fas::Error "metrics: ..."). EM starts
// from a split at the median and stops when the mean log-likelihood gains less than 1e-12 (at
// most 1000 iterations); standard deviations are floored at 1e-3 of the data's.
Mixture fit_two_gaussians(const std::vector<double>& x);

}  // namespace fas::metrics
