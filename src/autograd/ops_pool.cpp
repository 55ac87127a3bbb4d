// Pooling and nearest upsampling ops (kernels/pool.h: threaded drivers, SIMD 2x2 fast paths).
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "autograd/graph.h"
#include "autograd/ops.h"
#include "kernels/cpu.h"
#include "kernels/pool.h"

namespace fas {

namespace {

void check_nchw(const char* op, const Tensor& x) {
  if (!x.defined() || x.dim() != 4) fail(std::string(op) + ": expected input [N, C, H, W], got " +
                                          (x.defined() ? shape_str(x.shape()) : std::string("undefined")));
}

// Validates the arguments against x and returns the kernel geometry.
PoolGeom pool_geom(const char* op, const Tensor& x, const Pool2dArgs& a) {
  check_nchw(op, x);
  const std::string where = std::string(op) + ": input " + shape_str(x.shape()) + ", kernel " +
                            std::to_string(a.kh) + "x" + std::to_string(a.kw) + ", stride " +
                            std::to_string(a.stride_h) + "x" + std::to_string(a.stride_w);
  if (a.kh < 1 || a.kw < 1 || a.stride_h < 1 || a.stride_w < 1) fail(where + ": kernel and stride must be >= 1");
  if (a.pad_top < 0 || a.pad_bottom < 0 || a.pad_left < 0 || a.pad_right < 0) fail(where + ": negative padding");
  // Padding smaller than the kernel on every side guarantees each window holds a real pixel,
  // so "padding never wins" is well defined and avg pool never divides by zero.
  if (a.pad_top >= a.kh || a.pad_bottom >= a.kh || a.pad_left >= a.kw || a.pad_right >= a.kw)
    fail(where + ": padding must be smaller than the kernel");
  const int64_t H = x.size(2), W = x.size(3);
  const int64_t hp = H + a.pad_top + a.pad_bottom, wp = W + a.pad_left + a.pad_right;
  if (hp < a.kh || wp < a.kw) fail(where + ": kernel larger than the padded input");
  return PoolGeom{x.size(0) * x.size(1), H, W, (hp - a.kh) / a.stride_h + 1, (wp - a.kw) / a.stride_w + 1,
                  a.kh, a.kw, a.stride_h, a.stride_w, a.pad_top, a.pad_left};
}

}  // namespace

Pool2dArgs pool_args_same(int64_t in_h, int64_t in_w, int kh, int kw, int stride_h, int stride_w) {
  if (in_h < 1 || in_w < 1 || kh < 1 || kw < 1 || stride_h < 1 || stride_w < 1)
    fail("pool_args_same: sizes, kernel and stride must be >= 1 (input " + std::to_string(in_h) + "x" +
         std::to_string(in_w) + ")");
  // TF "SAME": out = ceil(in / s); total padding (out-1)*s + k - in, the odd pixel at the end.
  auto pads = [](int64_t in, int k, int s, int* before, int* after) {
    const int64_t out = (in + s - 1) / s;
    const int64_t total = std::max<int64_t>((out - 1) * s + k - in, 0);
    *before = (int)(total / 2);
    *after = (int)(total - total / 2);
  };
  Pool2dArgs a;
  a.kh = kh, a.kw = kw, a.stride_h = stride_h, a.stride_w = stride_w;
  pads(in_h, kh, stride_h, &a.pad_top, &a.pad_bottom);
  pads(in_w, kw, stride_w, &a.pad_left, &a.pad_right);
  a.count_include_pad = false;  // TF averages over the valid pixels only
  return a;
}

Tensor max_pool2d(const Tensor& x, const Pool2dArgs& args) {
  const PoolGeom g = pool_geom("max_pool2d", x, args);
  Tensor y = Tensor::uninit({x.size(0), x.size(1), g.oh, g.ow});
  if (!needs_grad({&x})) {  // inference: no argmax bookkeeping
    maxpool2d(x.data(), g, y.data(), nullptr, num_threads());
    return y;
  }
  // The int32 argmax lives in an uninitialised tensor's storage (same size as float, only ever
  // accessed as int32): the kernel writes every entry, and large blocks are recycled per step.
  Tensor argmax = Tensor::uninit({y.numel()});
  static_assert(sizeof(int32_t) == sizeof(float), "argmax shares float storage");
  maxpool2d(x.data(), g, y.data(), reinterpret_cast<int32_t*>(argmax.data()), num_threads());
  Tensor cx = x;
  record(y, "max_pool2d", {x}, [cx, g, argmax](const Tensor& gy) mutable {
    maxpool2d_backward(gy.data(), reinterpret_cast<const int32_t*>(argmax.data()), g, cx.grad_data(), num_threads());
  });
  return y;
}

Tensor avg_pool2d(const Tensor& x, const Pool2dArgs& args) {
  const PoolGeom g = pool_geom("avg_pool2d", x, args);
  Tensor y = Tensor::uninit({x.size(0), x.size(1), g.oh, g.ow});
  const bool inc = args.count_include_pad;
  f32_avgpool2d(x.data(), g, inc, y.data());
  Tensor cx = x;
  record(y, "avg_pool2d", {x}, [cx, g, inc](const Tensor& gy) mutable {
    f32_avgpool2d_backward(gy.data(), g, inc, cx.grad_data());
  });
  return y;
}

Tensor global_avg_pool2d(const Tensor& x) {
  check_nchw("global_avg_pool2d", x);
  const int64_t planes = x.size(0) * x.size(1), size = x.size(2) * x.size(3);
  if (size == 0) fail("global_avg_pool2d: empty spatial size in " + shape_str(x.shape()));
  Tensor y = Tensor::uninit({x.size(0), x.size(1)});
  f32_global_avgpool(x.data(), planes, size, y.data());
  Tensor cx = x;
  record(y, "global_avg_pool2d", {x}, [cx, planes, size](const Tensor& gy) mutable {
    f32_global_avgpool_backward(gy.data(), planes, size, cx.grad_data());
  });
  return y;
}

Tensor upsample_nearest2d(const Tensor& x, int scale_h, int scale_w) {
  check_nchw("upsample_nearest2d", x);
  if (scale_h < 1 || scale_w < 1)
    fail("upsample_nearest2d: scale must be >= 1, got " + std::to_string(scale_h) + "x" + std::to_string(scale_w) +
         " for input " + shape_str(x.shape()));
  const int64_t planes = x.size(0) * x.size(1), H = x.size(2), W = x.size(3);
  Tensor y = Tensor::uninit({x.size(0), x.size(1), H * scale_h, W * scale_w});
  upsample_nearest2d(x.data(), planes, H, W, scale_h, scale_w, y.data(), num_threads());
  Tensor cx = x;
  record(y, "upsample_nearest2d", {x}, [cx, planes, H, W, scale_h, scale_w](const Tensor& gy) mutable {
    upsample_nearest2d_backward(gy.data(), planes, H, W, scale_h, scale_w, cx.grad_data(), num_threads());
  });
  return y;
}

}  // namespace fas
