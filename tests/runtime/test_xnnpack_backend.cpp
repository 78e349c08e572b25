// The XNNPACK backend's own properties (the checks against PyTorch and tiled == full run on every
// backend in test_models_vs_pytorch.cpp and test_tiling.cpp): the same bits on any thread count; no
// heap allocation in run() for a shape it is set up for; the nodes it hands to the reference kernels;
// its memory plan, which writes Concat pieces into the Concat.
#include <algorithm>
#include <cstring>
#include <random>

#include "allocation_counter.h"
#include "backends/xnnpack/xnnpack_backend.h"
#include "runtime/backend.h"
#include "runtime/model_data.h"
#include "tessera/tiling.h"
#include "runtime_support.h"

namespace tessera::testing {
namespace {

std::unique_ptr<Session> xnnpack_session(std::shared_ptr<const Model> model, int threads) {
  Result<std::unique_ptr<Session>> session = Session::create(std::move(model), SessionOptions{"xnnpack", threads});
  EXPECT_TRUE(session.ok()) << session.status().message();
  return session.ok() ? std::move(session).value() : nullptr;
}

// One image on 1, 2 and 3 threads: the same bits (XNNPACK splits work, never sums, across threads).
TEST(XnnpackBackend, ThreadCountDoesNotChangeTheBits) {
  TESSERA_SKIP_WITHOUT_BACKEND("xnnpack");
  std::shared_ptr<const Model> model = load_test_model(test_model("unet"));
  ASSERT_TRUE(model);
  Tensor image = random_image(3, 200, 148, 5);
  ConstTensorView view = image.view();
  std::vector<Tensor> outputs;
  for (int threads : {1, 2, 3}) {
    std::unique_ptr<Session> session = xnnpack_session(model, threads);
    ASSERT_TRUE(session);
    Result<std::span<const TensorView>> out = session->run({&view, 1});
    ASSERT_TRUE(out.ok()) << out.status().message();
    outputs.push_back(copy_of((*out)[0]));
  }
  EXPECT_EQ(bit_differences(outputs[0], outputs[1]), 0);
  EXPECT_EQ(bit_differences(outputs[0], outputs[2]), 0);
}

// ---------------------------------------------------------------------------------------------------
// No heap allocation in run() once set up for a shape, counting operator new and the C allocator
// (XNNPACK and pthreadpool are C). Models with XNNPACK operators, own kernels (Concat, nearest Resize)
// and a reference fallback (Tanh); 1 and 2 threads.

TEST(XnnpackBackend, RunAllocatesNothingForAShapeItIsSetUpFor) {
  TESSERA_SKIP_WITHOUT_BACKEND("xnnpack");
  for (const char* name : {"unet", "sr_pixelshuffle", "op_add_tensors", "se_block"}) {
    std::shared_ptr<const Model> model = load_test_model(test_model(name));
    ASSERT_TRUE(model);
    const int64_t channels = model->data().upper_shapes[model->data().graph.inputs[0]][1];
    Tensor a = random_image(channels, 64, 48, 1), b = random_image(channels, 32, 40, 2);
    for (int threads : {1, 2}) {
      std::unique_ptr<Session> session = xnnpack_session(model, threads);
      ASSERT_TRUE(session);
      ConstTensorView va = a.view(), vb = b.view();
      ASSERT_TRUE(session->run({&va, 1}).ok());
      ASSERT_TRUE(session->run({&vb, 1}).ok());  // a new shape: XNNPACK sets its operators up again
      long new_calls, c_calls;
      bool ok;
      {
        AllocationCounter counter;
        Result<std::span<const TensorView>> out = session->run({&vb, 1});
        ok = out.ok();
        new_calls = counter.count();
        c_calls = counter.c_count();
      }
      ASSERT_TRUE(ok);
      EXPECT_EQ(new_calls, 0) << name << ", " << threads << " threads: operator new in run()";
      EXPECT_EQ(c_calls, 0) << name << ", " << threads << " threads: malloc & co in run()";
    }
  }
}

// The counter sees XNNPACK's own allocations (C, through its default allocator), so the zero above
// means something: creating operators and setting them up for a new shape do allocate.
TEST(XnnpackBackend, AllocationCounterSeesXnnpack) {
  TESSERA_SKIP_WITHOUT_BACKEND("xnnpack");
  std::shared_ptr<const Model> model = load_test_model(test_model("tiny"));
  ASSERT_TRUE(model);
  Tensor image = random_image(1, 256, 256, 3);
  ConstTensorView view = image.view();
  std::unique_ptr<Session> session;
  long create_calls, setup_calls;
  {
    AllocationCounter counter;
    session = xnnpack_session(model, 1);
    create_calls = counter.c_count();
  }
  ASSERT_TRUE(session);
  {
    AllocationCounter counter;
    ASSERT_TRUE(session->run({&view, 1}).ok());
    setup_calls = counter.c_count();
  }
  EXPECT_GT(create_calls, 0);
  EXPECT_GT(setup_calls, 0) << "a first run sets XNNPACK's operators up: indirection buffers";
}

// ---------------------------------------------------------------------------------------------------
// What falls back to the reference kernels, and what does not.

std::vector<std::string> fallbacks_of(const std::string& name) {
  std::shared_ptr<const Model> model = load_test_model(test_model(name));
  EXPECT_TRUE(model);
  if (!model) return {"no model"};
  std::unique_ptr<Session> session = xnnpack_session(model, 1);
  return session ? session->fallbacks() : std::vector<std::string>{"no session"};
}

TEST(XnnpackBackend, FallbacksNameTheNodesItDoesNotMap) {
  TESSERA_SKIP_WITHOUT_BACKEND("xnnpack");
  using List = std::vector<std::string>;
  EXPECT_EQ(fallbacks_of("op_tanh"), List{"Tanh '/Tanh'"});  // no f32 tanh in this XNNPACK
  EXPECT_EQ(fallbacks_of("op_hardsigmoid"), List{"HardSigmoid '/HardSigmoid'"});
  EXPECT_EQ(fallbacks_of("op_pad_reflect"), List{"Pad '/Pad'"});
  EXPECT_EQ(fallbacks_of("op_reduce_mean"), List{"ReduceMean '/ReduceMean'"});
  // A CRD DepthToSpace of the graph input: no conv whose channels could be reordered into DCR.
  EXPECT_EQ(fallbacks_of("op_pixelshuffle2"), List{"DepthToSpace '/DepthToSpace'"});
}

TEST(XnnpackBackend, NoFallbacksForConvNetworks) {
  TESSERA_SKIP_WITHOUT_BACKEND("xnnpack");
  // tiny: Conv + fused Relu; sr_pixelshuffle: CRD DepthToSpace after a Conv; unet: own Concat and
  // nearest Resize; op_resize_bilinear3: own bilinear kernel (XNNPACK's rounds differently at x3).
  for (const char* name : {"tiny", "sr_pixelshuffle", "unet", "dw_dilated_grouped", "se_block", "op_resize_bilinear3",
                           "op_maxpool_k3_s2_ceil", "op_avgpool_k3_s2_ceil", "op_convT_k3_s2_p1_op1"})
    EXPECT_TRUE(fallbacks_of(name).empty()) << name;
}

TEST(XnnpackBackend, CountsTheMemoryItHolds) {
  TESSERA_SKIP_WITHOUT_BACKEND("xnnpack");
  std::shared_ptr<const Model> model = load_test_model(test_model("sr_pixelshuffle"));
  ASSERT_TRUE(model);
  std::unique_ptr<Session> session = xnnpack_session(model, 1);
  ASSERT_TRUE(session);
  // At least the NHWC input copy [256, 256, 3] and the NHWC output [512, 512, 3].
  EXPECT_GE(session->backend_bytes(), (256 * 256 * 3 + 512 * 512 * 3) * 4);
}

// ---------------------------------------------------------------------------------------------------
// The memory plan: channel Concats without copies.

// A test model's channel Concats and their pieces, and the XNNPACK backend's plan for it.
struct ConcatLayout {
  std::shared_ptr<const Model> model;
  std::vector<int> concats;  // the channel Concats' outputs, in graph order
  std::vector<int> pieces;   // their inputs
  MemoryPlan plan;

  const ModelData& data() const { return model->data(); }
  const std::string& name(int v) const { return data().graph.values[v].name; }
  int pieces_in_place() const {
    int n = 0;
    for (int v : pieces) n += storage_root(plan.slices, v) != v;
    return n;
  }
};

ConcatLayout concat_layout(const std::string& model_name) {
  ConcatLayout layout;
  layout.model = load_test_model(test_model(model_name));
  EXPECT_TRUE(layout.model);
  if (!layout.model) return layout;
  for (const ir::Node& n : layout.data().graph.nodes) {
    if (!ir::is_channel_concat(n)) continue;
    layout.concats.push_back(n.output);
    for (int v : n.inputs) layout.pieces.push_back(v);
  }
  Result<MemoryPlan> plan = xnnpack::memory_plan(layout.data());
  EXPECT_TRUE(plan.ok()) << plan.status().message();
  if (plan.ok()) layout.plan = std::move(plan).value();
  return layout;
}

// A dense block: every piece is written into the widest Concat, the narrower Concats are views of
// it, and the arena shrinks by the copies it no longer holds.
TEST(XnnpackBackend, DenseBlockPiecesLiveInTheWidestConcat) {
  TESSERA_SKIP_WITHOUT_BACKEND("xnnpack");
  ConcatLayout layout = concat_layout("dense_block");
  ASSERT_EQ(layout.concats.size(), 3u);
  const int widest = layout.concats.back();
  for (int v : layout.concats) {
    if (v == widest) continue;
    EXPECT_EQ(layout.plan.slices[v].into, widest) << layout.name(v);
    EXPECT_EQ(layout.plan.slices[v].channel, 0) << layout.name(v);
  }
  for (int v : layout.pieces) EXPECT_EQ(storage_root(layout.plan.slices, v), widest) << layout.name(v);
  const ModelData& d = layout.data();
  EXPECT_TRUE(verify_plan(d.graph, layout.plan, d.upper_shapes).ok());
  EXPECT_LT(layout.plan.arena_bytes, d.plan.arena_bytes);
  std::unique_ptr<Session> session = xnnpack_session(layout.model, 1);
  ASSERT_TRUE(session);
  EXPECT_EQ(session->arena_bytes(), layout.plan.arena_bytes);
}

// U-Net: the upsampled decoder tensor and the encoder's skip both go straight into their Concat
// (the skip's other reader, a strided convolution, reads it there).
TEST(XnnpackBackend, UnetSkipsLiveInTheirConcats) {
  TESSERA_SKIP_WITHOUT_BACKEND("xnnpack");
  ConcatLayout layout = concat_layout("unet");
  ASSERT_FALSE(layout.concats.empty());
  EXPECT_EQ(layout.pieces_in_place(), static_cast<int>(layout.pieces.size()));
}

// Pieces that an operator without a pixel stride reads (here a residual Add) stay on their own and
// are copied.
TEST(XnnpackBackend, PiecesAnAddReadsAreCopied) {
  TESSERA_SKIP_WITHOUT_BACKEND("xnnpack");
  ConcatLayout layout = concat_layout("dense_residual");
  const int stem = layout.data().graph.nodes[0].output;  // read by the last Add
  ASSERT_NE(std::find(layout.pieces.begin(), layout.pieces.end(), stem), layout.pieces.end());
  EXPECT_EQ(layout.plan.slices[stem].into, -1);
  EXPECT_GT(layout.pieces_in_place(), 0);
}

// A model without channel Concats runs on the model's own plan.
TEST(XnnpackBackend, NoConcatsKeepTheModelsPlan) {
  TESSERA_SKIP_WITHOUT_BACKEND("xnnpack");
  std::shared_ptr<const Model> model = load_test_model(test_model("sr_pixelshuffle"));
  ASSERT_TRUE(model);
  Result<MemoryPlan> plan = xnnpack::memory_plan(model->data());
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->slices.empty());
  EXPECT_EQ(plan->offsets, model->data().plan.offsets);
}

}  // namespace
}  // namespace tessera::testing
