#include "tensor/tensor.h"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <unordered_map>


namespace fas {


std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}

namespace {
constexpr size_t kCachedMinBytes = size_t(1) << 20;

size_t storage_bytes(size_t n) {
  const size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
  return bytes == 0 ? 64 : bytes;
}

// Freed large blocks by byte size. Never destroyed: Storages in static objects may die after it.
class BlockCache {
 public:
  void* take(size_t bytes) {
    std::lock_guard<std::mutex> lock(m_);
    auto it = free_.find(bytes);
    if (it == free_.end()) return nullptr;
    void* p = it->second;
    free_.erase(it);
    total_ -= bytes;
    return p;
  }
  bool give(void* p, size_t bytes) {  // false: cache full, the caller frees p
    std::lock_guard<std::mutex> lock(m_);
    if (total_ + bytes > kStorageCacheBytes) return false;
    free_.emplace(bytes, p);
    total_ += bytes;
    return true;
  }

 private:
  std::mutex m_;
  std::unordered_multimap<size_t, void*> free_;
  size_t total_ = 0;
};
BlockCache& block_cache() {
  static BlockCache* c = new BlockCache;
  return *c;
}

// Large blocks are zeroed by the OpenMP team (outside parallel regions): every backward pass
// allocates its gradient buffers zeroed, tens of MB per step in training.
void zero_fill(void* p, size_t bytes) {
  constexpr size_t kChunk = size_t(1) << 20;
  if (bytes < 4 * kChunk || omp_in_parallel() || omp_get_max_threads() < 2) {
    std::memset(p, 0, bytes);
    return;
  }
  const int64_t chunks = (int64_t)((bytes + kChunk - 1) / kChunk);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < chunks; ++i)
    std::memset(static_cast<char*>(p) + i * kChunk, 0, std::min(kChunk, bytes - (size_t)i * kChunk));
}

Tensor make_tensor(const Shape& shape, bool zero) {
  for (auto d : shape)
    if (d < 0) fail("tensor: negative dimension in shape " + shape_str(shape));
  if (shape.size() > 5) fail("tensor: more than 5 dimensions: " + shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>((size_t)shape_numel(shape), zero);
  impl->shape = shape;
  return Tensor(impl);
}
}  // namespace

Storage::Storage(size_t n, bool zero) : size(n) {
  const size_t bytes = storage_bytes(n);
  if (bytes >= kCachedMinBytes) data = static_cast<float*>(block_cache().take(bytes));
  if (!data) data = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (!data) fail("out of memory allocating " + std::to_string(bytes) + " bytes");
  if (zero) zero_fill(data, bytes);
}
Storage::~Storage() {
  const size_t bytes = storage_bytes(size);
  if (bytes < kCachedMinBytes || !block_cache().give(data, bytes)) std::free(data);
}

Tensor Tensor::zeros(const Shape& shape) { return make_tensor(shape, true); }
Tensor Tensor::uninit(const Shape& shape) { return make_tensor(shape, false); }

Tensor Tensor::full(const Shape& shape, float v) {
  Tensor t = uninit(shape);
  float* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = v;
  return t;
}

Tensor Tensor::from(const Shape& shape, const std::vector<float>& values) {
  if ((int64_t)values.size() != shape_numel(shape))
    fail("tensor: " + std::to_string(values.size()) + " values do not fill shape " + shape_str(shape));
  Tensor t = uninit(shape);
  std::memcpy(t.data(), values.data(), values.size() * sizeof(float));
  return t;
}

const Shape& Tensor::shape() const {
  if (!impl_) fail("tensor: use of an undefined tensor");
  return impl_->shape;
}

int64_t Tensor::size(int64_t d) const {
  int64_t n = dim();
  if (d < 0) d += n;
  if (d < 0 || d >= n) fail("tensor: dimension " + std::to_string(d) + " out of range for shape " + shape_str(shape()));
  return impl_->shape[d];
}

float* Tensor::data() {
  if (!impl_) fail("tensor: use of an undefined tensor");
  return impl_->storage->data + impl_->offset;
}
const float* Tensor::data() const {
  if (!impl_) fail("tensor: use of an undefined tensor");
  return impl_->storage->data + impl_->offset;
}

float Tensor::item() const {
  if (numel() != 1) fail("tensor: item() on a tensor of shape " + shape_str(shape()));
  return data()[0];
}

std::vector<float> Tensor::to_vector() const { return std::vector<float>(data(), data() + numel()); }

Tensor& Tensor::set_requires_grad(bool on) {
  impl_->requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const { return impl_ && impl_->grad ? Tensor(impl_->grad) : Tensor(); }

float* Tensor::grad_data() {
  if (!impl_->grad) impl_->grad = Tensor::zeros(impl_->shape).impl_;
  return impl_->grad->storage->data + impl_->grad->offset;
}

float* Tensor::grad_for_write(bool* fresh) {
  *fresh = !impl_->grad;
  if (*fresh) impl_->grad = Tensor::uninit(impl_->shape).impl_;
  return impl_->grad->storage->data + impl_->grad->offset;
}

void Tensor::zero_grad() {
  if (impl_ && impl_->grad) std::memset(grad_data(), 0, sizeof(float) * numel());
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->offset = impl_->offset;
  impl->shape = impl_->shape;
  return Tensor(impl);
}

Tensor Tensor::clone() const {
  Tensor t = uninit(shape());
  std::memcpy(t.data(), data(), sizeof(float) * numel());
  return t;
}



void copy_into(Tensor& dst, const Tensor& src) {
  if (dst.numel() != src.numel())
    fail("copy: shape " + shape_str(src.shape()) + " does not fit " + shape_str(dst.shape()));
  std::memmove(dst.data(), src.data(), sizeof(float) * src.numel());
}

}  // namespace fas
