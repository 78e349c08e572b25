#include "tessera/status.h"

#include <cstdio>
#include <cstdlib>

namespace tessera {

const char* error_name(Error code) {
  switch (code) {
    case Error::Ok: return "ok";
    case Error::InvalidArgument: return "invalid argument";
    case Error::InputCountMismatch: return "input count mismatch";
    case Error::RankMismatch: return "rank mismatch";
    case Error::StaticDimMismatch: return "static dim mismatch";
    case Error::DimOutOfRange: return "dim out of range";
    case Error::DimNotMultiple: return "dim not a multiple";
    case Error::DTypeMismatch: return "dtype mismatch";
    case Error::InvalidModel: return "invalid model";
    case Error::Unsupported: return "unsupported";
    case Error::IoError: return "I/O error";
    case Error::InvalidImage: return "invalid image";
    case Error::Cancelled: return "cancelled";
    case Error::OutOfMemory: return "out of memory";
    case Error::Internal: return "internal error";
  }
  return "unknown error";
}

Status result_without_value() {
  return Status(Error::Internal, "a Result was made from an OK status, without a value (a bug in tessera)");
}

void result_value_on_error(const Status& status) {
  std::fprintf(stderr, "tessera: the value of a Result was read, but it holds an error (check ok() first): [%s] %s\n",
               error_name(status.code()), status.message().c_str());
  std::abort();
}

}  // namespace tessera
