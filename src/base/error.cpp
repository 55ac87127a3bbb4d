#include "base/error.h"

namespace fas {

void fail(const std::string& msg) { throw Error(msg); }

}  // namespace fas
