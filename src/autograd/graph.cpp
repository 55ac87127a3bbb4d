#include "autograd/graph.h"

#include <cstring>
#include <unordered_map>
#include <unordered_set>

namespace fas {

namespace {
thread_local bool g_grad_enabled = true;
thread_local LeafGradReady g_leaf_ready;

bool is_leaf(const TensorImpl* t) { return t && t->requires_grad && !t->grad_fn; }

// How many of the nodes about to run use each leaf: a leaf is ready when its count reaches 0.
std::unordered_map<TensorImpl*, int> leaf_uses(const std::vector<TensorImpl*>& order) {
  std::unordered_map<TensorImpl*, int> uses;
  for (TensorImpl* t : order)
    if (t->grad_fn)
      for (const Tensor& in : t->grad_fn->inputs)
        if (is_leaf(in.impl())) ++uses[in.impl()];
  return uses;
}
}  // namespace

LeafGradHook::LeafGradHook(LeafGradReady hook) : prev_(std::move(g_leaf_ready)) { g_leaf_ready = std::move(hook); }
LeafGradHook::~LeafGradHook() { g_leaf_ready = std::move(prev_); }

bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : prev_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = prev_; }
EnableGradGuard::EnableGradGuard() : prev_(g_grad_enabled) { g_grad_enabled = true; }
EnableGradGuard::~EnableGradGuard() { g_grad_enabled = prev_; }

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor* t : inputs)
    if (t && t->defined() && t->requires_grad()) return true;
  return false;
}

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

void record(Tensor& y, const char* name, std::vector<Tensor> inputs, BackwardFn fn) {
  if (!needs_grad(inputs)) return;
  auto node = std::make_shared<Node>();
  node->name = name;
  node->inputs = std::move(inputs);
  node->backward = std::move(fn);
  y.impl()->grad_fn = std::move(node);
  y.impl()->requires_grad = true;
}

void run_backward(const Tensor& root, const Tensor& seed) {
  // Iterative DFS post-order over tensors with history gives a topological order;
  // deep nets (17 blocks × several ops) would overflow a recursive walk's stack less
  // gracefully than this.
  std::vector<TensorImpl*> order;
  std::unordered_set<TensorImpl*> seen;
  std::unordered_map<TensorImpl*, std::shared_ptr<TensorImpl>> keep;  // keep impls alive
  std::vector<std::pair<TensorImpl*, size_t>> stack;
  stack.push_back({root.impl(), 0});
  seen.insert(root.impl());
  while (!stack.empty()) {
    auto& [t, next] = stack.back();
    Node* n = t->grad_fn.get();
    if (n && next < n->inputs.size()) {
      const Tensor& in = n->inputs[next++];
      TensorImpl* c = in.impl();
      if (c && c->requires_grad && c->grad_fn && !seen.count(c)) {
        seen.insert(c);
        keep[c] = in.impl_ptr();
        stack.push_back({c, 0});
      }
      continue;
    }
    order.push_back(t);
    stack.pop_back();
  }
  // Seed.
  Tensor r = root;
  bool fresh;
  float* g = r.grad_for_write(&fresh);  // a fresh gradient is the seed (no zero pass, no add)
  const float* s = seed.data();
  const int64_t n = r.numel();
  if (fresh)
    std::memcpy(g, s, sizeof(float) * (size_t)n);
  else
    for (int64_t i = 0; i < n; ++i) g[i] += s[i];
  std::unordered_map<TensorImpl*, int> uses;
  if (g_leaf_ready) uses = leaf_uses(order);
  // Reverse topological order: every consumer runs before its producer.
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    TensorImpl* t = *it;
    std::shared_ptr<Node> node = std::move(t->grad_fn);
    if (!node) continue;
    Tensor gy = t->grad ? Tensor(t->grad) : Tensor::zeros(t->shape);
    node->backward(gy);
    t->grad.reset();  // non-leaf gradient is no longer needed
    if (g_leaf_ready)
      for (const Tensor& in : node->inputs) {
        auto u = uses.find(in.impl());
        if (u != uses.end() && --u->second == 0) g_leaf_ready(in.impl());
      }
  }
}

// Tensor::backward (tensor.h) is the graph's entry point; defined here so the tensor does not
// depend on the graph.
void Tensor::backward() {
  if (numel() != 1) fail("backward: implicit seed needs a one-element tensor, got shape " + shape_str(shape()));
  backward(Tensor::ones(shape()));
}

void Tensor::backward(const Tensor& grad_out) {
  if (grad_out.shape() != shape())
    fail("backward: seed shape " + shape_str(grad_out.shape()) + " differs from tensor shape " + shape_str(shape()));
  if (!requires_grad()) fail("backward: tensor does not require grad (no parameter or input in its history requires grad)");
  run_backward(*this, grad_out);
}

}  // namespace fas
