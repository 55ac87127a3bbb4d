// Small dense float64 linear algebra for the NSS models and the LDA (row-major n x n).
#pragma once
#include <vector>

namespace fas::iqa {

// Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations: a = V diag(w) V^T,
// V row-major with eigenvectors in columns.
void sym_eigen(std::vector<double> a, int n, std::vector<double>& w, std::vector<double>& V);
// Moore-Penrose pseudo-inverse of a symmetric matrix (numpy.linalg.pinv's cutoff: eigenvalues
// below 1e-15 x the largest magnitude are dropped).
std::vector<double> pinv_sym(const std::vector<double>& a, int n);
// x^T a x.
double quad_form(const std::vector<double>& a, const std::vector<double>& x);
// Solves a x = b for symmetric positive definite a (Cholesky); a non-SPD matrix is a fas::Error.
std::vector<double> spd_solve(std::vector<double> a, int n, std::vector<double> b);

}  // namespace fas::iqa
