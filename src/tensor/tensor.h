// fas tensor: float32, contiguous, row-major (NCHW for images), up to 5-D.
// A Tensor is a cheap handle (shared_ptr) to a TensorImpl; copies share data.
// Storage is 64-byte aligned. reshape/flatten return views that share storage.
#pragma once
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/error.h"

namespace fas {


using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& s);  // "[2, 3, 4]"
inline int64_t shape_numel(const Shape& s) {  // inline: loops test numel() per element
  int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

// Blocks of 1 MiB and more come from a process-wide cache of freed blocks (exact byte size,
// at most kStorageCacheBytes kept): training allocates the same shapes every step, and a fresh
// block that large is mmapped by malloc, so every first touch costs a page fault and the
// kernel's zeroing.
constexpr size_t kStorageCacheBytes = size_t(1) << 30;
struct Storage {
  float* data = nullptr;
  size_t size = 0;
  explicit Storage(size_t n, bool zero = true);  // zero: zero-initialised; else contents unspecified
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

struct Node;
struct TensorImpl {
  std::shared_ptr<Storage> storage;
  size_t offset = 0;
  Shape shape;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;  // same shape, allocated on first accumulation
  std::shared_ptr<Node> grad_fn;     // null for leaves and for tensors made under no_grad
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  static Tensor zeros(const Shape& shape);
  // Contents unspecified (no zero-fill): only for outputs the caller overwrites completely.
  static Tensor uninit(const Shape& shape);
  // The old name of zeros(), kept so code written against it compiles: it always zero-filled,
  // unlike torch.empty, so the name said the wrong thing.
  [[deprecated("Tensor::empty zero-fills: use Tensor::zeros, or Tensor::uninit when every element is written")]]
  static Tensor empty(const Shape& shape) { return zeros(shape); }
  static Tensor ones(const Shape& shape) { return full(shape, 1.f); }
  static Tensor full(const Shape& shape, float v);
  static Tensor from(const Shape& shape, const std::vector<float>& values);
  static Tensor scalar(float v) { return from({}, {v}); }

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int64_t dim() const { return (int64_t)shape().size(); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const { return shape_numel(shape()); }
  float* data();
  const float* data() const;
  float item() const;  // value of a one-element tensor
  std::vector<float> to_vector() const;

  // --- autograd ---
  bool requires_grad() const { return impl_ && impl_->requires_grad; }
  Tensor& set_requires_grad(bool on);
  bool is_leaf() const { return !impl_->grad_fn; }
  Tensor grad() const;   // undefined Tensor if no gradient yet
  float* grad_data();    // gradient buffer, allocated (zeros) on first use
  // Gradient buffer for a backward closure that can write its whole contribution at once.
  // "Overwrite on first write": with no buffer yet, allocates one UNINITIALISED and sets
  // *fresh = true, and the caller MUST then assign every element (y = g, not y += g); else
  // returns the existing buffer with *fresh = false and the caller accumulates (+=). Saves
  // zero-filling the gradient of every activation that has one consumer.
  float* grad_for_write(bool* fresh);
  void zero_grad();      // drops the gradient buffer contents (sets to zero)
  Tensor detach() const; // shares storage, no history, requires_grad = false
  Tensor clone() const;  // deep copy of the data, no history
  void backward();                        // for a one-element tensor: seed 1
  void backward(const Tensor& grad_out);  // seed with grad_out (same shape)

  // View with another shape (same numel); -1 infers one dimension. Differentiable.
  Tensor reshape(const Shape& shape) const;

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// Copy values (shapes must have equal numel). No autograd.
void copy_into(Tensor& dst, const Tensor& src);

}  // namespace fas
