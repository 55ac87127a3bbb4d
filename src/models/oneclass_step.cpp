// The one-class models' training steps (models/train_step.h; declared in models/oneclass.h).
#include <cmath>

#include "io/dataset.h"
#include "models/oneclass.h"
#include "models/train_step.h"

namespace fas {

namespace {

// Adam with the model's betas (the §4 tables); other optimizers as the trainer makes them.
std::unique_ptr<Optimizer> optimizer_for(const NamedTensors& params, const StepContext& c, const OneClassConfig& cfg) {
  if (c.optimizer != "adam") return make_optimizer(c.optimizer, params, c);
  AdamConfig a;
  a.lr = c.lr;
  a.beta1 = cfg.beta1;
  a.beta2 = cfg.beta2;
  a.weight_decay = c.weight_decay;
  a.decoupled = true;
  return std::make_unique<Adam>(params, a);
}

class VaeStep : public SingleOptimizerStep {
 public:
  VaeStep(Vae& m, const StepContext& c)
      : SingleOptimizerStep(optimizer_for(m.named_parameters(), c, m.cfg)), m_(m), noise_seed_(mix_seed(c.seed, 0x7AE)) {}

 protected:
  Tensor loss(const Batch& b, int64_t global_step, StepResult& r) override {
    // eps from (run seed, global step) only: a resumed run draws the same noise.
    VaeLoss l = vae_loss(m_.run(b.x, vae_noise(b.x.size(0), m_.latent, noise_seed_, global_step)), b.x, m_.cfg.w_rec,
                         m_.cfg.w_kl, m_.cfg.rec_sum);
    r.parts = {{"rec", l.rec.item()}, {"kl", l.kl.item()}};
    return l.total;
  }

 private:
  Vae& m_;
  uint64_t noise_seed_;
};

class GanomalyStep : public TrainStep {
 public:
  GanomalyStep(GANomaly& m, const StepContext& c)
      : m_(m),
        gen_(optimizer_for(m.gen->named_parameters(), c, m.cfg)),
        disc_(optimizer_for(m.disc->named_parameters(), c, m.cfg)),
        seed_(c.seed) {}
  StepResult step(const Batch& b, int64_t global_step) override {
    GanOutput o = m_.run(b.x);
    GanGenLoss g = ganomaly_gen_loss(m_, o, m_.cfg.w_rec, m_.cfg.w_enc, m_.cfg.w_adv);
    StepResult r{g.total.item(), {{"rec", g.rec.item()}, {"enc", g.enc.item()}, {"adv", g.adv.item()}}};
    if (!std::isfinite(r.loss)) return r;
    gen_->zero_grad();
    g.total.backward();
    gen_->step();
    disc_->zero_grad();  // drops what the generator's loss left on the discriminator
    Tensor d = ganomaly_disc_loss(m_, o);
    const float dv = d.item();
    r.parts.push_back({"disc", dv});
    if (!std::isfinite(dv)) {
      r.loss = dv;  // stop the run: the trainer reports the non-finite loss
      return r;
    }
    d.backward();
    disc_->step();
    double reinit = 0;
    if (dv < m_.cfg.d_collapse) {  // it has won outright and teaches the generator nothing
      // The original GANomaly re-applies its weight init to the discriminator (optimizer state
      // kept); the draw is a function of (seed, step), so a resumed run repeats it.
      Rng rng(mix_seed(seed_ ^ 0xD15C, (uint64_t)global_step));
      GANomaly::dcgan_init(*m_.disc, rng);
      reinit = 1;
    }
    r.parts.push_back({"d_reinit", reinit});
    return r;
  }
  void set_lr(float lr) override { gen_->set_lr(lr), disc_->set_lr(lr); }
  float lr() const override { return gen_->lr(); }
  TensorMap optimizer_state() const override { return prefixed_state({{"gen.", gen_.get()}, {"disc.", disc_.get()}}); }
  void load_optimizer_state(const TensorMap& s) override {
    load_prefixed_state(s, {{"gen.", gen_.get()}, {"disc.", disc_.get()}});
  }

 private:
  GANomaly& m_;
  std::unique_ptr<Optimizer> gen_, disc_;
  uint64_t seed_;
};

}  // namespace

std::unique_ptr<TrainStep> make_vae_step(Module& m, const StepContext& c) {
  return std::make_unique<VaeStep>(oneclass_as<Vae>(m, "vae"), c);
}

std::unique_ptr<TrainStep> make_ganomaly_step(Module& m, const StepContext& c) {
  return std::make_unique<GanomalyStep>(oneclass_as<GANomaly>(m, "ganomaly"), c);
}

}  // namespace fas
