// A learned fusion of liveness tests (issue #20 "Fusion"): any number of P(live) checkpoints
// (the members: face tests on the face crop, whole-frame tests such as wiqa-lda on the frame),
// combined by a shrinkage LDA (iqa/lda.h) over their live log-odds, fitted on out-of-fold scores:
// each member retrained k times, each time without one fold of subjects, scores the images of
// the subjects it did not see (`fas fuse`). The fusion is one checkpoint (safetensors, fas_model
// "fusion") naming its member checkpoints, read by `fas eval --ckpt`, `fas predict --ckpt` and
// `fas serve --fusion`. Adding a test is adding a --ckpt (and its --train list) to `fas fuse`.
#pragma once
#include <string>
#include <vector>

#include "cli/common.h"
#include "detect/face_crop.h"
#include "iqa/lda.h"

namespace fas::cli {

inline const char* kFusionModel = "fusion";

struct Fusion {
  std::vector<std::string> member_paths;  // resolved (the file stores them relative to itself)
  std::vector<LoadedModel> members;
  iqa::LdaModel lda;                      // on the members' live log-odds, in member order
  std::string name;                       // "fusion (lda) of A + B"
};

// The checkpoint's fas_model is "fusion" (other files, even unreadable ones: false).
bool is_fusion_checkpoint(const std::string& path);
Fusion load_fusion_checkpoint(const std::string& path);
// Member paths are stored relative to the fusion file's directory.
void save_fusion_checkpoint(const std::string& path, const std::vector<std::string>& member_paths,
                            const std::vector<std::string>& member_models, const iqa::LdaModel& lda,
                            const Json& extra);

// One image through the members, the way fas serve sees it: img [3, H, W], its face crop by
// find_face, each member's live log-odds of its input. False (z untouched) when no face.
bool member_log_odds(const std::vector<LoadedModel>& members, const Tensor& img, const Detector& det,
                     std::vector<double>* z, FaceCrop* face = nullptr);

// The face detector when this fas has one (dlib), else null (images are then scored whole).
Detector default_detector();

}  // namespace fas::cli
