// Reverse-mode autograd. Every differentiable op computes its output eagerly and, when grad
// mode is on and some input requires grad, records a Node: its inputs and a closure that adds
// the input gradients (+=, llm.c style) given the output gradient; a closure that writes a whole
// input gradient at once may instead take Tensor::grad_for_write and assign when it is the first
// writer. backward() runs the nodes reachable from the root in reverse topological order — a
// tape recorded by execution.
#pragma once
#include <functional>
#include <vector>

#include "tensor/tensor.h"

namespace fas {

// gy: the gradient of the node's output (contiguous, same shape as the output).
using BackwardFn = std::function<void(const Tensor& gy)>;

struct Node {
  const char* name = "";
  std::vector<Tensor> inputs;  // keeps inputs (and their history) alive until backward
  BackwardFn backward;
};

bool grad_enabled();
// RAII: inside, no op records history (inference, optimizer updates, target networks).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// RAII: inside, ops record history again, e.g. an optimisation over inputs (a latent code's
// projection) run from code that is itself under a NoGradGuard.
class EnableGradGuard {
 public:
  EnableGradGuard();
  ~EnableGradGuard();
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool prev_;
};

// True when an op on these inputs must record history.
bool needs_grad(std::initializer_list<const Tensor*> inputs);
bool needs_grad(const std::vector<Tensor>& inputs);

// Attach history to y (y must be freshly made by the op). No-op unless needs_grad(inputs).
void record(Tensor& y, const char* name, std::vector<Tensor> inputs, BackwardFn fn);

// Called during run_backward with each leaf (a tensor that requires grad and has no history:
// a parameter) as soon as its gradient for this pass is final — every node that uses it has run —
// so data-parallel training can start reducing it while the rest of the backward pass runs.
// Leaves become ready in an order fixed by the graph (the same on every rank for the same graph).
using LeafGradReady = std::function<void(TensorImpl* leaf)>;
// RAII: installs hook for the backward passes run inside its scope (this thread).
class LeafGradHook {
 public:
  explicit LeafGradHook(LeafGradReady hook);
  ~LeafGradHook();
  LeafGradHook(const LeafGradHook&) = delete;
  LeafGradHook& operator=(const LeafGradHook&) = delete;

 private:
  LeafGradReady prev_;
};

// Runs backward from root seeded with seed. Frees the graph (nodes and non-leaf grads)
// as it goes, like PyTorch without retain_graph.
void run_backward(const Tensor& root, const Tensor& seed);

}  // namespace fas
