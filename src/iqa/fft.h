// A small mixed-radix FFT (Stockham autosort; radix 4, 2, 3, 5 butterflies and a plain DFT for
// any other prime factor), unnormalised forward transform like numpy.fft.fft / fft2.
#pragma once
#include <complex>
#include <vector>

#include "iqa/plane.h"
#include "iqa/simd.h"

namespace fas::iqa {

using cplx = std::complex<double>;

// A complex value, or eight of them in vector lanes (Cx8: eight transforms at once, each lane its
// own sequence; the scalar loop ran a third of a frame's W-IQA time at one value per operation).
template <class T>
struct alignas(sizeof(T)) Cx {  // alignas: see V8d
  T r, i;
};
using Cx8 = Cx<V8d>;

class Fft {
 public:
  explicit Fft(int n);
  int size() const { return n_; }
  // In-place forward DFT of x[0..n); work must hold n values. The plain reference of forward8.
  void forward(cplx* x, cplx* work) const;
  // Eight in-place forward DFTs, one per lane of x[0..n); work must hold n values. The same
  // butterflies as forward (the AVX2 / AVX-512 clones contract a * b + c into an FMA, so a lane
  // may differ from forward in the last bits).
  void forward8(Cx8* x, Cx8* work) const;

 private:
  int n_;
  std::vector<int> radices_;
  std::vector<cplx> tw_;  // exp(-2 pi i t / n)
};

// The 2-D DFT Z of a + i b for two real planes a, b of one size (both spectra from one complex
// transform: columns eight at a time, then rows eight at a time, forward8), stored transposed: at(y, x) = Z[y][x] is z[x * h + y], as the column pass leaves it
// (no transpose back). Unnormalised, DC at (0, 0), no shift. The storage is a Plane's recycled
// block (2 doubles per value, std::complex's array layout), so a frame costs no page faults.
struct Dft2Pair {
  int h = 0, w = 0;
  Plane store;
  cplx* z() { return reinterpret_cast<cplx*>(store.v.data()); }
  const cplx* z() const { return reinterpret_cast<const cplx*>(store.v.data()); }
  cplx at(int y, int x) const { return z()[(size_t)x * h + y]; }
  // A = DFT(a) and B = DFT(b) at (y, x), split by conjugate symmetry (a, b real):
  // A[k] = (Z[k] + conj Z[-k]) / 2, B[k] = (Z[k] - conj Z[-k]) / 2i.
  void split(int y, int x, cplx& A, cplx& B) const {
    const cplx zk = at(y, x), zc = std::conj(at(y ? h - y : 0, x ? w - x : 0)), d = zk - zc;
    A = 0.5 * (zk + zc);
    B = cplx(0.5 * d.imag(), -0.5 * d.real());
  }
};
Dft2Pair fft2_pair(const Plane& a, const Plane& b);

}  // namespace fas::iqa
