// plan_memory and verify_plan: every test model's stored plan verifies, verify_plan rejects overlapping or
// out-of-arena plans, and element-wise ops are planned in place.
#include "runtime/model_data.h"

#include <fmt/format.h>
#include "test_support.h"

namespace tessera::testing {
namespace {

class PlanOfEveryModel : public ::testing::TestWithParam<TestModel> {};

TEST_P(PlanOfEveryModel, LoadedPlanVerifiesAndMatchesAFreshPlan) {
  std::shared_ptr<const Model> model = compile_and_load(GetParam());
  ASSERT_TRUE(model);
  const ModelData& d = model->data();
  Status s = verify_plan(d.graph, d.plan, d.upper_shapes);
  EXPECT_TRUE(s.ok()) << s.message();
  // Planning the loaded graph again gives the plan the file holds.
  Result<MemoryPlan> fresh = plan_memory(d.graph, d.upper_shapes);
  ASSERT_TRUE(fresh.ok()) << fresh.status().message();
  EXPECT_EQ(fresh->offsets, d.plan.offsets);
  EXPECT_EQ(fresh->arena_bytes, d.plan.arena_bytes);
  EXPECT_LE(d.plan.lower_bound_bytes, d.plan.arena_bytes);
  // The greedy plan stays within 10% of the lower bound (the largest sum of live activations).
  EXPECT_LE(d.plan.arena_bytes, d.plan.lower_bound_bytes * 11 / 10);
}

INSTANTIATE_TEST_SUITE_P(Models, PlanOfEveryModel, ::testing::ValuesIn(test_models()),
                         [](const ::testing::TestParamInfo<TestModel>& p) { return p.param.name; });

// The tiny model: Conv, Relu, Conv, Relu, Conv.
class TinyPlan : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { model_ = compile_and_load(test_model("tiny")); }
  static void TearDownTestSuite() { model_.reset(); }

  void SetUp() override {
    ASSERT_TRUE(model_);
    ASSERT_EQ(graph().nodes.size(), 5u);
    const ir::Op ops[] = {ir::Op::Conv, ir::Op::Relu, ir::Op::Conv, ir::Op::Relu, ir::Op::Conv};
    for (size_t i = 0; i < 5; ++i) ASSERT_EQ(graph().nodes[i].op, ops[i]) << "node " << i;
  }

  static const ir::Graph& graph() { return model_->data().graph; }
  static const MemoryPlan& plan() { return model_->data().plan; }
  static std::span<const Shape> shapes() { return model_->data().upper_shapes; }
  static int output_of(int node) { return graph().nodes[node].output; }

  static inline std::shared_ptr<const Model> model_;
};

TEST_F(TinyPlan, ReluWritesOverItsInput) {
  for (int node : {1, 3}) {
    int in = graph().nodes[node].inputs[0];
    EXPECT_EQ(plan().offsets[output_of(node)], plan().offsets[in]) << "Relu node " << node;
  }
  // A Conv reads its input while it writes: never in place.
  for (int node : {2, 4}) EXPECT_NE(plan().offsets[output_of(node)], plan().offsets[graph().nodes[node].inputs[0]]);
  // Inputs and constants are not in the arena.
  for (size_t v = 0; v < graph().values.size(); ++v) {
    if (graph().values[v].kind != ir::ValueKind::Activation) {
      EXPECT_EQ(plan().offsets[v], -1) << graph().values[v].name;
    }
  }
}

// What a run writes: every stored value's bytes at the run's shapes inside one of the ranges,
// which are sorted and apart, each starting at a value and ending at one.
TEST_F(TinyPlan, WrittenRangesCoverEveryStoredValueAtTheRunsShape) {
  std::vector<Shape> small(shapes().begin(), shapes().end());
  for (Shape& s : small)
    if (s.rank() == 4) s = Shape{s[0], s[1], s[2] / 4, s[3] / 4};
  for (std::span<const Shape> at : {shapes(), std::span<const Shape>(small)}) {
    std::vector<std::pair<int64_t, int64_t>> ranges;
    written_ranges(plan(), at, ranges);
    ASSERT_FALSE(ranges.empty());
    for (size_t i = 1; i < ranges.size(); ++i) EXPECT_LT(ranges[i - 1].second, ranges[i].first);
    std::vector<int64_t> starts, ends;
    for (size_t v = 0; v < graph().values.size(); ++v) {
      if (plan().offsets[v] < 0) continue;
      const int64_t begin = plan().offsets[v], end = begin + at[v].element_count() * 4;
      starts.push_back(begin);
      ends.push_back(end);
      EXPECT_TRUE(std::any_of(ranges.begin(), ranges.end(), [&](auto r) { return r.first <= begin && end <= r.second; }))
          << graph().values[v].name;
    }
    for (auto [begin, end] : ranges) {
      EXPECT_NE(std::find(starts.begin(), starts.end(), begin), starts.end());
      EXPECT_NE(std::find(ends.begin(), ends.end(), end), ends.end());
    }
  }
}

TEST_F(TinyPlan, RejectsTwoLiveActivationsAtOneOffset) {
  // The second Conv reads the first Relu's output while writing its own: both are alive at step 2.
  MemoryPlan bad = plan();
  bad.offsets[output_of(2)] = bad.offsets[output_of(1)];
  Status s = verify_plan(graph(), bad, shapes());
  EXPECT_EQ(s.code(), Error::InvalidModel);
  EXPECT_CONTAINS(s.message(), "memory plan overlap");
  EXPECT_CONTAINS(s.message(), graph().values[output_of(1)].name);
  EXPECT_CONTAINS(s.message(), graph().values[output_of(2)].name);
}

TEST_F(TinyPlan, RejectsAPartialOverlap) {
  MemoryPlan bad = plan();
  int a = output_of(1), b = output_of(2);
  bad.offsets[b] = bad.offsets[a] + 64;  // aligned, and the arena grown to hold it: only the overlap is wrong
  bad.arena_bytes = std::max(bad.arena_bytes, bad.offsets[b] + shapes()[b].element_count() * 4);
  Status s = verify_plan(graph(), bad, shapes());
  EXPECT_EQ(s.code(), Error::InvalidModel);
  EXPECT_CONTAINS(s.message(), "memory plan overlap");
}

TEST_F(TinyPlan, AcceptsAnotherValidPlan) {
  // Swap the two 32 MiB blocks (Conv 0 + Relu 1 in place; Conv 2 + Relu 3 in place) and put the output
  // where the first block was: it is dead by the last step. Different offsets, still no live overlap.
  MemoryPlan swapped = plan();
  int64_t first = plan().offsets[output_of(0)], second = plan().offsets[output_of(2)];
  ASSERT_NE(first, second);
  for (int node : {0, 1}) swapped.offsets[output_of(node)] = second;
  for (int node : {2, 3}) swapped.offsets[output_of(node)] = first;
  swapped.offsets[output_of(4)] = second;  // where Conv 0 + Relu 1 now are: dead by step 4
  ASSERT_NE(swapped.offsets, plan().offsets);
  Status s = verify_plan(graph(), swapped, shapes());
  EXPECT_TRUE(s.ok()) << s.message();

  swapped.offsets[output_of(4)] = first;  // over Relu 3's output, which the last Conv reads
  EXPECT_EQ(verify_plan(graph(), swapped, shapes()).code(), Error::InvalidModel);
}

TEST_F(TinyPlan, RejectsAnOffsetPastTheArena) {
  MemoryPlan bad = plan();
  bad.offsets[output_of(4)] = bad.arena_bytes;
  Status s = verify_plan(graph(), bad, shapes());
  EXPECT_EQ(s.code(), Error::InvalidModel);
  EXPECT_CONTAINS(s.message(), "does not fit");
  EXPECT_CONTAINS(s.message(), fmt::format("{}-byte arena", bad.arena_bytes));

  bad = plan();
  bad.arena_bytes -= 64;  // the largest value no longer fits
  EXPECT_EQ(verify_plan(graph(), bad, shapes()).code(), Error::InvalidModel);
}

TEST_F(TinyPlan, RejectsNegativeMisalignedAndMissingOffsets) {
  MemoryPlan bad = plan();
  bad.offsets[output_of(0)] = -1;
  EXPECT_EQ(verify_plan(graph(), bad, shapes()).code(), Error::InvalidModel);

  bad = plan();
  bad.offsets[output_of(4)] += 4;
  EXPECT_EQ(verify_plan(graph(), bad, shapes()).code(), Error::InvalidModel);

  bad = plan();
  bad.offsets.pop_back();
  Status s = verify_plan(graph(), bad, shapes());
  EXPECT_EQ(s.code(), Error::InvalidModel);
  EXPECT_CONTAINS(s.message(), "entries");
}

// Channel slices, as a channels-last backend plans them (backends/xnnpack/memory_plan.cpp), on the
// dense block: its pieces inside the widest Concat, the narrower Concats views of it.
class SlicedPlan : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { model_ = compile_and_load(test_model("dense_block")); }
  static void TearDownTestSuite() { model_.reset(); }

  void SetUp() override {
    ASSERT_TRUE(model_);
    for (const ir::Node& n : graph().nodes)
      if (ir::is_channel_concat(n)) concats_.push_back(&n);
    ASSERT_EQ(concats_.size(), 3u);
    widest_ = concats_.back()->output;
    slices_.resize(graph().values.size());
    int64_t channel = 0;
    for (int piece : concats_.back()->inputs) {
      slices_[piece] = {widest_, channel, -1};
      channel += shapes()[piece][1];
    }
    for (size_t i = 0; i + 1 < concats_.size(); ++i) slices_[concats_[i]->output] = {widest_, 0, -1};
    Result<MemoryPlan> plan = plan_memory(graph(), shapes(), slices_);
    ASSERT_TRUE(plan.ok()) << plan.status().message();
    plan_ = std::move(plan).value();
  }

  static const ir::Graph& graph() { return model_->data().graph; }
  static std::span<const Shape> shapes() { return model_->data().upper_shapes; }
  int piece(int k) const { return concats_.back()->inputs[k]; }
  int step_of(int v) const {
    for (size_t i = 0; i < graph().nodes.size(); ++i)
      if (graph().nodes[i].output == v) return static_cast<int>(i);
    return -1;
  }
  Status replan(const std::vector<ChannelSlice>& slices) { return plan_memory(graph(), shapes(), slices).status(); }

  static inline std::shared_ptr<const Model> model_;
  std::vector<const ir::Node*> concats_;
  int widest_ = -1;
  std::vector<ChannelSlice> slices_;
  MemoryPlan plan_;
};

TEST_F(SlicedPlan, PutsEachPieceAtItsChannelsOfTheWidestConcat) {
  EXPECT_TRUE(verify_plan(graph(), plan_, shapes()).ok());
  const int64_t base = plan_.offsets[widest_];
  int64_t channel = 0;
  for (int v : concats_.back()->inputs) {
    EXPECT_EQ(plan_.offsets[v], base + channel * 4) << graph().values[v].name;
    channel += shapes()[v][1];
  }
  for (const ir::Node* c : concats_) EXPECT_EQ(plan_.offsets[c->output], base);
  EXPECT_LT(plan_.arena_bytes, model_->data().plan.arena_bytes);
}

TEST_F(SlicedPlan, RejectsAPieceAtChannelsItsConcatDoesNotGiveIt) {
  std::vector<ChannelSlice> bad = slices_;
  bad[piece(1)].channel += 4;  // over the next piece
  Status s = replan(bad);
  EXPECT_EQ(s.code(), Error::InvalidModel);
  EXPECT_CONTAINS(s.message(), "no channel Concat puts it there");
  EXPECT_CONTAINS(s.message(), graph().values[piece(1)].name);
}

TEST_F(SlicedPlan, RejectsAnOffsetOutsideItsChannels) {
  MemoryPlan bad = plan_;
  bad.offsets[piece(2)] += 4;
  Status s = verify_plan(graph(), bad, shapes());
  EXPECT_EQ(s.code(), Error::InvalidModel);
  EXPECT_CONTAINS(s.message(), "not that of its channels");
}

TEST_F(SlicedPlan, RejectsACycle) {
  std::vector<ChannelSlice> bad = slices_;
  bad[widest_] = {concats_[0]->output, 0, -1};
  Status s = replan(bad);
  EXPECT_EQ(s.code(), Error::InvalidModel);
  EXPECT_CONTAINS(s.message(), "cycle");
}

TEST_F(SlicedPlan, RejectsAWriteAfterTheValuesOwnNode) {
  std::vector<ChannelSlice> bad = slices_;
  bad[piece(1)].written_at = step_of(widest_);
  Status s = replan(bad);
  EXPECT_EQ(s.code(), Error::InvalidModel);
  EXPECT_CONTAINS(s.message(), "after its own node");
}

TEST_F(SlicedPlan, RejectsASliceThatDoesNotFit) {
  std::vector<ChannelSlice> bad = slices_;
  const int head = graph().outputs[0];  // 3 channels of the same pixels
  bad[head] = {widest_, shapes()[widest_][1] - 2, -1};
  Status s = replan(bad);
  EXPECT_EQ(s.code(), Error::InvalidModel);
  EXPECT_CONTAINS(s.message(), "does not fit channels");
}

TEST_F(SlicedPlan, RejectsAValueOverTheHolderItReads) {
  // The conv that reads the widest Concat writes over the Concat's last channels.
  MemoryPlan bad = plan_;
  const int conv = graph().nodes[step_of(widest_) + 1].output;
  bad.offsets[conv] = bad.offsets[widest_] + 64 * 16;
  Status s = verify_plan(graph(), bad, shapes());
  EXPECT_EQ(s.code(), Error::InvalidModel);
  EXPECT_CONTAINS(s.message(), "memory plan overlap");
}

}  // namespace
}  // namespace tessera::testing
