// A Session runs a Model. It owns the arena (allocated once, sized for the dims' upper bounds)
// and is used by one thread at a time; make one Session per thread.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tessera/model.h"
#include "tessera/tensor.h"

namespace tessera {

struct SessionState;

struct SessionOptions {
  std::string backend = "auto";  // auto, reference, xnnpack or onednn (see available_backends())
  int threads = 1;               // threads inside each run()
  // What convolutions multiply in: "fp32", or "bf16" (the onednn backend only: inputs and weights
  // rounded to bfloat16, products summed in fp32; about twice as fast on CPUs with AVX512_BF16 or
  // AMX, at a loss of precision that docs/precision.md measures). Tiles stay bit-identical to the
  // whole image with either.
  std::string precision = "fp32";
};

// The backends linked into this program ("reference" always; "xnnpack" and "onednn" when their
// libraries are linked), and the one "auto" picks on this CPU for a precision (bf16: onednn when
// it is linked).
std::vector<std::string> available_backends();
std::string auto_backend(const std::string& precision = "fp32");

// Session::create's check of a precision against the backend that would run it ("auto" resolved):
// an unknown precision, or bf16 off onednn, is an InvalidArgument error that names the fix.
Status check_precision(const std::string& backend, const std::string& precision);

class Session {
 public:
  static Result<std::unique_ptr<Session>> create(std::shared_ptr<const Model> model,
                                                 const SessionOptions& options = {});
  ~Session();

  // Runs the model on inputs in the model's layout (NCHW for ONNX sources) whose dims lie in the
  // model's ranges. The returned outputs point into the session's arena and stay valid until the next
  // run(). A shape seen before costs no heap allocation.
  Result<std::span<const TensorView>> run(std::span<const ConstTensorView> inputs);

  const Model& model() const { return *model_; }
  int64_t arena_bytes() const;
  // The backend that runs this session ("auto" resolved), the memory it holds beyond the arena, and
  // the nodes it hands to the reference kernels.
  const std::string& backend() const;
  int64_t backend_bytes() const;
  std::vector<std::string> fallbacks() const;

  // The bytes of the arena that a run at an input of `height` x `width` holds resident: the arena is
  // reserved at the model's upper bound, and only the pages under what the backend writes at that
  // shape are ever touched. For a model whose (first) input is NCHW with a dynamic height and width;
  // sizes outside their ranges are a DimOutOfRange error.
  Result<int64_t> arena_resident_bytes(int64_t height, int64_t width) const;

 private:
  Session(std::shared_ptr<const Model> model, std::unique_ptr<SessionState> state);
  std::shared_ptr<const Model> model_;
  std::unique_ptr<SessionState> state_;
};

}  // namespace tessera
