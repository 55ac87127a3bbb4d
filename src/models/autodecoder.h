// Latent auto-decoder (spec 004, the "hybrid face generator"): a learned code per training image
// (an Embedding row, indexed by the image's position in the training list) feeds a stack of
// eight transposed convolutions that paints a 256x256 RGB image. There is no encoder: a new
// image gets its code by projection (optimising the code with the decoder frozen).
//
// Architecture (spec 004 §1.1, Keras "valid" transposed convolutions, out = (in - 1) s + k):
//   Embedding(N, z) -> reshape [z, 1, 1]
//   -> ConvT 64 k3 s1 (3x3) -> 64 k3 s1 (5x5) -> 32 k3 s1 (7x7) -> 32 k3 s2 (15x15)
//   -> 16 k3 s2 (31x31) -> 16 k3 s2 (63x63) -> 8 k3 s2 (127x127), each + ReLU
//   -> 3 k4 s2 (256x256) + sigmoid.
// Parameters: 92,595 for z = 25, N = 200; 180,795 for z = 100, N = 500 (tests/test_autodecoder).
// Initialisers are Keras 2.3's defaults (spec §1.1): codes U(-0.05, 0.05), kernels Glorot
// uniform, zero biases.
#pragma once
#include <memory>
#include <vector>

#include "layers/conv.h"
#include "layers/layers.h"
#include "layers/module.h"

namespace fas {

class AutoDecoder : public Module {
 public:
  AutoDecoder(int64_t images, int64_t latent, Rng& rng);
  // ids [N, 1] (integral floats, a Keras Embedding's input) -> images [N, 3, 256, 256].
  Tensor forward(const Tensor& ids) override;
  std::string type_name() const override { return "AutoDecoder"; }
  // codes [N, z] -> images [N, 3, 256, 256].
  Tensor decode(const Tensor& codes);
  int64_t images() const { return codes->weight.size(0); }
  int64_t latent() const { return codes->weight.size(1); }

  std::shared_ptr<Embedding> codes;
  std::shared_ptr<Sequential> decoder;
};

// The group (training label) of each code, as the training step records it in the checkpoint's
// metadata "groups" (a JSON array, -1 for a code never trained). Not a buffer: the spec's
// parameter counts have no room for it.
inline const char* kGroupsKey = "groups";

// Per-dimension mean and standard deviation (ddof 0, as the spec's np.std) of the codes whose
// group is `group` (group < 0: every trained code; groups empty: every code). Error when there
// is no such code.
struct LatentStats {
  std::vector<float> mean, sd;
  int64_t count = 0;
};
LatentStats latent_stats(const AutoDecoder& m, const std::vector<int>& groups = {}, int group = -1);

// The slider convention of spec 004 §4: a code in standard deviations about the mean,
// z = mean + s * sd, and back, s = (z - mean) / sd (sd 0: s = 0).
std::vector<float> code_from_sd(const LatentStats& st, const std::vector<float>& s);
std::vector<float> code_to_sd(const LatentStats& st, const std::vector<float>& z);

// Projection: for each image of x [N, 3, 256, 256] (in [0, 1]) finds the code whose decoding is
// closest in MSE, by Adam on the codes alone (decoder frozen), starting from `start` [z].
struct Projection {
  Tensor codes;              // [N, z]
  std::vector<float> mse;    // per image, of the final codes
  std::vector<float> curve;  // mean MSE over the images after each step (for plots and tests)
};
struct ProjectOptions {
  int steps = 300;
  float lr = 0.05f;
};
Projection project_codes(AutoDecoder& m, const Tensor& x, const std::vector<float>& start, const ProjectOptions& o);

}  // namespace fas
