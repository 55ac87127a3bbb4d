// Shape ops and reductions along one dimension. A contiguous tensor split at dim d is a
// sequence of `outer` blocks, each `size(d) * inner` floats; these ops copy blocks.
#include <cstring>

#include "autograd/graph.h"
#include "autograd/ops.h"

namespace fas {

// Tensor::reshape (tensor.h) records its backward, so it is defined with the graph-aware ops.
Tensor Tensor::reshape(const Shape& want) const {
  Shape s = want;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      if (infer >= 0) fail("reshape: more than one -1 in " + shape_str(want));
      infer = (int64_t)i;
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0 && known > 0 && numel() % known == 0) s[infer] = numel() / known;
  if (shape_numel(s) != numel() || (infer >= 0 && known == 0))
    fail("reshape: cannot view shape " + shape_str(shape()) + " as " + shape_str(want));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->offset = impl_->offset;
  impl->shape = s;
  Tensor y(impl);
  Tensor x = *this;
  record(y, "reshape", {x}, [x](const Tensor& gy) mutable {
    float* gx = x.grad_data();
    const float* g = gy.data();
    for (int64_t i = 0, n = x.numel(); i < n; ++i) gx[i] += g[i];
  });
  return y;
}

namespace {
int64_t norm_dim(const char* op, const Shape& s, int64_t d) {
  int64_t n = (int64_t)s.size();
  if (d < 0) d += n;
  if (d < 0 || d >= n) fail(std::string(op) + ": dimension out of range for shape " + shape_str(s));
  return d;
}
void outer_inner(const Shape& s, int64_t d, int64_t* outer, int64_t* inner) {
  *outer = 1, *inner = 1;
  for (int64_t i = 0; i < d; ++i) *outer *= s[i];
  for (size_t i = d + 1; i < s.size(); ++i) *inner *= s[i];
}
}  // namespace

Tensor reshape(const Tensor& a, const Shape& shape) { return a.reshape(shape); }

Tensor flatten(const Tensor& a, int64_t start_dim) {
  int64_t d = norm_dim("flatten", a.shape(), start_dim);
  Shape s(a.shape().begin(), a.shape().begin() + d);
  s.push_back(-1);
  return a.reshape(s);
}

Tensor concat(const std::vector<Tensor>& xs, int64_t dim) {
  if (xs.empty()) fail("concat: no tensors");
  const Shape& s0 = xs[0].shape();
  int64_t d = norm_dim("concat", s0, dim);
  Shape out = s0;
  out[d] = 0;
  for (auto& x : xs) {
    Shape a = x.shape(), b = s0;
    if (a.size() != b.size()) fail("concat: shapes " + shape_str(s0) + " and " + shape_str(a) + " differ in rank");
    a[d] = b[d] = 0;
    if (a != b) fail("concat: shapes " + shape_str(s0) + " and " + shape_str(x.shape()) + " differ outside dim " + std::to_string(d));
    out[d] += x.size(d);
  }
  int64_t outer, inner;
  outer_inner(out, d, &outer, &inner);
  Tensor y = Tensor::uninit(out);
  const int64_t yrow = out[d] * inner;
  int64_t off = 0;
  for (auto& x : xs) {
    const int64_t row = x.size(d) * inner;
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(y.data() + o * yrow + off, x.data() + o * row, sizeof(float) * row);
    off += row;
  }
  std::vector<Tensor> ins = xs;
  record(y, "concat", xs, [ins, d, outer, inner, yrow](const Tensor& gy) mutable {
    int64_t off = 0;
    for (auto& x : ins) {
      const int64_t row = x.size(d) * inner;
      if (x.requires_grad()) {
        float* gx = x.grad_data();
        for (int64_t o = 0; o < outer; ++o)
          for (int64_t i = 0; i < row; ++i) gx[o * row + i] += gy.data()[o * yrow + off + i];
      }
      off += row;
    }
  });
  return y;
}

std::vector<Tensor> split(const Tensor& a, const std::vector<int64_t>& sizes, int64_t dim) {
  int64_t d = norm_dim("split", a.shape(), dim);
  int64_t total = 0;
  for (auto s : sizes) total += s;
  if (total != a.size(d))
    fail("split: sizes add up to " + std::to_string(total) + " but dim " + std::to_string(d) + " of " +
         shape_str(a.shape()) + " is " + std::to_string(a.size(d)));
  int64_t outer, inner;
  outer_inner(a.shape(), d, &outer, &inner);
  const int64_t arow = a.size(d) * inner;
  std::vector<Tensor> out;
  int64_t off = 0;
  for (auto sz : sizes) {
    Shape s = a.shape();
    s[d] = sz;
    Tensor y = Tensor::uninit(s);
    const int64_t row = sz * inner;
    for (int64_t o = 0; o < outer; ++o) std::memcpy(y.data() + o * row, a.data() + o * arow + off, sizeof(float) * row);
    Tensor ca = a;
    record(y, "split", {a}, [ca, outer, row, arow, off](const Tensor& gy) mutable {
      float* ga = ca.grad_data();
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < row; ++i) ga[o * arow + off + i] += gy.data()[o * row + i];
    });
    out.push_back(y);
    off += row;
  }
  return out;
}

std::vector<Tensor> chunk(const Tensor& a, int64_t chunks, int64_t dim) {
  int64_t d = norm_dim("chunk", a.shape(), dim);
  if (chunks <= 0) fail("chunk: chunks must be positive");
  int64_t n = a.size(d), step = (n + chunks - 1) / chunks;
  std::vector<int64_t> sizes;
  for (int64_t o = 0; o < n; o += step) sizes.push_back(std::min(step, n - o));
  return split(a, sizes, d);
}

Tensor sum_dim(const Tensor& a, int64_t dim, bool keepdim) {
  int64_t d = norm_dim("sum_dim", a.shape(), dim);
  int64_t outer, inner, n = a.size(d);
  outer_inner(a.shape(), d, &outer, &inner);
  Shape s = a.shape();
  if (keepdim)
    s[d] = 1;
  else
    s.erase(s.begin() + d);
  Tensor y = Tensor::zeros(s);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < n; ++k)
      for (int64_t i = 0; i < inner; ++i) y.data()[o * inner + i] += a.data()[(o * n + k) * inner + i];
  Tensor ca = a;
  record(y, "sum_dim", {a}, [ca, outer, inner, n](const Tensor& gy) mutable {
    float* ga = ca.grad_data();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t k = 0; k < n; ++k)
        for (int64_t i = 0; i < inner; ++i) ga[(o * n + k) * inner + i] += gy.data()[o * inner + i];
  });
  return y;
}

Tensor mean_dim(const Tensor& a, int64_t dim, bool keepdim) {
  int64_t d = norm_dim("mean_dim", a.shape(), dim);
  if (a.size(d) == 0) fail("mean_dim: empty dimension in " + shape_str(a.shape()));
  return mul_scalar(sum_dim(a, d, keepdim), 1.0f / (float)a.size(d));
}

Tensor add_channel_bias(const Tensor& x, const Tensor& b) {
  if (x.dim() < 2 || b.dim() != 1 || b.size(0) != x.size(1))
    fail("add_channel_bias: bias " + shape_str(b.shape()) + " does not match channels of " + shape_str(x.shape()));
  int64_t outer, inner, c = x.size(1);
  outer_inner(x.shape(), 1, &outer, &inner);
  Tensor y = x.clone();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < c; ++k)
      for (int64_t i = 0; i < inner; ++i) y.data()[(o * c + k) * inner + i] += b.data()[k];
  Tensor cx = x, cb = b;
  record(y, "add_channel_bias", {x, b}, [cx, cb, outer, inner, c](const Tensor& gy) mutable {
    const float* g = gy.data();
    if (cx.requires_grad()) {
      float* gx = cx.grad_data();
      for (int64_t i = 0, n = cx.numel(); i < n; ++i) gx[i] += g[i];
    }
    if (cb.requires_grad()) {
      float* gb = cb.grad_data();
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t k = 0; k < c; ++k) {
          double s = 0;
          for (int64_t i = 0; i < inner; ++i) s += g[(o * c + k) * inner + i];
          gb[k] += (float)s;
        }
    }
  });
  return y;
}

}  // namespace fas
