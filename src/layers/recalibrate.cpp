#include "layers/recalibrate.h"

#include <vector>

#include "autograd/graph.h"
#include "layers/layers.h"

namespace fas {

namespace {
void collect(Module& m, std::vector<BatchNorm*>& out) {
  if (auto* bn = dynamic_cast<BatchNorm*>(&m)) out.push_back(bn);
  for (auto& [name, child] : m.named_children()) collect(*child, out);
}
}  // namespace

int64_t recalibrate_batch_norm(Module& model, const std::function<bool(Tensor& x)>& next) {
  std::vector<BatchNorm*> bns;
  collect(model, bns);
  if (bns.empty()) fail("recalibrate: the model has no batch norm layer");
  std::vector<BatchNormArgs> saved;
  for (BatchNorm* bn : bns) saved.push_back(bn->args);
  model.eval();
  // Batch k (1-based) enters with weight 1/k in PyTorch's convention: the running value is then
  // the mean of the k batch statistics so far. The previous statistics drop out at k = 1.
  for (BatchNorm* bn : bns) {
    bn->train(true);
    bn->args.convention = MomentumConvention::Torch;
  }
  int64_t k = 0;
  Tensor x;
  try {
    NoGradGuard ng;
    while (next(x)) {
      ++k;
      for (BatchNorm* bn : bns) bn->args.momentum = 1.f / (float)k;
      model(x);
    }
  } catch (...) {
    for (size_t i = 0; i < bns.size(); ++i) bns[i]->args = saved[i];
    model.eval();
    throw;
  }
  for (size_t i = 0; i < bns.size(); ++i) bns[i]->args = saved[i];
  model.eval();
  if (k == 0) fail("recalibrate: no batch to compute the statistics from");
  return k;
}

}  // namespace fas
