// Spec 000 §2: greedy layer-wise pre-training of four convolutional AEs, transfer of their eight
// encoder convs into CNN8, a new dense layer, and end-to-end fine-tuning. The procedure is a
// library function; data arrive through BatchSource and everything the caller shows or saves
// (progress bars, curves, per-stage checkpoints) goes through GreedyHooks.
//
// Choices (the spec gives none of these): AE loss MSE (the thesis glossary's loss), classifier
// loss softmax cross-entropy, Adam (PyTorch form); AE k trains on codes of the frozen encoders
// 1..k-1 computed on the fly (no stored codes) from the same training batches the classifier sees;
// fine-tuning trains every layer (the spec's "retrain the CNN").
#pragma once
#include <array>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/stacked_ae.h"
#include "optim/optim.h"
#include "tensor/random.h"

namespace fas {

// Mini-batches of images [B, C, H, W] (values in [0, 1]) with labels (1 = live, 0 = spoof).
class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual void start_epoch(int epoch) = 0;  // rewind; reshuffle if the source shuffles
  virtual bool next(Tensor& x, std::vector<int64_t>& labels) = 0;  // false when the epoch is over
  virtual int64_t batches_per_epoch() const = 0;
};

// An in-memory dataset: images [N, C, H, W] and N labels, batches in a seeded shuffled order
// (or in order when shuffle is false). The last batch may be smaller.
class TensorBatchSource : public BatchSource {
 public:
  TensorBatchSource(Tensor images, std::vector<int64_t> labels, int64_t batch, bool shuffle, uint64_t seed);
  void start_epoch(int epoch) override;
  bool next(Tensor& x, std::vector<int64_t>& labels) override;
  int64_t batches_per_epoch() const override;

 private:
  Tensor images_;
  std::vector<int64_t> labels_, order_;
  int64_t batch_, pos_ = 0;
  bool shuffle_;
  Rng rng_;
};

struct GreedyConfig {
  bool pretrain = true;  // false: random init, fine-tune only (experiments E1-E3)
  int ae_epochs = 10;    // per layer-wise AE
  int finetune_epochs = 20;
  AdamConfig ae_adam{1e-3f};
  AdamConfig finetune_adam{1e-4f};
};

// Stage names: "ae1".."ae4", "cnn8".
struct GreedyProgress {
  std::string stage;
  int epoch, epochs;
  int64_t batch, batches;  // batch is 1-based
  float running_loss;      // mean loss of the epoch so far
};
struct EpochRecord {
  std::string stage;
  int epoch;
  float train_loss;
  float val_loss = NAN, val_acc = NAN;  // NaN without validation data (val_acc: cnn8 only)
};
struct GreedyHooks {
  std::function<void(const GreedyProgress&)> on_batch;  // progress bar
  std::function<void(const EpochRecord&)> on_epoch;     // curves, logs
  // Resume: fill the stage's model from a checkpoint and return true to skip training it.
  std::function<bool(const std::string& stage, Module& model)> load_stage;
  // Checkpoint: called once a stage is trained (not when it was loaded).
  std::function<void(const std::string& stage, Module& model, const Optimizer& opt, int epochs)> save_stage;
};

struct GreedyResult {
  std::array<std::shared_ptr<LayerAE>, 4> aes;  // empty when !pretrain
  std::shared_ptr<CNN8> cnn;
  std::vector<EpochRecord> history;
};

GreedyResult train_greedy(const StackedAEConfig& model_cfg, const GreedyConfig& cfg, BatchSource& train,
                          BatchSource* val = nullptr, const GreedyHooks& hooks = {});

// The input of AE k (1-based) for images x: x itself, or the code of the encoders 1..k-1
// (no gradient). Used by training and by the reconstruction grids.
Tensor layerwise_input(const std::array<std::shared_ptr<LayerAE>, 4>& aes, int k, const Tensor& x);

}  // namespace fas
