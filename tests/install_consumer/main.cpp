// Trains y = 2x with one linear layer through the installed library; exits 0 when it learned.
#include <cmath>
#include <cstdio>

#include "autograd/ops.h"
#include "layers/layers.h"
#include "optim/optim.h"

int main() {
  fas::Rng rng(1);
  fas::Linear lin(1, 1, rng);
  fas::Adam opt(lin.named_parameters(), fas::AdamConfig{0.1f});
  fas::Tensor x = fas::Tensor::from({4, 1}, {1, 2, 3, 4}), y = fas::Tensor::from({4, 1}, {2, 4, 6, 8});
  float loss = 0;
  for (int i = 0; i < 300; ++i) {
    opt.zero_grad();
    fas::Tensor l = fas::mse_loss(lin(x), y);
    l.backward();
    opt.step();
    loss = l.item();
  }
  std::printf("final loss %g\n", loss);
  return loss < 1e-3f ? 0 : 1;
}
