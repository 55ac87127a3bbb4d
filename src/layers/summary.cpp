#include "layers/summary.h"

#include <algorithm>
#include <array>
#include <map>
#include <sstream>
#include <vector>

#include "autograd/graph.h"

namespace fas {

namespace {

// Dotted path of every module below m (m itself is "").
void collect_names(Module& m, const std::string& prefix, std::map<const Module*, std::string>& names,
                   std::vector<std::pair<Module*, bool>>& modes) {
  names[&m] = prefix;
  modes.emplace_back(&m, m.is_training());
  for (auto& [n, c] : m.named_children()) collect_names(*c, prefix.empty() ? n : prefix + "." + n, names, modes);
}

std::string shape_with_none(const Shape& s) {
  std::string out = "(None";
  for (size_t i = 1; i < s.size(); ++i) out += ", " + std::to_string(s[i]);
  return out + (s.size() == 1 ? ",)" : ")");
}

int64_t own_count(const Module& m) {
  int64_t n = 0;
  for (auto& [name, t] : m.named_parameters()) n += t.numel();
  for (auto& [name, t] : m.named_buffers()) n += t.numel();
  return n;
}

}  // namespace

std::string with_thousands(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

std::string summary_table(Module& m, const Shape& input_shape) {
  if (input_shape.empty()) fail("summary_table: input shape must include the batch dimension");
  std::map<const Module*, std::string> names;
  std::vector<std::pair<Module*, bool>> modes;  // pre-order, so restoring in order is exact
  collect_names(m, "", names, modes);

  std::vector<TraceEntry> entries;
  m.eval();
  try {
    NoGradGuard ng;
    SummaryTrace trace;
    m(Tensor::zeros(input_shape));
    entries = trace.entries;
  } catch (...) {
    for (auto& [mod, on] : modes) mod->train(on);
    throw;
  }
  for (auto& [mod, on] : modes) mod->train(on);

  std::vector<std::array<std::string, 3>> rows;
  for (auto& e : entries) {
    auto it = names.find(e.module);
    std::string name = it == names.end() || it->second.empty() ? "(model)" : it->second;
    rows.push_back({name + " (" + e.module->type_name() + ")", shape_with_none(e.out_shape),
                    with_thousands(own_count(*e.module))});
  }
  const std::array<std::string, 3> head = {"Layer (type)", "Output Shape", "Param #"};
  size_t w0 = head[0].size(), w1 = head[1].size();
  for (auto& r : rows) w0 = std::max(w0, r[0].size()), w1 = std::max(w1, r[1].size());
  w0 += 3, w1 += 3;
  const size_t width = w0 + w1 + 12;
  auto line = [&](const std::array<std::string, 3>& r) {
    std::string s = r[0];
    s.resize(w0, ' ');
    s += r[1];
    s.resize(w0 + w1, ' ');
    return s + r[2] + "\n";
  };
  std::ostringstream os;
  os << "Model: \"" << m.type_name() << "\"\n" << std::string(width, '_') << "\n" << line(head)
     << std::string(width, '=') << "\n";
  for (size_t i = 0; i < rows.size(); ++i)
    os << line(rows[i]) << (i + 1 < rows.size() ? "\n" : "");
  const int64_t trainable = m.count_params(true), frozen = m.count_params(false);
  os << std::string(width, '=') << "\n"
     << "Total params: " << with_thousands(trainable + frozen) << "\n"
     << "Trainable params: " << with_thousands(trainable) << "\n"
     << "Non-trainable params: " << with_thousands(frozen) << "\n"
     << std::string(width, '_') << "\n";
  return os.str();
}

}  // namespace fas
