// tools/tsan.sh's canary: a racy OpenMP loop (every thread adds to one variable) that
// ThreadSanitizer must report under the same libomp/Archer settings as the tests, and a
// race-free reduction over the written array that it must not. If either fails, the TSan
// run of the tests proves nothing.
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  const bool racy = argc > 1 && std::strcmp(argv[1], "racy") == 0;
  static double a[4096];
  long sum = 0;
#pragma omp parallel for
  for (int i = 0; i < 4096; ++i) {
    a[i] = i;
    if (racy) sum += i;  // unsynchronised read-modify-write from every thread
  }
  long total = 0;
#pragma omp parallel for reduction(+ : total)
  for (int i = 0; i < 4096; ++i) total += (long)a[i];
  std::printf("%ld %ld\n", sum, total);
  return 0;
}
