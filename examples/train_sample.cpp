// Defines a small CNN with the fas library, trains it on a face list (the bundled NUAA sample)
// with Adam and saves it as a fas checkpoint.  Usage: train_sample TRAIN_LIST OUT.safetensors
#include <cstdio>
#include <fas/fas.h>

using namespace fas;

struct Net : Module {
  explicit Net(Rng& rng) {
    Conv2dOptions c;  // 3x3, Keras "same" padding
    conv1 = register_module("conv1", std::make_shared<Conv2d>(3, 8, c, rng));
    conv2 = register_module("conv2", std::make_shared<Conv2d>(8, 16, c, rng));
    fc = register_module("fc", std::make_shared<Linear>(16, 1, rng));
  }
  Tensor forward(const Tensor& x) override {  // [N, 3, 32, 32] -> live logits [N]
    Pool2dArgs pool;  // 2x2, stride 2
    Tensor h = max_pool2d(relu((*conv1)(x)), pool);
    h = global_avg_pool2d(relu((*conv2)(h)));
    return reshape((*fc)(h), {x.size(0)});
  }
  std::string type_name() const override { return "Net"; }
  std::shared_ptr<Conv2d> conv1, conv2;
  std::shared_ptr<Linear> fc;
};

int main(int argc, char** argv) try {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s TRAIN_LIST OUT.safetensors\n", argv[0]);
    return 2;
  }
  ImageSpec spec;
  spec.height = spec.width = 32;
  Dataset train(read_samples(argv[1]), spec, /*skip_bad=*/false, argv[1]);
  Rng rng(1);
  Net net(rng);
  Adam opt(net.named_parameters(), AdamConfig{3e-3f});
  int64_t step = 0;
  for (int epoch = 1; epoch <= 5; ++epoch) {
    LoaderOptions lo;
    lo.batch = 32;
    lo.shuffle = true;
    lo.epoch = epoch;
    BatchLoader loader(train, lo);
    double loss_sum = 0;
    size_t seen = 0;
    for (Batch b; loader.next(b); ++step) {
      opt.zero_grad();
      Tensor loss = bce_with_logits(net(b.x), b.y);
      loss.backward();
      opt.step();
      loss_sum += loss.item() * (double)b.index.size();
      seen += b.index.size();
    }
    std::printf("epoch %d  loss %.4f\n", epoch, loss_sum / (double)seen);
  }
  save_checkpoint(argv[2], {"example-net", "{}", 5, step, {}}, net, &opt);
  std::printf("saved %s\n", argv[2]);
  return 0;
} catch (const Error& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
