// Labelled image datasets, loaded lazily, batched by a background prefetch thread.
//   list file: one "relative/path label" per line (paths relative to the list file's
//              directory; label 1 = live/bona fide, 0 = spoof/attack, the NUAA lists' layout);
//              blank lines and lines starting with '#' are ignored.
//   folder:    ROOT/<class>/**/<image>; see read_folder for how classes become labels.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <istream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "io/augment.h"
#include "io/image.h"
#include "tensor/tensor.h"

namespace fas {

struct Sample {
  std::string path;    // as opened (list directory joined with the relative path)
  int label = 0;       // 1 live, 0 spoof
  std::string origin;  // "list.txt:12" (file and line) or the folder root, for error messages
};

// Malformed lines are errors naming the list and line; a binary file (e.g. an image given as
// the list) is one error saying so. Images are not opened here (lazy).
std::vector<Sample> read_list(const std::string& list_path);
// The same from a stream holding the list's text; list_path gives the directory and the name.
std::vector<Sample> parse_list(std::istream& in, const std::string& list_path);
// Class folders: names that are integers give that label; live/real/client*/genuine/bonafide
// give 1 and spoof/fake/attack/imposter* give 0 (case-insensitive); otherwise the sorted index
// (so "0_spoof"-style trees should use integer names). Images: jpg/jpeg/png/bmp/pgm/ppm/tga,
// recursively, sorted by path so the order is reproducible.
std::vector<Sample> read_folder(const std::string& root);
// A directory -> read_folder, a file -> read_list.
std::vector<Sample> read_samples(const std::string& path);
// Deterministic subset of n items (seeded shuffle, then the first n in their original order),
// so a quick run keeps both classes. n <= 0 or n >= size keeps everything.
std::vector<Sample> limit_samples(std::vector<Sample> s, int64_t n, uint64_t seed);

// Every sample's file is a readable image (io/image.h check_image_file; headers only, no
// decoding): else a fas::Error naming its origin, "train.txt:12: image '...': is a directory...".
// Commands call it before they create any output, so a bad list leaves nothing behind.
void check_sample_files(const std::vector<Sample>& s);

// The live (label 1) samples only; none is a fas::Error naming `list`, followed by `why`.
std::vector<Sample> live_samples(std::vector<Sample> s, const std::string& list, const std::string& why);

// What the model consumes.
struct ImageSpec {
  int channels = 3;
  int64_t height = 64, width = 64;
  ResizeMode resize = ResizeMode::Area;
  Normalize norm;  // applied after augmentation
};

// Load one sample as the model input ([C, H, W], resized, not normalised). Errors name the file
// and where it came from: "train.txt:12: image 'faces/x.jpg': cannot open (...)".
Tensor load_sample(const Sample& s, const ImageSpec& spec);

// Seed derivation shared by shuffling and augmentation: a pure function of its inputs, so the
// stream for (seed, epoch, item) does not depend on what ran before (needed by --resume).
uint64_t mix_seed(uint64_t a, uint64_t b);
// Item order of an epoch: identity, or a seeded Fisher-Yates shuffle of [0, n).
std::vector<size_t> epoch_order(size_t n, uint64_t seed, int64_t epoch, bool shuffle);

class Dataset {
 public:
  // Empty sample list -> fas::Error naming `name` (the list path).
  Dataset(std::vector<Sample> samples, ImageSpec spec, bool skip_bad, std::string name = "dataset");
  size_t size() const { return samples_.size(); }
  const Sample& sample(size_t i) const { return samples_.at(i); }
  const ImageSpec& spec() const { return spec_; }
  const std::string& name() const { return name_; }
  // The sample, or an undefined tensor when it is bad and skip_bad is on (then counted once per
  // file; the first error message is kept for the report). Thread-safe.
  Tensor load(size_t i);
  size_t bad_count() const;
  std::string first_bad_message() const;
  int64_t live_count() const;

 private:
  std::vector<Sample> samples_;
  ImageSpec spec_;
  bool skip_bad_;
  std::string name_;
  mutable std::mutex mu_;
  std::vector<char> bad_;
  size_t n_bad_ = 0;
  std::string first_bad_;
};

struct Batch {
  Tensor x;                    // [N, C, H, W], normalised
  Tensor y;                    // [N] labels as floats (1 live, 0 spoof)
  std::vector<size_t> index;   // dataset indices of the rows
  size_t global_items = 0;     // the items of the whole (global) batch this one is part of
};

struct LoaderOptions {
  size_t batch = 32;
  bool shuffle = false;
  uint64_t seed = 0;
  int64_t epoch = 0;
  bool drop_last = false;
  const AugmentConfig* augment = nullptr;  // training only; per-item Rng from (seed, epoch, index)
  // > 0: after augmentation, each image is cut to a random patch x patch window at whole-pixel
  // offsets (no resampling: the fine texture stays intact), drawn from the item's Rng stream.
  int64_t patch = 0;
  size_t prefetch = 2;                      // batches prepared ahead by the worker thread
  // Data-parallel shard: batch b is rank's contiguous part [m*rank/ranks, m*(rank+1)/ranks) of
  // the global batch b (m items) of the same epoch order, so the ranks together see exactly the
  // batches of one process. With ranks > 1 a last batch of fewer than `ranks` items is dropped
  // (it would leave a rank without items).
  size_t rank = 0, ranks = 1;
};

// One pass over the dataset. A worker thread loads, augments and stacks batches in order; next()
// hands them out and rethrows the worker's error at the point it happened. Skipped (bad) items
// make a batch smaller; a batch left empty is skipped.
class BatchLoader {
 public:
  BatchLoader(Dataset& ds, LoaderOptions opt);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;
  bool next(Batch& out);
  size_t num_batches() const;  // upper bound (before skipping)
  size_t num_items() const { return order_.size(); }  // over all ranks

 private:
  void run();
  Batch make(size_t b);
  Dataset& ds_;
  LoaderOptions opt_;
  std::vector<size_t> order_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> ready_;
  std::exception_ptr error_;
  bool done_ = false;
  std::atomic<bool> stop_{false};
  std::thread worker_;
};

}  // namespace fas
