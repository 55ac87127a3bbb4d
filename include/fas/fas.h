// fas: everything a program needs to define, train, save and run models, in one include.
//   #include <fas/fas.h>   (link fas::fas: find_package(fas) after an install, or add_subdirectory)
// The parts can also be included one by one by their path under src/, e.g. "autograd/ops.h".
#pragma once

#include "base/error.h"        // fas::Error, the one error type
#include "tensor/tensor.h"     // Tensor, Shape
#include "tensor/random.h"     // Rng, initialisers
#include "autograd/graph.h"    // NoGradGuard, EnableGradGuard
#include "autograd/ops.h"      // every differentiable op (docs/ops.md)
#include "layers/module.h"     // Module, Sequential
#include "layers/layers.h"     // Linear, Activation, BatchNorm, Dropout, Embedding, ...
#include "layers/conv.h"       // Conv2d, ConvTranspose2d
#include "layers/summary.h"    // Keras-style summaries
#include "optim/optim.h"       // Adam (AdamW, Keras form), SGD, learning-rate schedules
#include "optim/ema.h"         // weight averaging
#include "io/image.h"          // image decoding, resizing, normalisation
#include "io/dataset.h"        // lists, datasets, batch loading with augmentation
#include "io/checkpoint.h"     // safetensors checkpoints, written atomically
#include "metrics/metrics.h"   // APCER, BPCER, ACER, EER, AUC, ROC
#include "models/registry.h"   // the registered models (fas summary --list)
