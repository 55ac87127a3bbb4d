// A greyscale image in float64: the working type of the W-IQA metrics (spec 002 §2). Grey levels
// are on the 8-bit scale [0, 255]; float64 because several metrics subtract nearly equal sums of
// squares (variances of local windows, SSIM, VIF), where float32 loses every digit.
#pragma once
#include <cstddef>
#include <new>
#include <utility>
#include <vector>

namespace fas::iqa {

// Per-thread cache of freed blocks by exact size (at most 256 MiB kept per thread): one frame's
// metrics allocate ~60 planes of the same few sizes, and fresh multi-megabyte blocks are mmapped
// by malloc, so each would cost page faults and the kernel's zeroing (a quarter of the time).
double* plane_alloc(size_t n);
void plane_free(double* p, size_t n);
template <class T>
struct PlaneAllocator {
  using value_type = T;
  PlaneAllocator() = default;
  template <class U>
  PlaneAllocator(const PlaneAllocator<U>&) {}
  T* allocate(size_t n) { return plane_alloc(n); }
  void deallocate(T* p, size_t n) { plane_free(p, n); }
  // A vector built with a count and no value default-initialises (leaves doubles unwritten), so
  // Plane(h, w, Uninit{}) skips the zero-fill: memset of the outputs was 14% of a frame's metrics.
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... A>
  void construct(U* p, A&&... a) {
    ::new (static_cast<void*>(p)) U(std::forward<A>(a)...);
  }
  bool operator==(const PlaneAllocator&) const { return true; }
  bool operator!=(const PlaneAllocator&) const { return false; }
};

// Tag for a Plane whose every element the caller writes before reading.
struct Uninit {};

struct Plane {
  int h = 0, w = 0;
  std::vector<double, PlaneAllocator<double>> v;  // row-major, h * w
  Plane() = default;
  Plane(int h_, int w_, double fill = 0.0) : h(h_), w(w_), v((size_t)h_ * w_, fill) {}
  Plane(int h_, int w_, Uninit) : h(h_), w(w_), v((size_t)h_ * w_) {}
  double* row(int y) { return v.data() + (size_t)y * w; }
  const double* row(int y) const { return v.data() + (size_t)y * w; }
  double at(int y, int x) const { return v[(size_t)y * w + x]; }
  size_t size() const { return v.size(); }
};

}  // namespace fas::iqa
