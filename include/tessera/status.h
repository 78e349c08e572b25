// Status and Result<T>: every fallible call in tessera returns one of these.
// Errors carry a code (for programs) and a message that names the thing and the fix (for people).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace tessera {

enum class Error {
  Ok = 0,
  InvalidArgument,     // a caller-supplied value is wrong (CLI flag, API argument)
  InputCountMismatch,  // run() got a different number of inputs than the model takes
  RankMismatch,        // an input has the wrong number of axes
  StaticDimMismatch,   // a fixed axis differs from the model's
  DimOutOfRange,       // a dynamic axis is outside [min, max]
  DimNotMultiple,      // a dynamic axis is not a multiple of its multiple_of
  DTypeMismatch,       // an input has the wrong element type
  InvalidModel,        // a model file or source model is malformed
  Unsupported,         // a valid source model uses something tessera does not support
  IoError,             // a file could not be read or written
  InvalidImage,        // an image file is corrupt, truncated or holds pixels tessera cannot use
  Cancelled,           // the caller stopped the run (e.g. Ctrl-C)
  OutOfMemory,         // the machine could not give the memory a run needs
  Internal,            // a broken invariant inside tessera (a bug)
};

const char* error_name(Error code);

// `text` (a name or path taken from a file) made safe to print on one line: control bytes, DEL,
// C1 controls, bidirectional overrides and bytes that are not valid UTF-8 become \xNN or \uNNNN;
// valid UTF-8 is kept. Messages quote names from files through it, and the command line prints
// every message through it, so an error is one line that cannot drive the terminal.
std::string printable(std::string_view text);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok_status() { return {}; }

  bool ok() const { return code_ == Error::Ok; }
  Error code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Error code_ = Error::Ok;
  std::string message_;
};

// Called when a Result that holds an error is read as a value: prints the error and aborts (a bug in
// the caller, which must check ok() first).
[[noreturn]] void result_value_on_error(const Status& status);
// The error a Result made from an OK status holds.
Status result_without_value();

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  // An OK status holds no value: such a Result holds an Internal error instead (a bug in the caller).
  Result(Status status) : status_(status.ok() ? result_without_value() : std::move(status)) {}  // NOLINT: implicit

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  // The value; reading it from a Result that holds an error aborts with the error's message.
  T& value() & { return checked(); }
  const T& value() const& { return checked(); }
  T&& value() && { return std::move(checked()); }
  T* operator->() { return &checked(); }
  const T* operator->() const { return &checked(); }
  T& operator*() & { return checked(); }
  const T& operator*() const& { return checked(); }
  T&& operator*() && { return std::move(checked()); }

 private:
  T& checked() {
    if (!value_) result_value_on_error(status_);
    return *value_;
  }
  const T& checked() const {
    if (!value_) result_value_on_error(status_);
    return *value_;
  }

  Status status_;
  std::optional<T> value_;
};

}  // namespace tessera

// Propagate a failed Status.
#define TESSERA_RETURN_IF_ERROR(expr)        \
  do {                                       \
    ::tessera::Status status_ = (expr);      \
    if (!status_.ok()) return status_;       \
  } while (0)

#define TESSERA_CONCAT_INNER(a, b) a##b
#define TESSERA_CONCAT(a, b) TESSERA_CONCAT_INNER(a, b)

// `TESSERA_ASSIGN_OR_RETURN(auto x, make_x());` unwraps a Result or propagates its Status.
#define TESSERA_ASSIGN_OR_RETURN(lhs, expr) \
  TESSERA_ASSIGN_OR_RETURN_IMPL(TESSERA_CONCAT(result_, __LINE__), lhs, expr)
#define TESSERA_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
