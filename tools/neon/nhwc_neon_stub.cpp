// Minimal stand-ins so nhwc.cpp links without the rest of the library.
#include <stdexcept>
#include <string>
#include "kernels/cpu.h"
namespace fas {
const char* isa_name(Isa) { return "?"; }
[[noreturn]] void fail(const std::string& m) { throw std::runtime_error(m); }
}
