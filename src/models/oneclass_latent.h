// Latent-space analysis of spec 001 (§3.4): PCA and Gaussian mixtures fitted by EM on the
// training latents, the mixture's log-likelihood as a score. Row-major double matrices X [n, d].
// Both follow scikit-learn 1.2 (PCA; GaussianMixture with init_params="k-means++") step for step,
// so the same data and the same initial centres give the same fit (tests/test_oneclass_latent.cpp
// against tools/golden_oneclass_latent.py).
#pragma once
#include <cstdint>
#include <vector>

namespace fas {

struct Pca {
  int64_t d = 0, k = 0;
  std::vector<double> mean;        // [d]
  std::vector<double> components;  // [k, d], unit rows, by decreasing variance
  std::vector<double> variance;    // [k], explained variance (divided by n - 1, as sklearn)
  // Sign of each component: its entry of largest magnitude is positive (sklearn's SVD sign is an
  // implementation detail; one fixed rule makes the projection reproducible).
  std::vector<double> transform(const std::vector<double>& X) const;  // [n, k]
};
// k <= min(n, d); n >= 2. Eigen-decomposition of the covariance by cyclic Jacobi.
Pca fit_pca(const std::vector<double>& X, int64_t n, int64_t d, int64_t k);

struct GmmOptions {
  int64_t components = 1;
  bool diagonal = false;     // false: full covariance matrices
  double reg_covar = 1e-6;   // added to every variance (sklearn default)
  double tol = 1e-3;         // stop when the mean log-likelihood changes by less
  int max_iter = 100;
  uint64_t seed = 0;         // k-means++ centres
};

struct Gmm {
  int64_t k = 0, d = 0;
  bool diagonal = false;
  std::vector<double> weights;      // [k]
  std::vector<double> means;        // [k, d]
  std::vector<double> covariances;  // [k, d, d] (full) or [k, d] (diagonal)
  int iterations = 0;
  bool converged = false;
  double lower_bound = 0;  // mean log-likelihood of the training data at the last E-step
  // Per-sample log-likelihood log p(x) (sklearn score_samples), [n].
  std::vector<double> score_samples(const std::vector<double>& X) const;
};

// k-means++ centres (sklearn's greedy variant: 2 + log k candidates per step), as row indices of X.
std::vector<int64_t> kmeans_plusplus(const std::vector<double>& X, int64_t n, int64_t d, int64_t k, uint64_t seed);
// EM from the given initial centre rows (sklearn: responsibilities one-hot at those rows, then an
// M-step), or from kmeans_plusplus(seed) when `init` is empty. Errors: k > n, bad sizes, a
// covariance that is not positive definite (raise reg_covar).
Gmm fit_gmm(const std::vector<double>& X, int64_t n, int64_t d, const GmmOptions& o,
            const std::vector<int64_t>& init = {});

}  // namespace fas
