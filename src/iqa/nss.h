// Natural-scene-statistics features of NIQE (Mittal, Soundararajan & Bovik 2013) and of our BIQI
// (Moorthy & Bovik 2010 features, quality stage replaced: see nss.cpp), and the pristine models.
#pragma once
#include <array>
#include <vector>

#include "iqa/plane.h"

namespace fas::iqa {

constexpr int kNiqeFeatures = 36, kBiqiFeatures = 18;
using NiqeBlock = std::array<double, kNiqeFeatures>;
using BiqiVector = std::array<double, kBiqiFeatures>;

// One 36-feature row per block of block x block pixels (scale 1; block/2 at scale 2), over the
// largest whole number of blocks from the top-left corner. Needs at least one block.
std::vector<NiqeBlock> niqe_block_features(const Plane& img, int block = 96);
BiqiVector biqi_features(const Plane& img);

// A multivariate Gaussian, mean [d] and covariance [d x d] row-major.
struct Mvg {
  std::vector<double> mean, cov;
};
Mvg fit_mvg(const std::vector<std::vector<double>>& rows);  // sample covariance (ddof 1)
// NIQE's distance sqrt((mu_p - mu)^T pinv((S_p + S) / 2) (mu_p - mu)).
double niqe_distance(const Mvg& pristine, const Mvg& image);
// The committed pristine models (pristine_model.cpp, written by tools/fit_iqa_pristine.py).
const Mvg& niqe_pristine();
const Mvg& biqi_pristine();
// What NIQE and BIQI read of one image: its NIQE blocks and its BIQI vector.
struct NssInputs {
  std::vector<NiqeBlock> blocks;
  BiqiVector biqi{};
};
// NIQE and BIQI of an image's features against a given pristine model (iqa.h niqe() and biqi()
// use the committed ones; wiqa-lda's cross-fit uses models fitted without the image's subject).
double niqe_score(const Mvg& pristine, const std::vector<NiqeBlock>& blocks);
double biqi_score(const Mvg& pristine, const BiqiVector& f);

// Shape fits on a table gamma = 0.2, 0.201, ..., 10 (nearest entry; ties to the smaller gamma).
double ggd_shape(const double* x, size_t n, double* sigma_sq);  // estimateggdparam
// estimateaggdparam: alpha, beta_left, beta_right.
void aggd_fit(const double* x, size_t n, double* alpha, double* bl, double* br);

}  // namespace fas::iqa
