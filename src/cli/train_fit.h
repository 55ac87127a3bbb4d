// `fas train` for models fitted in closed form (ModelInfo::fit, e.g. wiqa-lda): one fit on the
// training set instead of the epoch loop, then the usual checkpoints, history and threshold.
#pragma once
#include "cli/commands.h"
#include "cli/common.h"

namespace fas::cli {

int run_train_fit(const TrainOptions& o, const std::string& name, const Json& cfg, LoadedModel& m, Dataset& train,
                  Dataset* val);

}  // namespace fas::cli
