// The C API (include/fas/fas_c.h) over the .fasm runtime: every entry point catches whatever the
// runtime throws and turns it into a status code and this thread's message.
#include "fas/fas_c.h"

#include <cmath>
#include <cstdio>
#include <new>
#include <string>
#include <vector>

#include "base/error.h"
#include "deploy/fasm.h"

struct fas_model {
  std::unique_ptr<fas::fasm::Runtime> rt;
  float logit = 0.f;
  bool ran = false;
};

namespace {

thread_local std::string g_error;

int set_error(int code, const std::string& msg) {
  g_error = msg;
  return code;
}

// Runs f, mapping exceptions to codes: fas::Error from the loader is a format error, other
// fas::Errors (e.g. a bad FAS_ISA) internal ones.
template <class F>
int guarded(int error_code, F&& f) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return set_error(FAS_E_MEMORY, "out of memory");
  } catch (const fas::Error& e) {
    return set_error(error_code, e.what());
  } catch (const std::exception& e) {
    return set_error(FAS_E_INTERNAL, e.what());
  } catch (...) {
    return set_error(FAS_E_INTERNAL, "unknown error");
  }
}

int load(const void* data, size_t size, fas_model** out) {
  return guarded(FAS_E_FORMAT, [&] {
    std::unique_ptr<fas_model> m(new fas_model);
    m->rt = fas::fasm::Runtime::load(static_cast<const uint8_t*>(data), size);
    *out = m.release();
    return FAS_OK;
  });
}

}  // namespace

extern "C" {

int fas_load_memory(const void* data, size_t size, fas_model** out) {
  if (!out) return set_error(FAS_E_ARGUMENT, "fas_load_memory: out is null");
  *out = nullptr;
  if (!data) return set_error(FAS_E_ARGUMENT, "fas_load_memory: data is null");
  return load(data, size, out);
}

int fas_load_file(const char* path, fas_model** out) {
  if (!out) return set_error(FAS_E_ARGUMENT, "fas_load_file: out is null");
  *out = nullptr;
  if (!path) return set_error(FAS_E_ARGUMENT, "fas_load_file: path is null");
  return guarded(FAS_E_IO, [&] {
    FILE* f = std::fopen(path, "rb");
    if (!f) return set_error(FAS_E_IO, std::string("cannot open '") + path + "'");
    std::vector<unsigned char> bytes;
    unsigned char chunk[1 << 16];
    for (size_t n; (n = std::fread(chunk, 1, sizeof chunk, f)) > 0;) bytes.insert(bytes.end(), chunk, chunk + n);
    const bool failed = std::ferror(f) != 0;
    std::fclose(f);
    if (failed) return set_error(FAS_E_IO, std::string("cannot read '") + path + "'");
    const int rc = load(bytes.data(), bytes.size(), out);
    if (rc != FAS_OK) g_error = std::string("'") + path + "': " + g_error;
    return rc;
  });
}

void fas_free(fas_model* model) { delete model; }

int fas_input_shape(const fas_model* m, int* c, int* h, int* w) {
  if (!m) return set_error(FAS_E_ARGUMENT, "fas_input_shape: model is null");
  if (c) *c = (int)m->rt->C;
  if (h) *h = (int)m->rt->H;
  if (w) *w = (int)m->rt->W;
  return FAS_OK;
}

const char* fas_model_kind(const fas_model* m) { return m ? fas::fasm::kind_name(m->rt->kind()) : nullptr; }

int fas_memory(const fas_model* m, size_t* total, size_t* arena) {
  if (!m) return set_error(FAS_E_ARGUMENT, "fas_memory: model is null");
  if (total) *total = m->rt->memory_bytes;
  if (arena) *arena = m->rt->arena_bytes;
  return FAS_OK;
}

int fas_run(fas_model* m, const float* image, size_t count) {
  if (!m || !image) return set_error(FAS_E_ARGUMENT, "fas_run: model or image is null");
  const size_t want = (size_t)(m->rt->C * m->rt->H * m->rt->W);
  if (count != want)
    return set_error(FAS_E_ARGUMENT, "fas_run: the image has " + std::to_string(count) + " values, the model takes " +
                                         std::to_string(m->rt->C) + "x" + std::to_string(m->rt->H) + "x" +
                                         std::to_string(m->rt->W) + " = " + std::to_string(want));
  return guarded(FAS_E_INTERNAL, [&] {
    m->logit = m->rt->logit(image);
    m->ran = true;
    return FAS_OK;
  });
}

int fas_scores(const fas_model* m, float* p_live, float* logit) {
  if (!m) return set_error(FAS_E_ARGUMENT, "fas_scores: model is null");
  if (!m->ran) return set_error(FAS_E_ARGUMENT, "fas_scores: no image has been run");
  if (p_live) *p_live = 1.f / (1.f + std::exp(-m->logit));  // the engines' predict()
  if (logit) *logit = m->logit;
  return FAS_OK;
}

const char* fas_last_error(void) { return g_error.c_str(); }

}  // extern "C"
