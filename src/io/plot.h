// Pictures of training and evaluation, written without Python: SVG charts (loss/validation curves,
// ROC, per-class score histograms) and PNG image grids (inputs above reconstructions).
// The *_svg functions return the document; the write_* functions store it atomically.
#pragma once
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "metrics/metrics.h"
#include "tensor/tensor.h"

namespace fas::plot {

// One named line. Points whose x or y is NaN/Inf are skipped and break the line (a gap), so a
// diverged epoch or a missing validation value never prints "nan" into the SVG.
struct Series {
  std::string name;
  std::vector<double> x, y;  // equal lengths
  std::string color;         // any SVG colour; empty = next colour of the palette
  bool dashed = false;
};

// y[i] plotted at x = i + 1 (epochs count from 1).
Series epoch_series(const std::string& name, const std::vector<double>& per_epoch);

struct ChartOptions {
  std::string title, xlabel, ylabel;
  int width = 760, height = 440;
  // Axis ranges; NaN = from the data, widened to whole tick steps.
  double xmin = NAN, xmax = NAN, ymin = NAN, ymax = NAN;
  bool markers = true;  // a dot at every point of series with at most 60 points
};

std::string line_chart_svg(const std::vector<Series>& series, const ChartOptions& opt);

// ROC curves (x = APCER = false live rate, y = 1 - BPCER) with the chance diagonal; the legend
// shows "name (AUC = 0.9876)".
struct RocSeries {
  std::string name;
  metrics::RocCurve roc;
  double auc = 0;
};
std::string roc_svg(const std::vector<RocSeries>& curves, const std::string& title = "ROC curve");

// Score histogram per class (live and spoof overlaid, semi-transparent), optional threshold line.
struct HistogramOptions {
  int bins = 30;
  std::optional<double> threshold;
  std::string title = "Score distribution", xlabel = "score";
  // Bin range; NaN = [0, 1] when every score lies there, else the scores' min and max.
  double lo = NAN, hi = NAN;
  int width = 760, height = 440;
};
// Non-finite scores are left out (and counted in the legend as "n skipped"); labels as in metrics.h.
std::string histogram_svg(const std::vector<float>& scores, const std::vector<int>& labels,
                          const HistogramOptions& opt = {});

// Image grid: rows of [C, H, W] images (C = 1 or 3, values in [0, 1], clamped; NaN -> 0).
// Cells are the size of the largest image (smaller ones centred), `pad` pixels of pad_value around
// and between cells; short rows are filled with pad_value. The result has 3 channels if any image
// has 3 (grey images are repeated), else 1. Returns [C, H, W].
Tensor image_grid(const std::vector<std::vector<Tensor>>& rows, int pad = 2, float pad_value = 1.f);
// The first n (all if n < 0) images of a [N, C, H, W] batch as [C, H, W] views (one grid row).
std::vector<Tensor> unbatch(const Tensor& nchw, int64_t n = -1);

// PNG of a [C, H, W] image (C = 1 or 3, values in [0, 1]), 8 bit, written atomically.
void write_png(const std::string& path, const Tensor& chw);
std::string encode_png(const Tensor& chw);  // the same PNG, in memory
void write_image_grid_png(const std::string& path, const std::vector<std::vector<Tensor>>& rows, int pad = 2,
                          float pad_value = 1.f);

// Atomic write of an SVG document (any text, in fact).
void write_svg(const std::string& path, const std::string& svg);

// What `fas eval` leaves in its output directory, all written atomically into the existing `dir`:
// metrics.json, metrics.csv, roc.csv, roc.svg (legend: model_name and AUC) and scores_hist.svg
// (per-class histogram with the report's operating threshold). Returns the paths written.
std::vector<std::string> write_eval_artifacts(const std::string& dir, const std::string& model_name,
                                              const metrics::Report& report, const metrics::Scores& scores);

}  // namespace fas::plot
