// The one error type of fas: every error reported to a user is a fas::Error with one clear
// message. A base header of its own, so kernels (pure compute on raw pointers) report errors
// without depending on the tensor.
#pragma once
#include <stdexcept>
#include <string>

namespace fas {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
[[noreturn]] void fail(const std::string& msg);
#define FAS_CHECK(cond, msg)                    \
  do {                                          \
    if (!(cond)) ::fas::fail(std::string(msg)); \
  } while (0)

}  // namespace fas
