// A small mixed-radix FFT (Stockham autosort; radix 4, 2, 3, 5 butterflies and a plain DFT for
// any other prime factor), unnormalised forward transform like numpy.fft.fft / fft2.
#pragma once
#include <complex>
#include <vector>

#include "iqa/plane.h"

namespace fas::iqa {

using cplx = std::complex<double>;

class Fft {
 public:
  explicit Fft(int n);
  int size() const { return n_; }
  // In-place forward DFT of x[0..n); work must hold n values.
  void forward(cplx* x, cplx* work) const;

 private:
  int n_;
  std::vector<int> radices_;
  std::vector<cplx> tw_;  // exp(-2 pi i t / n)
};

// The 2-D DFT Z of a + i b for two real planes a, b of one size (both spectra from one complex
// transform), stored transposed: at(y, x) = Z[y][x] is z[x * h + y], as the column pass leaves it
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
