#include "layers/module.h"

#include <cstring>
#include <set>

namespace fas {

namespace {
thread_local SummaryTrace* g_trace = nullptr;
}
SummaryTrace::SummaryTrace() { g_trace = this; }
SummaryTrace::~SummaryTrace() { g_trace = nullptr; }
SummaryTrace* SummaryTrace::active() { return g_trace; }

Tensor Module::operator()(const Tensor& x) {
  Tensor y = forward(x);
  if (g_trace && children_.empty()) g_trace->entries.push_back({this, y.shape()});
  return y;
}

Tensor& Module::register_parameter(const std::string& name, Tensor t) {
  t.set_requires_grad(true);
  params_.emplace_back(name, t);
  return params_.back().second;
}

Tensor& Module::register_buffer(const std::string& name, Tensor t) {
  buffers_.emplace_back(name, t);
  return buffers_.back().second;
}

void Module::collect(const std::string& prefix, bool params, NamedTensors& out) const {
  for (auto& [n, t] : params ? params_ : buffers_) out.emplace_back(prefix + n, t);
  for (auto& [n, c] : children_) c->collect(prefix + n + ".", params, out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", true, out);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", false, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_parameters()) out.push_back(t);
  return out;
}

std::vector<Tensor> Module::trainable_parameters() const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_parameters())
    if (t.requires_grad()) out.push_back(t);
  return out;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [n, c] : children_) c->train(on);
}

void Module::freeze(bool frozen) {
  for (auto& [n, t] : params_) t.set_requires_grad(!frozen);
  for (auto& [n, c] : children_) c->freeze(frozen);
}

void Module::zero_grad() {
  for (auto& t : parameters()) t.zero_grad();
}

std::map<std::string, Tensor> Module::state_dict() const {
  std::map<std::string, Tensor> sd;
  for (auto& [n, t] : named_parameters()) sd[n] = t;
  for (auto& [n, t] : named_buffers()) sd[n] = t;
  return sd;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& sd, bool strict) {
  auto mine = state_dict();
  std::set<std::string> used;
  for (auto& [n, t] : mine) {
    auto it = sd.find(n);
    if (it == sd.end()) {
      if (strict) fail("load_state_dict: missing tensor '" + n + "'");
      continue;
    }
    if (it->second.shape() != t.shape())
      fail("load_state_dict: tensor '" + n + "' has shape " + shape_str(it->second.shape()) +
           ", model expects " + shape_str(t.shape()));
    Tensor dst = t;
    copy_into(dst, it->second);
    used.insert(n);
  }
  if (strict)
    for (auto& [n, t] : sd)
      if (!mine.count(n)) fail("load_state_dict: unexpected tensor '" + n + "'");
}

int64_t Module::count_params(bool trainable) const {
  int64_t n = 0;
  for (auto& [name, t] : named_parameters())
    if (t.requires_grad() == trainable) n += t.numel();
  if (!trainable)
    for (auto& [name, t] : named_buffers()) n += t.numel();
  return n;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (auto& m : order_) h = (*m)(h);
  return h;
}

}  // namespace fas
