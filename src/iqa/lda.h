// Two-class linear discriminant analysis with Ledoit-Wolf shrinkage, equal to scikit-learn's
// LinearDiscriminantAnalysis(solver='eigen', shrinkage='auto') (spec 002 §2.6, §8 J):
// per class, the features are standardised, their covariance shrunk by the Ledoit-Wolf
// estimate and scaled back; Sw = sum_k prior_k C_k with empirical priors; coef = (mu_1 - mu_0)
// Sw^-1 and intercept = -(mu_1 Sw^-1 mu_1 - mu_0 Sw^-1 mu_0) / 2 + ln(prior_1 / prior_0).
// (The eigen solver's eigenvectors V of (Sb, Sw) satisfy V V^T = Sw^-1, so its
// coef_ = means V V^T is this closed form.) P(class 1) = sigmoid(coef . x + intercept).
#pragma once
#include <vector>

namespace fas::iqa {

struct LdaModel {
  std::vector<double> coef;
  double intercept = 0;
  double decision(const double* x) const;
  double probability(const double* x) const;
};

// X: n rows of p features (row-major), y: 0/1 labels; both classes must be present.
LdaModel fit_shrinkage_lda(const std::vector<double>& X, const std::vector<int>& y, int p);
// The Ledoit-Wolf shrinkage coefficient of n rows x p (sklearn ledoit_wolf_shrinkage, centred
// internally) and the shrunk covariance.
double ledoit_wolf_shrinkage(const std::vector<double>& X, int n, int p);

}  // namespace fas::iqa
