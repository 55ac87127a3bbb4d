/* fas C API: run a liveness model exported by `fas export` (a .fasm file) on a caller's image.
 *
 * Built by both the full library and the minimal deployment build (cmake -DFAS_MINIMAL=ON:
 * libfas_min.a, no OpenBLAS, OpenMP or JSON; docs/deploy.md). Every function returns FAS_OK or
 * an error code; fas_last_error() then holds a one-line message. No exception crosses the API.
 * All memory a model needs (its weights and the activation arena planned at export) is
 * allocated by the load call; fas_run allocates nothing. A handle is used by one thread at a
 * time; separate handles run concurrently.
 */
#ifndef FAS_C_H
#define FAS_C_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fas_model fas_model;

enum fas_status {
  FAS_OK = 0,
  FAS_E_ARGUMENT = 1, /* a null pointer, or an input of the wrong size */
  FAS_E_IO = 2,       /* the file cannot be opened or read */
  FAS_E_FORMAT = 3,   /* not a valid .fasm model: foreign, truncated, corrupt or another version */
  FAS_E_MEMORY = 4,   /* the allocation at load failed */
  FAS_E_INTERNAL = 5  /* anything else (e.g. FAS_ISA names a kernel path this CPU lacks) */
};

/* Load a model from a file or from size bytes at data (copied; data may be freed after). */
int fas_load_file(const char* path, fas_model** out);
int fas_load_memory(const void* data, size_t size, fas_model** out);
void fas_free(fas_model* model); /* null is allowed */

/* The input: one image [channels][height][width], float, values in [0, 1] (8-bit / 255). */
int fas_input_shape(const fas_model* model, int* channels, int* height, int* width);
/* "mobilenetv2-lite float", "mobilenetv2-lite int8" or "lbp-lr" (null for a null model). */
const char* fas_model_kind(const fas_model* model);
/* Bytes allocated at load (weights, plan and arena) and the activation arena alone. */
int fas_memory(const fas_model* model, size_t* total_bytes, size_t* arena_bytes);

/* Runs one image; count must be channels * height * width. */
int fas_run(fas_model* model, const float* image, size_t count);
/* The scores of the last fas_run: P(live) and the live logit (either pointer may be null). */
int fas_scores(const fas_model* model, float* p_live, float* logit);

/* The message of this thread's last failed call ("" if none). */
const char* fas_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* FAS_C_H */
