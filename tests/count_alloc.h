// A counting global allocator for tests that prove a run allocates nothing: set g_count, run,
// read g_news. Include it in exactly one file of a test binary (it replaces operator new/delete).
// (GCC flags malloc/free inside replaced operator new/delete as mismatched; they are a pair.)
#pragma once
#include <atomic>
#include <cstdlib>
#include <new>

#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
static std::atomic<bool> g_count{false};
static std::atomic<long> g_news{0};
void* operator new(size_t n) {
  if (g_count.load(std::memory_order_relaxed)) g_news.fetch_add(1);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
