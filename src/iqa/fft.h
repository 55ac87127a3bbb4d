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

// The 2-D DFTs of two real planes of one size in one complex transform (pack a + i b, then split
// by conjugate symmetry). Results are h x w row-major, DC at (0, 0) (no shift).
void fft2_pair(const Plane& a, const Plane& b, std::vector<cplx>& A, std::vector<cplx>& B);

}  // namespace fas::iqa
