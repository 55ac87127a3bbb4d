// Modules own named parameters (trainable, unless frozen) and buffers (never trainable, e.g.
// batch-norm running statistics), and child modules. Names are dotted paths: "block3.bn.gamma".
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace fas {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// Weight initialisation families for layers that own weights.
//   Keras: glorot_uniform weights, zero biases (the theses' Keras models).
//   Torch: kaiming_uniform(a=sqrt(5)) = U(+-1/sqrt(fan_in)) weights and biases (PyTorch default).
enum class Init { Keras, Torch };

class Module {
 public:
  virtual ~Module() = default;
  // Single-input, single-output forward. Models with several outputs add their own methods.
  virtual Tensor forward(const Tensor& x) = 0;
  virtual std::string type_name() const = 0;
  // Calls forward and reports the output to an active summary trace (layers/summary.h).
  Tensor operator()(const Tensor& x);

  NamedTensors named_parameters() const;  // recursive, including frozen ones
  NamedTensors named_buffers() const;     // recursive
  std::vector<Tensor> parameters() const;
  std::vector<Tensor> trainable_parameters() const;  // requires_grad == true
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const { return children_; }

  void train(bool on = true);  // recursive
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void freeze(bool frozen = true);  // recursive: parameters stop requiring grad
  void zero_grad();

  // Parameters and buffers by name. load_state_dict checks names and shapes and, when
  // strict, that nothing is missing or left over; errors name the tensor.
  std::map<std::string, Tensor> state_dict() const;
  void load_state_dict(const std::map<std::string, Tensor>& sd, bool strict = true);

  int64_t count_params(bool trainable) const;  // trainable: params needing grad; else frozen + buffers

 protected:
  Tensor& register_parameter(const std::string& name, Tensor t);
  Tensor& register_buffer(const std::string& name, Tensor t);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    children_.emplace_back(name, m);
    return m;
  }

 private:
  void collect(const std::string& prefix, bool params, NamedTensors& out) const;
  NamedTensors params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

// Runs its children in order.
class Sequential : public Module {
 public:
  Sequential() = default;
  template <class M>
  std::shared_ptr<M> add(const std::string& name, std::shared_ptr<M> m) {
    order_.push_back(m);
    return register_module(name, m);
  }
  template <class M>
  std::shared_ptr<M> add(std::shared_ptr<M> m) {
    return add(std::to_string(order_.size()), m);
  }
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Sequential"; }
  size_t size() const { return order_.size(); }
  std::shared_ptr<Module> at(size_t i) const { return order_.at(i); }

 private:
  std::vector<std::shared_ptr<Module>> order_;
};

// A summary trace collects (module, output shape) for every leaf module call inside it.
struct TraceEntry {
  const Module* module;
  Shape out_shape;
};
class SummaryTrace {
 public:
  SummaryTrace();
  ~SummaryTrace();
  std::vector<TraceEntry> entries;
  static SummaryTrace* active();
};

}  // namespace fas
