// Dataset lists and folders, lazy loading errors, --skip-bad counting, the prefetching loader.
#include <set>

#include "io/dataset.h"
#include "io_testutil.h"
#include "testutil.h"

using namespace fas;
using namespace fas::test;

namespace {

// dir/imgs/<i>.png, 6x4 RGB patterns; returns the list lines "imgs/i.png label".
std::string make_images(const std::string& dir, int n) {
  std::filesystem::create_directories(dir + "/imgs");
  std::string list;
  for (int i = 0; i < n; ++i) {
    write_png(dir + "/imgs/" + std::to_string(i) + ".png", 6, 4, 3, pattern(6, 4, 3, i));
    list += "imgs/" + std::to_string(i) + ".png " + std::to_string(i % 2) + "\n";
  }
  return list;
}

ImageSpec small_spec(int64_t h = 4, int64_t w = 6) {
  ImageSpec s;
  s.channels = 3;
  s.height = h;
  s.width = w;
  return s;
}

// n written images in a scratch list, loaded at h x w.
Dataset image_dataset(const std::string& dir, int n, ImageSpec spec) {
  write_bytes(dir + "/list.txt", make_images(dir, n));
  return Dataset(read_list(dir + "/list.txt"), spec, false, "list");
}

}  // namespace

TEST(Dataset, ListPathsAreRelativeToTheListAndCarryTheirLine) {
  auto dir = scratch_dir("ds");
  write_bytes(dir + "/list.txt", "# comment\n\nsub/a b.png 1\r\n/abs/c.png 0\n");
  auto s = read_list(dir + "/list.txt");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].path, dir + "/sub/a b.png");  // spaces in paths: the label is the last field
  EXPECT_EQ(s[0].label, 1);
  EXPECT_EQ(s[0].origin, dir + "/list.txt:3");
  EXPECT_EQ(s[1].path, "/abs/c.png");
  EXPECT_EQ(s[1].label, 0);
}

TEST(Dataset, MalformedListsNameFileAndLine) {
  auto dir = scratch_dir("ds");
  write_bytes(dir + "/bad_label.txt", "a.png 1\nb.png 2\n");
  auto e = error_of([&] { read_list(dir + "/bad_label.txt"); });
  EXPECT_TRUE(has(e, "bad_label.txt:2")) << e;
  write_bytes(dir + "/no_label.txt", "a.png\n");
  e = error_of([&] { read_list(dir + "/no_label.txt"); });
  EXPECT_TRUE(has(e, "no_label.txt:1")) << e;
  e = error_of([&] { read_list(dir + "/absent.txt"); });
  EXPECT_TRUE(has(e, "absent.txt")) << e;
}

// A list must be text: an image (or any binary file) given as the list is one error saying
// what it is, never a parse error quoting its bytes; a directory given to read_list is named too.
TEST(Dataset, BinaryFilesAndDirectoriesAreNotLists) {
  auto dir = scratch_dir("ds");
  write_png(dir + "/x.png", 6, 4, 3, pattern(6, 4, 3, 1));
  write_jpg(dir + "/x.jpg", 6, 4, 3, pattern(6, 4, 3, 2));
  write_bytes(dir + "/x.bin", std::string("a.png 1\n\0\1\2", 11));
  auto e = error_of([&] { read_list(dir + "/x.jpg"); });
  EXPECT_TRUE(has(e, "x.jpg': is a JPEG image, not a text list")) << e;
  e = error_of([&] { read_samples(dir + "/x.png"); });
  EXPECT_TRUE(has(e, "x.png': is a PNG image")) << e;
  e = error_of([&] { read_list(dir + "/x.bin"); });
  EXPECT_TRUE(has(e, "x.bin': is a binary file")) << e;
  e = error_of([&] { read_list(dir); });
  EXPECT_TRUE(has(e, "is a directory")) << e;
  // Binary bytes past the first 512: the malformed line is quoted printable and short.
  write_bytes(dir + "/late.txt", std::string(600, '#') + "\n" + "x" + std::string("\x01\x02", 2) + std::string(300, 'y') + "\n");
  e = error_of([&] { read_list(dir + "/late.txt"); });
  EXPECT_TRUE(has(e, "late.txt:2: expected 'relative/path label', got 'x??yyy")) << e;
  EXPECT_TRUE(has(e, "...'")) << e;
  EXPECT_LT(e.size(), 250u) << e;
  // Text with tabs, CRLF and UTF-8 names is still a list.
  write_bytes(dir + "/ok.txt", "caf\xC3\xA9.png\t1\r\nb.png 0\n");
  EXPECT_EQ(read_list(dir + "/ok.txt").size(), 2u);
}

// check_sample_files: every file opens and has an image header, or one error naming the list
// line and the problem; headers only (a truncated body passes here and fails at load).
TEST(Dataset, CheckSampleFilesNamesTheFirstBadOne) {
  auto dir = scratch_dir("ds");
  write_bytes(dir + "/list.txt", make_images(dir, 2));
  const auto good = read_list(dir + "/list.txt");
  EXPECT_NO_THROW(check_sample_files(good));
  std::filesystem::create_directories(dir + "/imgs/folder.png");
  write_bytes(dir + "/imgs/text.png", "hello\n");
  for (const auto& [name, problem] : std::vector<std::pair<std::string, std::string>>{
           {"folder.png", "is a directory, not an image file"},
           {"text.png", "not an image"},
           {"gone.png", "cannot open"}}) {
    write_bytes(dir + "/bad.txt", make_images(dir, 2) + "imgs/" + name + " 1\n");
    auto e = error_of([&] { check_sample_files(read_list(dir + "/bad.txt")); });
    EXPECT_TRUE(has(e, "bad.txt:3: image '" + dir + "/imgs/" + name + "': " + problem)) << e;
  }
  const std::string png = read_bytes(dir + "/imgs/0.png");
  write_bytes(dir + "/imgs/cut.png", png.substr(0, 40));  // header intact, pixels gone
  write_bytes(dir + "/cut.txt", "imgs/cut.png 1\n");
  const auto cut = read_list(dir + "/cut.txt");
  EXPECT_NO_THROW(check_sample_files(cut));
  EXPECT_THROW(load_sample(cut[0], small_spec()), Error);
}

TEST(Dataset, EmptyDatasetIsAnError) {
  auto dir = scratch_dir("ds");
  write_bytes(dir + "/empty.txt", "# nothing\n\n");
  auto e = error_of([&] { Dataset d(read_list(dir + "/empty.txt"), small_spec(), false, dir + "/empty.txt"); });
  EXPECT_TRUE(has(e, "empty.txt")) << e;
  EXPECT_TRUE(has(e, "empty")) << e;
}

TEST(Dataset, MissingAndCorruptImagesNameFileAndListLine) {
  auto dir = scratch_dir("ds");
  std::string list = make_images(dir, 2) + "imgs/missing.png 1\nimgs/corrupt.png 0\n";
  write_bytes(dir + "/imgs/corrupt.png", "\x89PNG\r\n\x1a\n garbage");
  write_bytes(dir + "/list.txt", list);
  Dataset d(read_list(dir + "/list.txt"), small_spec(), false, "list");
  EXPECT_EQ(d.load(0).shape(), (Shape{3, 4, 6}));
  auto e = error_of([&] { d.load(2); });
  EXPECT_TRUE(has(e, "missing.png")) << e;
  EXPECT_TRUE(has(e, "list.txt:3")) << e;
  e = error_of([&] { d.load(3); });
  EXPECT_TRUE(has(e, "corrupt.png")) << e;
  EXPECT_TRUE(has(e, "list.txt:4")) << e;
  // The loader thread's error reaches the caller as the same fas::Error.
  LoaderOptions lo;
  lo.batch = 3;
  BatchLoader loader(d, lo);
  Batch b;
  e = error_of([&] {
    while (loader.next(b)) {
    }
  });
  EXPECT_TRUE(has(e, "missing.png")) << e;
}

TEST(Dataset, SkipBadSkipsAndCounts) {
  auto dir = scratch_dir("ds");
  std::string list = make_images(dir, 3) + "imgs/missing.png 1\nimgs/corrupt.png 0\n";
  write_bytes(dir + "/imgs/corrupt.png", "not an image at all");
  write_bytes(dir + "/list.txt", list);
  Dataset d(read_list(dir + "/list.txt"), small_spec(), true, "list");
  LoaderOptions lo;
  lo.batch = 2;
  std::vector<size_t> seen;
  for (int pass = 0; pass < 2; ++pass) {  // counted once per file, not once per pass
    BatchLoader loader(d, lo);
    Batch b;
    while (loader.next(b)) {
      EXPECT_EQ(b.x.size(0), (int64_t)b.index.size());
      if (pass == 0) seen.insert(seen.end(), b.index.begin(), b.index.end());
    }
  }
  EXPECT_EQ(seen, (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(d.bad_count(), 2u);
  EXPECT_TRUE(has(d.first_bad_message(), "missing.png")) << d.first_bad_message();
}

TEST(Dataset, BatchesStackNormaliseAndShuffleBySeed) {
  ImageSpec spec = small_spec(2, 3);
  spec.norm = parse_normalize("symmetric");
  Dataset d = image_dataset(scratch_dir("ds"), 7, spec);
  auto run = [&](uint64_t seed, int64_t epoch) {
    LoaderOptions lo;
    lo.batch = 3;
    lo.shuffle = true;
    lo.seed = seed;
    lo.epoch = epoch;
    BatchLoader loader(d, lo);
    EXPECT_EQ(loader.num_batches(), 3u);
    std::vector<size_t> order;
    Batch b;
    std::vector<int64_t> sizes;
    while (loader.next(b)) {
      sizes.push_back(b.x.size(0));
      EXPECT_EQ(b.x.shape(), (Shape{b.x.size(0), 3, 2, 3}));
      for (int64_t r = 0; r < b.x.size(0); ++r) {
        const size_t i = b.index[r];
        EXPECT_EQ(b.y.data()[r], (float)(i % 2));
        Tensor want = resize(load_image(d.sample(i).path, 3), 2, 3, ResizeMode::Area);
        normalize_inplace(want, spec.norm);
        for (int64_t k = 0; k < 18; ++k) EXPECT_EQ(b.x.data()[r * 18 + k], want.data()[k]);
      }
      order.insert(order.end(), b.index.begin(), b.index.end());
    }
    EXPECT_EQ(sizes, (std::vector<int64_t>{3, 3, 1}));
    return order;
  };
  auto a = run(1, 0);
  EXPECT_EQ(std::set<size_t>(a.begin(), a.end()).size(), 7u);  // a permutation
  EXPECT_EQ(run(1, 0), a);                                       // reproducible
  EXPECT_NE(run(1, 1), a);                                       // new order each epoch
  EXPECT_NE(run(2, 0), a);                                       // and per seed
  EXPECT_EQ(epoch_order(5, 9, 3, false), (std::vector<size_t>{0, 1, 2, 3, 4}));
}

// Patch training: every item becomes a P x P window of its (unresampled) image, at a seeded
// whole-pixel offset that varies across items and epochs.
TEST(Dataset, PatchesAreWholePixelWindowsOfTheImage) {
  Dataset d = image_dataset(scratch_dir("ds"), 6, small_spec(7, 9));
  std::set<std::pair<int64_t, int64_t>> offsets;
  for (int64_t epoch : {0, 1, 2}) {
    LoaderOptions lo;
    lo.batch = 6;
    lo.patch = 4;
    lo.epoch = epoch;
    BatchLoader loader(d, lo);
    Batch b;
    ASSERT_TRUE(loader.next(b));
    ASSERT_EQ(b.x.shape(), (Shape{6, 3, 4, 4}));
    for (int64_t r = 0; r < 6; ++r) {
      Tensor full = d.load(b.index[r]);
      bool found = false;
      for (int64_t t = 0; t + 4 <= 7 && !found; ++t)
        for (int64_t l = 0; l + 4 <= 9 && !found; ++l)
          if (crop(full, t, l, 4, 4).to_vector() == std::vector<float>(b.x.data() + r * 48, b.x.data() + (r + 1) * 48)) {
            found = true;
            offsets.insert({t, l});
          }
      EXPECT_TRUE(found) << "item " << r << " epoch " << epoch;
    }
  }
  EXPECT_GT(offsets.size(), 3u) << "the windows do not move";
  LoaderOptions big;
  big.patch = 8;  // taller than the 7-row image
  BatchLoader loader(d, big);
  Batch b;
  EXPECT_THROW(loader.next(b), Error);
}

TEST(Dataset, AugmentationIsPerItemAndReproducible) {
  auto dir = scratch_dir("ds");
  write_bytes(dir + "/list.txt", make_images(dir, 4));
  Dataset d(read_list(dir + "/list.txt"), small_spec(), false, "list");
  AugmentConfig aug = parse_augment("flip=0.5,noise=0.1");
  auto first_batch = [&](size_t batch) {
    LoaderOptions lo;
    lo.batch = batch;
    lo.seed = 3;
    lo.augment = &aug;
    BatchLoader loader(d, lo);
    Batch b;
    EXPECT_TRUE(loader.next(b));
    return b.x.to_vector();
  };
  // Item 0's augmentation depends on (seed, epoch, item) only, not on batching or timing.
  auto one = first_batch(1), four = first_batch(4);
  ASSERT_EQ(one.size() * 4, four.size());
  EXPECT_EQ(one, std::vector<float>(four.begin(), four.begin() + one.size()));
  Tensor plain = d.load(0);
  EXPECT_NE(one, plain.to_vector());
}

TEST(Dataset, FolderTreesAndLimit) {
  auto dir = scratch_dir("ds");
  for (auto cls : {"live", "spoof"}) {
    std::filesystem::create_directories(dir + "/" + cls + "/s1");
    for (int i = 0; i < 3; ++i) write_png(dir + "/" + cls + "/s1/" + std::to_string(i) + ".png", 2, 2, 3, pattern(2, 2, 3, i));
  }
  write_bytes(dir + "/live/notes.txt", "ignored");
  auto s = read_samples(dir);
  ASSERT_EQ(s.size(), 6u);
  int live = 0;
  for (auto& x : s) live += x.label;
  EXPECT_EQ(live, 3);
  EXPECT_EQ(s[0].label, 1);  // "live" sorts first and maps to 1
  auto l = limit_samples(s, 4, 1);
  EXPECT_EQ(l.size(), 4u);
  EXPECT_EQ(limit_samples(s, 4, 1).front().path, l.front().path);
  EXPECT_EQ(limit_samples(s, 0, 1).size(), 6u);
  auto dir2 = scratch_dir("ds2");
  std::filesystem::create_directories(dir2 + "/cats");
  std::filesystem::create_directories(dir2 + "/dogs");
  std::filesystem::create_directories(dir2 + "/eels");
  auto e = error_of([&] { read_folder(dir2); });
  EXPECT_TRUE(has(e, "eels")) << e;
}

// Data-parallel shards (LoaderOptions::rank): the ranks' parts of batch b are disjoint, in order,
// and together exactly batch b of one process; a last batch with fewer items than ranks is
// dropped on every rank alike; fewer items per batch than ranks is an error.
TEST(Dataset, RankShardsTogetherAreTheSingleProcessBatches) {
  Dataset d = image_dataset(scratch_dir("ds"), 13, small_spec(2, 3));
  auto batches = [&](size_t batch, size_t rank, size_t ranks) {
    LoaderOptions lo;
    lo.batch = batch, lo.shuffle = true, lo.seed = 7, lo.epoch = 2, lo.rank = rank, lo.ranks = ranks;
    BatchLoader loader(d, lo);
    std::vector<std::vector<size_t>> out;
    Batch b;
    while (loader.next(b)) {
      EXPECT_EQ(b.x.size(0), (int64_t)b.index.size());
      EXPECT_EQ(b.global_items, std::min<size_t>(batch, 13 - out.size() * batch));
      out.push_back(b.index);
    }
    return out;
  };
  // 13 items, batch 4: 4+4+4+1 on one process.
  const auto one = batches(4, 0, 1);
  ASSERT_EQ(one.size(), 4u);
  for (size_t ranks : {2u, 3u}) {
    std::vector<std::vector<std::vector<size_t>>> parts;
    for (size_t r = 0; r < ranks; ++r) parts.push_back(batches(4, r, ranks));
    for (size_t r = 0; r < ranks; ++r) ASSERT_EQ(parts[r].size(), 3u) << "the 1-item last batch is dropped";
    for (size_t b = 0; b < 3; ++b) {
      std::vector<size_t> joined;
      for (size_t r = 0; r < ranks; ++r) {
        EXPECT_FALSE(parts[r][b].empty());
        joined.insert(joined.end(), parts[r][b].begin(), parts[r][b].end());
      }
      EXPECT_EQ(joined, one[b]) << "batch " << b << ", " << ranks << " ranks";
    }
  }
  // 13 items, batch 5 on 2 ranks: 5+5+3, the last split 1 + 2 (uneven), nothing dropped.
  const auto r0 = batches(5, 0, 2), r1 = batches(5, 1, 2);
  ASSERT_EQ(r0.size(), 3u);
  ASSERT_EQ(r1.size(), 3u);
  EXPECT_EQ(r0[2].size(), 1u);
  EXPECT_EQ(r1[2].size(), 2u);
  LoaderOptions lo;
  lo.batch = 2, lo.ranks = 3;
  EXPECT_TRUE(has(error_of([&] { BatchLoader l(d, lo); }), "smaller than the 3 ranks"));
}
