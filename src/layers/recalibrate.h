// Batch-norm recalibration: recompute every BatchNorm's running statistics from data, as
// torch.optim.swa_utils.update_bn does -- the statistics are reset and replaced by the plain
// average of the batch statistics over all the batches given (each batch weighted equally).
// Uses: after weight averaging, whose averaged statistics do not belong to the averaged
// weights; and unsupervised adaptation to a new camera or session (AdaBN, Li et al. 2016),
// where the stored statistics describe the training images, not the new ones. Labels are not
// used. Only the BatchNorm layers run in training mode (they normalise with the batch
// statistics, as in training); everything else, e.g. dropout, stays in eval mode.
#pragma once
#include <functional>

#include "layers/module.h"

namespace fas {

// next(x) fills x with the next batch [N, ...] and returns false when there is none. Returns the
// number of batches used; fails (fas::Error) when the model has no BatchNorm or no batch came.
// The model is left in eval mode.
int64_t recalibrate_batch_norm(Module& model, const std::function<bool(Tensor& x)>& next);

}  // namespace fas
