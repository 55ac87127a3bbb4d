// Writes the 24 W-IQA features (src/iqa/) of every image of a list as CSV (path, label, ad, ...),
// for studies of classifiers on them (tools/iqa_session_study.py). Images are read as `fas train
// --model wiqa-lda` reads them (grey, 640x480). Build after the library:
//   g++ -O2 -std=c++17 -fopenmp -Isrc tools/iqa_dump_features.cpp build/libfas.a -lopenblas -o build/iqa_dump_features
//   ./build/iqa_dump_features /work/shared/data/nuaa/raw_train.txt > /tmp/raw_train_iqa.csv
#include <cstdio>

#include "io/dataset.h"
#include "iqa/iqa.h"

using namespace fas;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s LIST > features.csv\n", argv[0]);
    return 1;
  }
  try {
    ImageSpec spec;
    spec.channels = 1, spec.height = 480, spec.width = 640;
    Dataset ds(read_samples(argv[1]), spec, false, argv[1]);
    std::vector<iqa::Features> f(ds.size());
#pragma omp parallel for schedule(dynamic)
    for (int64_t i = 0; i < (int64_t)ds.size(); ++i) {
      const Tensor img = ds.load((size_t)i);
      f[i] = iqa::compute_features(iqa::plane_from_unit(img.data(), 480, 640));
    }
    std::printf("path,label");
    for (auto* n : iqa::metric_names()) std::printf(",%s", n);
    std::printf("\n");
    for (size_t i = 0; i < ds.size(); ++i) {
      std::printf("%s,%d", ds.sample(i).path.c_str(), ds.sample(i).label);
      for (double v : f[i]) std::printf(",%.17g", v);
      std::printf("\n");
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "fas: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
