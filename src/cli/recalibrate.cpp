// fas recalibrate: a checkpoint's batch-norm statistics recomputed on other images
// (layers/recalibrate.h), written as a new checkpoint; the weights are not touched.
#include <filesystem>
#include <string>

#include "cli/commands.h"
#include "cli/common.h"
#include "layers/recalibrate.h"

namespace fas::cli {

int run_recalibrate(const RecalibrateOptions& o) {
  setup_threads(o.common.threads);
  if (o.common.out.empty()) fail("recalibrate: --out FILE is required (the input checkpoint is never overwritten)");
  std::error_code ec;
  if (std::filesystem::equivalent(o.common.out, o.ckpt, ec))
    fail("recalibrate: --out '" + o.common.out + "' is the input checkpoint; write the recalibrated one elsewhere");
  LoadedModel m = load_model(o.ckpt);
  Dataset ds(limit_samples(read_samples(o.data), o.limit, o.common.seed), image_spec(m.config), o.skip_bad, o.data);
  LoaderOptions lo;
  lo.batch = (size_t)o.batch;
  BatchLoader loader(ds, lo);
  Progress bar("recalibrate", loader.num_items(), stdout_is_tty());
  size_t images = 0;
  const int64_t batches = recalibrate_batch_norm(*m.module, [&](Tensor& x) {
    Batch b;
    if (!loader.next(b)) return false;
    // A lone trailing image has no batch variance for layers on [N, C] (unbiased: 0/0).
    if (b.index.size() < 2 && images > 0) return false;
    x = b.x;
    images += b.index.size();
    bar.update(images);
    return true;
  });
  CheckpointInfo info = m.ckpt.info;
  info.extra["recalibrated_on"] = o.data;
  info.extra["recalibrated_images"] = std::to_string(images);
  save_checkpoint(o.common.out, info, *m.module, nullptr);
  std::string note;  // a stored decision threshold was chosen with the old statistics
  if (info.extra.count("threshold"))
    note = "\nnote: the stored decision threshold (" + info.extra.at("threshold") +
           ") was chosen with the old statistics; fas eval --val LIST or --threshold T sets another";
  bar.finish("recalibrated the batch-norm statistics of " + o.ckpt + " on " + std::to_string(images) + " images (" +
             std::to_string(batches) + " batches) of " + o.data + " -> " + o.common.out + note);
  return 0;
}

}  // namespace fas::cli
