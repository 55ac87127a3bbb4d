// A deployment engine: a trained model compiled for inference (folded weights, a static memory
// plan), as `fas eval|predict|bench --engine NAME` run it. One instance is used from one thread
// (its buffers are its own); `fas bench --threads T` runs T instances on parts of a batch, and
// at batch 1 gives its one instance all T threads (set_threads).
#pragma once
#include <cstddef>
#include <cstdint>

namespace fas {

class DeployEngine {
 public:
  virtual ~DeployEngine() = default;
  // x: n images [n, C, H, W] (NCHW, as training inputs); out: n scores in the orientation of the
  // model's `score` (P(live)). No allocation.
  virtual void predict(const float* x, int64_t n, float* out) = 0;
  // Lets one image use up to `threads` threads (OpenMP, inside predict); returns how many it
  // will use. Default: 1, the engine has no threads inside. Not during predict.
  virtual int set_threads(int threads) {
    (void)threads;
    return 1;
  }
  virtual size_t weight_bytes() const = 0;      // every weight array the instance holds
  virtual size_t activation_bytes() const = 0;  // its planned activation buffers
};

}  // namespace fas
