// fas predict: one JSON line per image, from one checkpoint or the fusion of several.
#include <cmath>
#include <cstdio>

#include "autograd/graph.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/fusion.h"
#include "detect/face_crop.h"
#include "io/image.h"
#ifdef FAS_HAVE_DLIB
#include "detect/face_detector.h"
#endif

namespace fas::cli {

namespace {

// One image as the models see it. With --detect: the decoded RGB frame and its face crop
// (detect/face_crop.h, the path fas serve takes), each model getting its spec's input of the crop
// (or of the whole frame for whole-frame models); without, the file itself.
struct PredictImage {
  std::string path;
  bool detect = false;
  Tensor img;     // [3, H, W], --detect only
  FaceCrop face;  // --detect only
};

// The model's input batch [1, C, H, W], normalised; without --detect a shape mismatch is an
// error naming both shapes unless resize.
Tensor model_input(const PredictImage& im, const LoadedModel& m, bool resize_ok) {
  const ImageSpec spec = image_spec(m.config);
  if (im.detect) return face_test_input(im.img, im.face, spec, m.info->whole_frame);
  const std::string& path = im.path;
  Tensor img = load_image(path, resize_ok ? spec.channels : 0);
  if (!resize_ok && (img.size(0) != spec.channels || img.size(1) != spec.height || img.size(2) != spec.width))
    fail("image '" + path + "' is " + shape_str(img.shape()) + " but model '" + m.info->name + "' expects " +
         shape_str({spec.channels, spec.height, spec.width}) + " [C, H, W]; pass --resize to convert it");
  img = resize(img, spec.height, spec.width, spec.resize);
  Tensor x = img.reshape({1, spec.channels, spec.height, spec.width});
  normalize_inplace(x, spec.norm);
  return x;
}

// --detect: the face detector, or an error when this fas has none.
Detector predict_detector(const PredictOptions& o) {
  if (!o.detect) return nullptr;
#ifdef FAS_HAVE_DLIB
  return dlib_face_detector(o.detect_max_side);
#else
  fail("predict: --detect needs the dlib face detector, and this fas was built without it (Debian libdlib-dev); install it and rebuild");
#endif
}

// Opens path for scoring; with a detector, finds its face. No face: prints the image's answer
// ("no face found", no score: the face tests were trained on crops) and returns false. `face`
// gets the box fields of the answer.
bool open_image(const std::string& path, const Detector& det, PredictImage* im, Json* face,
                std::vector<std::string>* lines) {
  im->path = path;
  im->detect = (bool)det;
  *face = Json::object();
  if (!det) return true;
  im->img = load_image(path, 3);
  im->face = find_face(im->img, det);
  const FaceBox& b = im->face.box;
  (*face)["face_source"] = im->face.source;
  if (im->face.detected || !im->face.found) (*face)["faces_found"] = im->face.faces;
  if (!im->face.found) {
    Json j = {{"image", path}, {"face", nullptr}, {"decision", "no face"}, {"message", "no face found"}};
    j.update(*face);
    lines->push_back(j.dump());
    return false;
  }
  (*face)["face"] = {{"x", b.x}, {"y", b.y}, {"w", b.w}, {"h", b.h}};
  return true;
}

// One image's result line.
std::string decision_line(const std::string& path, float s, bool hil, double thr, Json extra = Json::object()) {
  const bool live = hil ? s >= thr : s <= thr;
  Json j = {{"image", path},
            {"score", s},
            {"score_kind", hil ? "p_live" : "anomaly"},
            {"threshold", thr},
            {"decision", live ? "live" : "spoof"}};
  j.update(extra);
  return j.dump();
}

// Results are printed only once every image is read and scored: an error on any one of them
// leaves stdout empty instead of a partial list.
void print_lines(const std::vector<std::string>& lines) {
  for (const auto& l : lines) std::printf("%s\n", l.c_str());
  std::fflush(stdout);
}

// predict with several checkpoints: the fused P(live) of eval's fusion (the mean log-odds), or
// of a learned fusion's LDA (lda non-null: its images always take the serving path, the face
// crop by the detector when this fas has one).
int run_predict_fusion(const PredictOptions& o, const std::vector<LoadedModel>& ms, const iqa::LdaModel* lda) {
  const double thr = o.has_threshold ? o.threshold : 0.5;
  const Detector det = lda && !o.detect ? default_detector() : predict_detector(o);
  std::vector<std::string> lines;
  for (const auto& path : o.images) {
    PredictImage im;
    Json extra;
    if (!open_image(path, det, &im, &extra, &lines)) continue;
    if (lda && !det) {  // no detector built in: the image is scored whole, as fas serve does
      im.detect = true, im.img = load_image(path, 3), im.face = find_face(im.img, nullptr);
    }
    std::vector<float> z;
    std::vector<double> zd;
    for (const auto& m : ms) {
      z.push_back(model_logits(*m.info, *m.module, model_input(im, m, o.resize)).at(0));
      zd.push_back(z.back());
    }
    double mean = 0;
    for (double v : zd) mean += v / (double)zd.size();
    const float p = (float)live_probability(lda ? lda->decision(zd.data()) : mean);
    extra["logits"] = z;
    lines.push_back(decision_line(path, p, true, thr, extra));
  }
  print_lines(lines);
  return 0;
}

}  // namespace

int run_predict(const PredictOptions& o) {
  setup_threads(o.common.threads);
  if (o.ckpts.empty()) fail("predict: --ckpt is required");
  if (o.images.empty()) fail("predict: give at least one IMAGE");
  if (o.ckpts.size() == 1 && is_fusion_checkpoint(o.ckpts[0])) {
    if (!o.engine.name.empty() && o.engine.name != "graph") fail("predict: a learned fusion scores its members by their graphs; drop --engine");
    const Fusion fz = load_fusion_checkpoint(o.ckpts[0]);
    return run_predict_fusion(o, fz.members, &fz.lda);
  }
  if (o.ckpts.size() > 1) return run_predict_fusion(o, load_fusion(o.ckpts, o.engine, "predict", nullptr), nullptr);
  LoadedModel m = load_model(o.ckpts[0]);
  const bool hil = m.info->score == ScoreKind::LiveProbability;
  const Scorer engine = make_engine_scorer(m, o.engine, o.common.seed);
  double thr = 0;
  if (o.has_threshold) thr = o.threshold;
  else if (!stored_threshold(m, &thr)) {
    if (!hil) fail("predict: checkpoint '" + o.ckpts[0] + "' stores no decision threshold; pass --threshold");
    thr = 0.5;
  }
  const Detector det = predict_detector(o);
  std::vector<std::string> lines;
  for (const auto& path : o.images) {
    PredictImage im;
    Json extra;
    if (!open_image(path, det, &im, &extra, &lines)) continue;
    Tensor x = model_input(im, m, o.resize);
    if (m.info->named_scores && !engine) {  // every named score beside the deciding one
      NoGradGuard ng;
      for (auto& [name, v] : m.info->named_scores(*m.module, x)) extra["scores"][name] = v.at(0);
    }
    lines.push_back(decision_line(path, (engine ? engine(x) : model_scores(*m.info, *m.module, x)).at(0), hil, thr, extra));
  }
  print_lines(lines);
  return 0;
}

}  // namespace fas::cli
