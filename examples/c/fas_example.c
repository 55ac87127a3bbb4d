/* Scores face crops with a model exported by `fas export`, through the C API (fas/fas_c.h).
 *   fas_example MODEL.fasm IMAGE.ppm...
 * Images: binary PPM (P6, RGB) or PGM (P5, grey), 8 bits, exactly the model's input size (the
 * bundled face_live.ppm / face_spoof.ppm are 128x128 NUAA crops from data/sample/). Prints one
 * line per image: "IMAGE P(live) = P logit = L"; exit code 1 with "fas_example: error: ..." on
 * any failure. The pixel buffer is this program's; the library allocates only at load.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fas/fas_c.h"

static int fail(const char* what, const char* detail) {
  fprintf(stderr, "fas_example: error: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  return 1;
}

/* Reads a P6/P5 image of exactly c x h x w into out [c][h][w] as value / 255. */
static int read_pnm(const char* path, int c, int h, int w, float* out) {
  FILE* f = fopen(path, "rb");
  if (!f) return fail("cannot open", path);
  char magic[3] = {0};
  int iw = 0, ih = 0, maxv = 0;
  int ok = fscanf(f, "%2s %d %d %d", magic, &iw, &ih, &maxv) == 4 && fgetc(f) != EOF;
  const int ic = strcmp(magic, "P6") == 0 ? 3 : strcmp(magic, "P5") == 0 ? 1 : 0;
  if (!ok || ic == 0 || maxv != 255) {
    fclose(f);
    return fail("not an 8-bit binary PPM/PGM", path);
  }
  if (ic != c || ih != h || iw != w) {
    fclose(f);
    fprintf(stderr, "fas_example: error: %s is %dx%dx%d, the model takes %dx%dx%d\n", path, ic, ih, iw, c, h, w);
    return 1;
  }
  const size_t n = (size_t)c * h * w;
  unsigned char* px = malloc(n);
  if (!px) {
    fclose(f);
    return fail("out of memory", NULL);
  }
  const size_t got = fread(px, 1, n, f);
  fclose(f);
  if (got != n) {
    free(px);
    return fail("truncated image", path);
  }
  for (size_t i = 0; i < (size_t)h * w; ++i) /* interleaved HWC -> planar CHW */
    for (int k = 0; k < c; ++k) out[k * (size_t)h * w + i] = (float)px[i * c + k] / 255.f;
  free(px);
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: fas_example MODEL.fasm IMAGE.ppm...\n");
    return 1;
  }
  fas_model* model = NULL;
  if (fas_load_file(argv[1], &model) != FAS_OK) return fail(fas_last_error(), NULL);
  int c, h, w;
  size_t total, arena;
  fas_input_shape(model, &c, &h, &w);
  fas_memory(model, &total, &arena);
  printf("%s: %s, input %dx%dx%d, %zu bytes at load (arena %zu)\n", argv[1], fas_model_kind(model), c, h, w, total,
         arena);
  const size_t n = (size_t)c * h * w;
  float* image = malloc(n * sizeof *image);
  int rc = image ? 0 : fail("out of memory", NULL);
  for (int i = 2; i < argc && rc == 0; ++i) {
    float p, logit;
    if ((rc = read_pnm(argv[i], c, h, w, image)) != 0) break;
    if (fas_run(model, image, n) != FAS_OK || fas_scores(model, &p, &logit) != FAS_OK) {
      rc = fail(fas_last_error(), NULL);
      break;
    }
    printf("%s P(live) = %.9g logit = %.9g\n", argv[i], p, logit);
  }
  free(image);
  fas_free(model);
  return rc;
}
