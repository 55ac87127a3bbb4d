#include "models/greedy_ae.h"

#include <cmath>
#include <cstring>
#include <numeric>

#include "autograd/graph.h"
#include "autograd/ops.h"

namespace fas {

// ------------------------------------------------------------------------ TensorBatchSource

TensorBatchSource::TensorBatchSource(Tensor images, std::vector<int64_t> labels, int64_t batch, bool shuffle,
                                     uint64_t seed)
    : images_(std::move(images)), labels_(std::move(labels)), batch_(batch), shuffle_(shuffle), rng_(seed) {
  if (images_.dim() != 4) fail("TensorBatchSource: images must be [N, C, H, W], got " + shape_str(images_.shape()));
  if ((int64_t)labels_.size() != images_.size(0))
    fail("TensorBatchSource: " + std::to_string(labels_.size()) + " labels for " + std::to_string(images_.size(0)) +
         " images");
  if (batch_ <= 0) fail("TensorBatchSource: batch must be positive, got " + std::to_string(batch_));
  order_.resize(labels_.size());
  std::iota(order_.begin(), order_.end(), 0);
}

void TensorBatchSource::start_epoch(int) {
  pos_ = 0;
  if (!shuffle_) return;
  for (int64_t i = (int64_t)order_.size() - 1; i > 0; --i) std::swap(order_[i], order_[rng_.below(i + 1)]);
}

bool TensorBatchSource::next(Tensor& x, std::vector<int64_t>& labels) {
  const int64_t n = (int64_t)order_.size();
  if (pos_ >= n) return false;
  const int64_t b = std::min(batch_, n - pos_);
  Shape s = images_.shape();
  s[0] = b;
  const int64_t per = images_.numel() / n;
  x = Tensor::zeros(s);
  labels.resize(b);
  for (int64_t i = 0; i < b; ++i) {
    const int64_t j = order_[pos_ + i];
    std::memcpy(x.data() + i * per, images_.data() + j * per, sizeof(float) * per);
    labels[i] = labels_[j];
  }
  pos_ += b;
  return true;
}

int64_t TensorBatchSource::batches_per_epoch() const { return ((int64_t)order_.size() + batch_ - 1) / batch_; }

// ------------------------------------------------------------------------------ procedure

Tensor layerwise_input(const std::array<std::shared_ptr<LayerAE>, 4>& aes, int k, const Tensor& x) {
  NoGradGuard ng;
  Tensor h = x;
  for (int i = 0; i + 1 < k; ++i) h = aes[i]->encode(h);
  return h;
}

namespace {

// One pass over src. step(x, labels) returns the batch loss (and, when training, updates).
// Returns the mean loss weighted by batch size.
template <class Step>
float run_epoch(BatchSource& src, int epoch, const std::string& stage, int epochs, const GreedyHooks* hooks,
                Step step) {
  src.start_epoch(epoch);
  Tensor x;
  std::vector<int64_t> y;
  double total = 0;
  int64_t count = 0, b = 0;
  const int64_t batches = src.batches_per_epoch();
  while (src.next(x, y)) {
    const float loss = step(x, y);
    if (!std::isfinite(loss))
      fail("train_greedy: " + stage + " loss is " + std::to_string(loss) + " at epoch " + std::to_string(epoch + 1) +
           ", batch " + std::to_string(b + 1));
    total += (double)loss * x.size(0);
    count += x.size(0);
    ++b;
    if (hooks && hooks->on_batch) hooks->on_batch({stage, epoch, epochs, b, batches, float(total / count)});
  }
  if (count == 0) fail("train_greedy: " + stage + ": the data source gave no batches");
  return float(total / count);
}

void finish_epoch(GreedyResult& r, const GreedyHooks& hooks, EpochRecord rec) {
  r.history.push_back(rec);
  if (hooks.on_epoch) hooks.on_epoch(rec);
}

void train_ae_stage(GreedyResult& r, int k, const StackedAEConfig& mc, const GreedyConfig& cfg, BatchSource& train,
                    BatchSource* val, const GreedyHooks& hooks) {
  auto ae = std::make_shared<LayerAE>(k, mc);
  r.aes[k - 1] = ae;
  const std::string stage = "ae" + std::to_string(k);
  if (hooks.load_stage && hooks.load_stage(stage, *ae)) return;
  for (int i = 0; i + 1 < k; ++i) {  // the encoders below stay fixed (§2)
    r.aes[i]->freeze();
    r.aes[i]->eval();
  }
  Adam opt(ae->named_parameters(), cfg.ae_adam);
  for (int e = 0; e < cfg.ae_epochs; ++e) {
    ae->train();
    EpochRecord rec{stage, e, 0.f};
    rec.train_loss = run_epoch(train, e, stage, cfg.ae_epochs, &hooks, [&](const Tensor& x, const std::vector<int64_t>&) {
      Tensor in = layerwise_input(r.aes, k, x);
      Tensor loss = mse_loss((*ae)(in), in);
      opt.zero_grad();
      loss.backward();
      opt.step();
      return loss.item();
    });
    if (val) {
      ae->eval();
      NoGradGuard ng;
      rec.val_loss = run_epoch(*val, e, stage, cfg.ae_epochs, nullptr, [&](const Tensor& x, const std::vector<int64_t>&) {
        Tensor in = layerwise_input(r.aes, k, x);
        return mse_loss((*ae)(in), in).item();
      });
    }
    finish_epoch(r, hooks, rec);
  }
  ae->eval();
  if (hooks.save_stage) hooks.save_stage(stage, *ae, opt, cfg.ae_epochs);
}

float accuracy(const Tensor& logits, const std::vector<int64_t>& y) {
  int64_t ok = 0;
  const float* p = logits.data();
  for (size_t i = 0; i < y.size(); ++i) ok += (p[2 * i + 1] > p[2 * i] ? 1 : 0) == y[i];
  return float(ok) / float(y.size());
}

}  // namespace

GreedyResult train_greedy(const StackedAEConfig& mc, const GreedyConfig& cfg, BatchSource& train, BatchSource* val,
                          const GreedyHooks& hooks) {
  GreedyResult r;
  if (cfg.pretrain)
    for (int k = 1; k <= 4; ++k) train_ae_stage(r, k, mc, cfg, train, val, hooks);

  r.cnn = std::make_shared<CNN8>(mc);
  CNN8& cnn = *r.cnn;
  if (cfg.pretrain) transfer_encoders(r.aes, cnn);
  if (hooks.load_stage && hooks.load_stage("cnn8", cnn)) return r;
  cnn.freeze(false);
  Adam opt(cnn.named_parameters(), cfg.finetune_adam);
  for (int e = 0; e < cfg.finetune_epochs; ++e) {
    cnn.train();
    EpochRecord rec{"cnn8", e, 0.f};
    rec.train_loss = run_epoch(train, e, "cnn8", cfg.finetune_epochs, &hooks,
                               [&](const Tensor& x, const std::vector<int64_t>& y) {
                                 Tensor loss = cross_entropy(cnn.logits(x), y);
                                 opt.zero_grad();
                                 loss.backward();
                                 opt.step();
                                 return loss.item();
                               });
    if (val) {
      cnn.eval();
      NoGradGuard ng;
      double acc = 0;
      int64_t n = 0;
      rec.val_loss = run_epoch(*val, e, "cnn8", cfg.finetune_epochs, nullptr,
                               [&](const Tensor& x, const std::vector<int64_t>& y) {
                                 Tensor z = cnn.logits(x);
                                 acc += accuracy(z, y) * y.size();
                                 n += y.size();
                                 return cross_entropy(z, y).item();
                               });
      rec.val_acc = float(acc / n);
    }
    finish_epoch(r, hooks, rec);
  }
  cnn.eval();
  if (hooks.save_stage) hooks.save_stage("cnn8", cnn, opt, cfg.finetune_epochs);
  return r;
}

}  // namespace fas
