#include "tessera/status.h"

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
    case Error::Internal: return "internal error";
  }
  return "unknown error";
}

}  // namespace tessera
