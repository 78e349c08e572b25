// Defaults that fit the machine: threads from the CPUs this process may use (affinity and cgroup
// quota, parsed from the files' contents), balanced tiles, the tile a memory budget picks
// (plan_run), and the recompute overhead of a tile.
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "core/cpus.h"
#include "ir/shape_inference.h"
#include "runtime/model_data.h"
#include "test_support.h"
#include "tessera/tiling.h"

namespace tessera::testing {
namespace {

using tiling::TilePlan;
using tiling::TilePlanOptions;

TEST(CpuQuota, ParsesCgroupV2CpuMax) {
  EXPECT_EQ(parse_cpu_max("max 100000\n"), std::nullopt);
  EXPECT_DOUBLE_EQ(*parse_cpu_max("150000 100000\n"), 1.5);
  EXPECT_DOUBLE_EQ(*parse_cpu_max("200000 100000"), 2.0);
  EXPECT_EQ(parse_cpu_max(""), std::nullopt);
  EXPECT_EQ(parse_cpu_max("150000"), std::nullopt);
  EXPECT_EQ(parse_cpu_max("abc 100000"), std::nullopt);
  EXPECT_EQ(parse_cpu_max("0 100000"), std::nullopt);
}

TEST(CpuQuota, ParsesCgroupV1CfsQuota) {
  EXPECT_EQ(parse_cfs_quota("-1\n", "100000\n"), std::nullopt);
  EXPECT_DOUBLE_EQ(*parse_cfs_quota("50000\n", "100000\n"), 0.5);
  EXPECT_DOUBLE_EQ(*parse_cfs_quota("400000", "100000"), 4.0);
  EXPECT_EQ(parse_cfs_quota("x", "100000"), std::nullopt);
  EXPECT_EQ(parse_cfs_quota("50000", "0"), std::nullopt);
}

// A fake file system for cgroup_cpu_quota_from.
auto files(std::map<std::string, std::string> contents) {
  return [contents](const std::string& path) -> std::optional<std::string> {
    auto it = contents.find(path);
    if (it == contents.end()) return std::nullopt;
    return it->second;
  };
}

const char* kV2Mount = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";

TEST(CpuQuota, CgroupV2TakesTheSmallestLimitOnTheWayUp) {
  const char* cgroup = "0::/user.slice/app.scope\n";
  EXPECT_DOUBLE_EQ(*cgroup_cpu_quota_from(cgroup, kV2Mount,
                                          files({{"/sys/fs/cgroup/user.slice/app.scope/cpu.max", "max 100000\n"},
                                                 {"/sys/fs/cgroup/user.slice/cpu.max", "250000 100000\n"},
                                                 {"/sys/fs/cgroup/cpu.max", "800000 100000\n"}})),
                   2.5);
  EXPECT_EQ(cgroup_cpu_quota_from(cgroup, kV2Mount, files({{"/sys/fs/cgroup/user.slice/cpu.max", "max 100000"}})),
            std::nullopt);
  // A container with its own cgroup namespace sees itself at "/".
  EXPECT_DOUBLE_EQ(*cgroup_cpu_quota_from("0::/\n", kV2Mount, files({{"/sys/fs/cgroup/cpu.max", "150000 100000"}})), 1.5);
}

TEST(CpuQuota, CgroupV1UnderTheMountsRoot) {
  // A container without a cgroup namespace: the hierarchy's root is the container's cgroup.
  const char* mountinfo =
      "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
      "32 31 0:29 /docker/abc /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
      "33 31 0:30 /docker/abc /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n";
  const char* cgroup = "5:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n";
  EXPECT_DOUBLE_EQ(*cgroup_cpu_quota_from(cgroup, mountinfo,
                                          files({{"/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "300000\n"},
                                                 {"/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n"}})),
                   3.0);
  EXPECT_EQ(cgroup_cpu_quota_from(cgroup, mountinfo,
                                  files({{"/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n"},
                                         {"/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n"}})),
            std::nullopt);
  // Not a cpu hierarchy: cpuacct alone, or a cpuset, is no quota.
  EXPECT_EQ(cgroup_cpu_quota_from("3:cpuacct:/\n", "33 31 0:30 / /a rw - cgroup cgroup rw,cpuacct\n",
                                  files({{"/a/cpu.cfs_quota_us", "1"}, {"/a/cpu.cfs_period_us", "1"}})),
            std::nullopt);
}

TEST(CpuQuota, UsableCpusAreTheAffinityAtMost) {
  EXPECT_GE(usable_cpus(), 1);
  EXPECT_LE(usable_cpus(), affinity_cpus());
  EXPECT_EQ(tiling::default_threads(), usable_cpus());
}

// Every axis of a plan: cores of one size but the last, no larger; as many as tiles of `tile` need.
void expect_balanced(const TilePlan& plan, int64_t tile, int64_t height, int64_t width) {
  std::vector<int64_t> rows, cols;
  for (const tiling::Tile& t : plan.tiles) {
    if (t.cols.out_begin == 0) rows.push_back(t.rows.out_end - t.rows.out_begin);
    if (t.rows.out_begin == 0) cols.push_back(t.cols.out_end - t.cols.out_begin);
  }
  EXPECT_EQ(static_cast<int64_t>(rows.size()), (height + tile - 1) / tile) << height << " rows, tile " << tile;
  EXPECT_EQ(static_cast<int64_t>(cols.size()), (width + tile - 1) / tile) << width << " cols, tile " << tile;
  for (const std::vector<int64_t>* cores : {&rows, &cols})
    for (size_t i = 0; i + 1 < cores->size(); ++i) {
      EXPECT_EQ((*cores)[i], cores->front());
      EXPECT_LE(cores->back(), cores->front());
    }
}

TEST(BalancedTiles, FourHundredRowsInTilesOf128AreFourOf100) {
  std::shared_ptr<const Model> model = compile_and_load(test_model("sr_pixelshuffle"));  // grid 1, x2
  ASSERT_TRUE(model);
  Result<TilePlan> plan = tiling::plan_tiles(*model, 400, 300, {128, 0});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->core_height, 100);
  EXPECT_EQ(plan->core_width, 100);
  EXPECT_EQ(plan->tiles.size(), 12u);
  for (const tiling::Tile& t : plan->tiles) {
    EXPECT_EQ(t.rows.out_end - t.rows.out_begin, 200);  // output pixels: twice the input's
    EXPECT_EQ(t.cols.out_end - t.cols.out_begin, 200);
  }
}

TEST(BalancedTiles, OnTheGridTheLastCoreTakesTheRest) {
  std::shared_ptr<const Model> model = compile_and_load(test_model("unet"));  // grid 4, 32..256
  ASSERT_TRUE(model);
  Result<TilePlan> plan = tiling::plan_tiles(*model, 404, 400, {128, 0});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->core_height, 104);  // ceil(404 / 4) = 101, up to the grid
  EXPECT_EQ(plan->core_width, 100);
  std::vector<int64_t> rows;
  for (const tiling::Tile& t : plan->tiles)
    if (t.cols.out_begin == 0) rows.push_back(t.rows.out_end - t.rows.out_begin);
  EXPECT_EQ(rows, (std::vector<int64_t>{104, 104, 104, 92}));
  for (auto [h, w, tile] : {std::tuple{1000, 1000, 64}, std::tuple{36, 2000, 0}, std::tuple{260, 300, 128},
                            std::tuple{516, 1028, 200}, std::tuple{2048, 32, 32}}) {
    Result<TilePlan> p = tiling::plan_tiles(*model, h, w, {tile, 0});
    ASSERT_TRUE(p.ok()) << p.status().message();
    expect_balanced(*p, tile > 0 ? tile : 224, h, w);  // 224: unet's largest tile (256 - halo 8+5 - 2x3 of grid slack)
  }
}

TEST(BalancedTiles, StitchExactly) {
  const TestModel& m = test_model("sr_pixelshuffle");
  std::shared_ptr<const Model> model = compile_and_load(m);
  std::shared_ptr<const Model> reference = compile_with_range(m, {"", 16, 1200, 1}, "wide");
  ASSERT_TRUE(model && reference);
  for (auto [h, w, tile] : {std::tuple{400, 300, 128}, std::tuple{517, 263, 0}, std::tuple{1031, 40, 100}}) {
    Tensor image = random_input(*model, h, w, static_cast<uint32_t>(h + w));
    Result<Tensor> tiled = tiling::run_tiled(model, image.view(), {tile, 0}, {.threads = 2, .backend = "reference"});
    ASSERT_TRUE(tiled.ok()) << tiled.status().message();
    Result<std::unique_ptr<Session>> s = Session::create(reference, {"reference", 1});
    ASSERT_TRUE(s.ok());
    ConstTensorView in = image.view();
    Result<std::span<const TensorView>> full = (*s)->run({&in, 1});
    ASSERT_TRUE(full.ok()) << full.status().message();
    Tensor expected((*full)[0].shape);
    std::memcpy(expected.data(), (*full)[0].data, expected.element_count() * sizeof(float));
    EXPECT_EQ(bit_differences(*tiled, expected), 0) << h << "x" << w << " tile " << tile;
  }
}

TEST(TileOverhead, WindowAreaOverCoreArea) {
  std::shared_ptr<const Model> model = compile_and_load(test_model("sr_pixelshuffle"));  // halo 2+2, 16..256
  ASSERT_TRUE(model);
  Result<tiling::TileOverhead> small = tiling::tile_overhead(*model, 20, 20);  // (20 + 40)^2 / 20^2
  ASSERT_TRUE(small.ok()) << small.status().message();
  EXPECT_DOUBLE_EQ(small->ratio, 9.0);
  EXPECT_EQ(small->halo_before, 20);
  EXPECT_EQ(small->tile_under_1_5x, 178);  // (178 + 40)^2 / 178^2 = 1.49992
  Result<tiling::TileOverhead> own = tiling::tile_overhead(*model, 16, 0);  // its own halo: (16 + 4)^2 / 16^2
  ASSERT_TRUE(own.ok());
  EXPECT_DOUBLE_EQ(own->ratio, 1.5625);
  EXPECT_EQ(own->halo_before, 2);
}

// plan_run on a fixed process size, so that the figures do not depend on this test binary.
tiling::RunMemoryOptions fixed_process() { return {.backend = "reference", .process_bytes = 0}; }

TEST(PlanRun, WholeWhenTheImageFitsTheModelAndTheBudget) {
  std::shared_ptr<const Model> model = compile_and_load(test_model("unet"));
  ASSERT_TRUE(model);
  Result<tiling::RunPlan> run = tiling::plan_run(*model, 256, 200, {}, false, 2, fixed_process());
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_FALSE(run->tiled);
  EXPECT_EQ(run->plan.tiles.size(), 1u);
  EXPECT_GT(run->estimated_bytes, 0);
  // A budget below the whole image's estimate tiles it.
  TilePlanOptions tight;
  tight.memory = run->estimated_bytes - 1;
  Result<tiling::RunPlan> tiled = tiling::plan_run(*model, 256, 200, tight, false, 2, fixed_process());
  ASSERT_TRUE(tiled.ok()) << tiled.status().message();
  EXPECT_TRUE(tiled->tiled);
  EXPECT_LE(tiled->estimated_bytes, tight.memory);
  // --no-tile keeps it whole, whatever the budget.
  Result<tiling::RunPlan> whole = tiling::plan_run(*model, 256, 200, tight, true, 2, fixed_process());
  ASSERT_TRUE(whole.ok());
  EXPECT_FALSE(whole->tiled);
}

TEST(PlanRun, TheLargestTileThatFitsTheBudget) {
  std::shared_ptr<const Model> model = compile_and_load(test_model("tiny"));  // 256..1024, arena 64 MiB
  ASSERT_TRUE(model);
  const int64_t h = 3000, w = 2500;
  Result<tiling::RunPlan> largest = tiling::plan_run(*model, h, w, {}, false, 2, fixed_process());
  ASSERT_TRUE(largest.ok()) << largest.status().message();
  EXPECT_TRUE(largest->tiled);
  EXPECT_EQ(largest->tile, 0);  // no budget: the model's largest
  TilePlanOptions smallest_tile;
  smallest_tile.tile = 256;
  Result<tiling::RunPlan> smallest = tiling::plan_run(*model, h, w, smallest_tile, false, 2, fixed_process());
  ASSERT_TRUE(smallest.ok()) << smallest.status().message();
  const int64_t most = largest->estimated_bytes, least = smallest->estimated_bytes;
  ASSERT_LT(least, most);
  int64_t previous_core = largest->plan.core_height;
  for (int64_t budget : {most, (3 * most + least) / 4, (most + least) / 2, least}) {
    TilePlanOptions options;
    options.memory = budget;
    Result<tiling::RunPlan> run = tiling::plan_run(*model, h, w, options, false, 2, fixed_process());
    ASSERT_TRUE(run.ok()) << run.status().message();
    EXPECT_LE(run->estimated_bytes, budget);
    EXPECT_LE(run->plan.core_height, previous_core) << "a smaller budget never takes a larger tile";
    previous_core = run->plan.core_height;
  }
  EXPECT_LT(previous_core, largest->plan.core_height);
  model = compile_and_load(test_model("unet"));
  ASSERT_TRUE(model);
  // A given tile is kept, budget or not.
  TilePlanOptions given;
  given.tile = 64;
  given.memory = 1;
  Result<tiling::RunPlan> run = tiling::plan_run(*model, 2000, 1000, given, false, 2, fixed_process());
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->tile, 64);
  EXPECT_EQ(run->plan.core_height, 64);
}

TEST(PlanRun, ABudgetNothingFitsSaysWhatWould) {
  std::shared_ptr<const Model> model = compile_and_load(test_model("unet"));
  ASSERT_TRUE(model);
  TilePlanOptions options;
  options.memory = 1 << 20;  // below the 16 MiB that plan_run adds for what it does not count
  Result<tiling::RunPlan> run = tiling::plan_run(*model, 2000, 1000, options, false, 2, fixed_process());
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), Error::InvalidArgument);
  EXPECT_CONTAINS(run.status().message(), "--memory 1 MiB is below the");
  EXPECT_CONTAINS(run.status().message(), "give --memory");
}

// The pixels a plan runs through the model over the image's.
double recompute(const tiling::RunPlan& run, int64_t height, int64_t width) {
  int64_t pixels = 0;
  for (const tiling::Tile& t : run.plan.tiles) pixels += t.rows.window() * t.cols.window();
  return static_cast<double>(pixels) / static_cast<double>(height * width);
}

// A budget the caller did not choose (the CLI's default --memory) gives way where it fits no tile,
// or only tiles of over 4x the pixels: the plan with the least memory at most 1.5x them instead.
// A budget the caller chose holds.
TEST(PlanRun, ADefaultBudgetGivesWayToAHaloItCannotAfford) {
  std::shared_ptr<const Model> model = compile_and_load(test_model("unet"));  // halo 8+5 on a grid of 4
  ASSERT_TRUE(model);
  const int64_t h = 2000, w = 1000;
  Result<int64_t> smallest = tiling::smallest_tile(*model);
  ASSERT_TRUE(smallest.ok());
  Result<tiling::TileOverhead> overhead = tiling::tile_overhead(*model, *smallest);
  ASSERT_TRUE(overhead.ok());
  ASSERT_EQ(overhead->tile_under_1_5x, 72);  // (72 + 16)^2 / 72^2 = 1.49

  TilePlanOptions none_fits;
  none_fits.memory = 1 << 20;
  none_fits.memory_is_default = true;
  Result<tiling::RunPlan> run = tiling::plan_run(*model, h, w, none_fits, false, 2, fixed_process());
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_TRUE(run->above_default_memory);
  EXPECT_EQ(run->tile, 72);
  EXPECT_EQ(run->workers, 1);
  EXPECT_LE(recompute(*run, h, w), 1.5);

  // With a halo of 40, a budget that fits only tiles of 32 (the smallest) or so, which run over 4x the pixels; no
  // tile the model takes keeps under 1.5x, so the default gives way to its largest.
  TilePlanOptions small_tiles;
  small_tiles.tile = 32;
  small_tiles.halo = 40;
  Result<tiling::RunPlan> least = tiling::plan_run(*model, h, w, small_tiles, false, 2, fixed_process());
  ASSERT_TRUE(least.ok()) << least.status().message();
  TilePlanOptions chosen;
  chosen.halo = 40;
  chosen.memory = least->estimated_bytes;
  Result<tiling::RunPlan> held = tiling::plan_run(*model, h, w, chosen, false, 2, fixed_process());
  ASSERT_TRUE(held.ok()) << held.status().message();
  EXPECT_FALSE(held->above_default_memory);
  EXPECT_LE(held->estimated_bytes, chosen.memory);
  ASSERT_GT(recompute(*held, h, w), 4.0);
  TilePlanOptions by_default = chosen;
  by_default.memory_is_default = true;
  Result<tiling::RunPlan> raised = tiling::plan_run(*model, h, w, by_default, false, 2, fixed_process());
  ASSERT_TRUE(raised.ok()) << raised.status().message();
  EXPECT_TRUE(raised->above_default_memory);
  EXPECT_EQ(raised->tile, 0);
  EXPECT_LT(recompute(*raised, h, w), 2.2);

  // A chosen budget that fits nothing fails; where the smallest tile would run over 4x the pixels,
  // it also says the budget that runs at most 1.5x them (here the model's largest tile).
  TilePlanOptions chosen_none;
  chosen_none.halo = 40;
  chosen_none.memory = 1 << 20;
  Result<tiling::RunPlan> refused = tiling::plan_run(*model, h, w, chosen_none, false, 2, fixed_process());
  ASSERT_FALSE(refused.ok());
  EXPECT_CONTAINS(refused.status().message(), "; give --memory ");
  EXPECT_CONTAINS(refused.status().message(), " to run it in tiles of ");
  EXPECT_CONTAINS(refused.status().message(), "for the smallest tiles, which run ");

  // An image the model takes whole, when no tile keeps under 1.5x: whole, above the default.
  TilePlanOptions wide_halo = none_fits;
  wide_halo.halo = 100;
  Result<tiling::RunPlan> whole = tiling::plan_run(*model, 200, 240, wide_halo, false, 2, fixed_process());
  ASSERT_TRUE(whole.ok()) << whole.status().message();
  EXPECT_FALSE(whole->tiled);
  EXPECT_TRUE(whole->above_default_memory);
}

TEST(PlanRun, ArenaPagesGrowWithTheWindowUpToTheArena) {
  std::shared_ptr<const Model> model = compile_and_load(test_model("unet"));
  ASSERT_TRUE(model);
  int64_t previous = 0;
  for (int64_t size : {32, 64, 128, 256}) {
    Result<int64_t> bytes = tiling::arena_resident_bytes(*model, "reference", size, size);
    ASSERT_TRUE(bytes.ok()) << bytes.status().message();
    EXPECT_GE(*bytes, previous);
    previous = *bytes;
  }
  EXPECT_LE(previous, model->data().plan.arena_bytes + (int64_t{2} << 20));
  EXPECT_GT(previous, model->data().plan.arena_bytes / 2);
  Result<int64_t> above = tiling::arena_resident_bytes(*model, "reference", 100000, 64);
  ASSERT_FALSE(above.ok());
  EXPECT_EQ(above.status().code(), Error::DimOutOfRange);
  EXPECT_CONTAINS(above.status().message(), "height 100000 is outside the model's range");
}

// A first run at a small shape holds the arena pages that arena_resident_bytes counts for it, not the
// arena planned at the upper bound: what plan_run budgets with.
TEST(PlanRun, AFirstRunHoldsOnlyTheArenaPagesItsShapeWrites) {
  std::shared_ptr<const Model> model = compile_and_load(test_model("tiny"));  // 256..1024: a 64 MiB arena
  ASSERT_TRUE(model);
  for (const std::string backend : {"reference", "auto"}) {
    Result<std::unique_ptr<Session>> session = Session::create(model, {backend, 1});
    ASSERT_TRUE(session.ok()) << session.status().message();
    Tensor image = random_input(*model, 256, 256, 1);
    ConstTensorView view = image.view();
    Result<int64_t> expected = tiling::arena_resident_bytes(*model, backend, 256, 256);
    ASSERT_TRUE(expected.ok()) << expected.status().message();
    ASSERT_GT((*session)->arena_bytes(), 4 * *expected);  // so that holding the whole arena would show
    const int64_t before = tiling::process_resident_bytes();
    ASSERT_TRUE((*session)->run({&view, 1}).ok());
    const int64_t grown = tiling::process_resident_bytes() - before;
    EXPECT_GE(grown, *expected / 2) << backend;
    EXPECT_LE(grown, *expected + (int64_t{8} << 20)) << backend << ": arena " << (*session)->arena_bytes();
  }
}

// The arena lies on huge pages where a run writes whole ones and on small pages elsewhere, even where
// transparent huge pages are on for everything: no huge page under bytes the run does not write
// (session.cpp advise_huge_pages).
TEST(PlanRun, TheArenaIsOnHugePagesOnlyWhereARunWritesThemWhole) {
  if (!std::filesystem::exists("/sys/kernel/mm/transparent_hugepage"))
    GTEST_SKIP() << "this kernel has no transparent huge pages";
  std::shared_ptr<const Model> model = compile_and_load(test_model("tiny"));  // 256..1024: a 64 MiB arena
  ASSERT_TRUE(model);
  Result<std::unique_ptr<Session>> session = Session::create(model, {"reference", 1});
  ASSERT_TRUE(session.ok()) << session.status().message();
  Tensor image = random_input(*model, 512, 512, 1);
  ConstTensorView view = image.view();
  Result<std::span<const TensorView>> out = (*session)->run({&view, 1});
  ASSERT_TRUE(out.ok()) << out.status().message();
  const ModelData& d = model->data();
  const auto arena = reinterpret_cast<uintptr_t>((*out)[0].data) - d.plan.offsets[d.graph.outputs[0]];
  const auto& axes = d.graph.values[d.graph.inputs[0]].input_dims;
  std::vector<int64_t> dims = d.graph.upper_dim_values();
  dims[axes[2].dynamic] = dims[axes[3].dynamic] = 512;
  Result<std::vector<Shape>> shapes = ir::shapes_at(d.graph, dims);
  ASSERT_TRUE(shapes.ok()) << shapes.status().message();
  std::vector<std::pair<int64_t, int64_t>> ranges;
  written_ranges(d.plan, *shapes, ranges);
  std::vector<std::pair<uintptr_t, uintptr_t>> written;
  for (auto [begin, end] : ranges) written.emplace_back(arena + begin, arena + end);

  // The arena's mappings in /proc/self/smaps: their flags and huge pages.
  struct Mapping {
    uintptr_t begin = 0, end = 0;
    std::string flags;
    long huge_kb = -1;
  };
  std::vector<Mapping> mappings;
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  while (std::getline(smaps, line)) {
    uintptr_t begin = 0, end = 0;
    if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR " ", &begin, &end) == 2 && line.find(':') > line.find(' ')) {
      mappings.push_back({begin, end});
      continue;
    }
    if (mappings.empty()) continue;
    if (line.rfind("VmFlags:", 0) == 0) mappings.back().flags = line + " ";
    std::sscanf(line.c_str(), "AnonHugePages: %ld kB", &mappings.back().huge_kb);
  }
  int huge_advised = 0;
  for (const Mapping& m : mappings) {
    if (m.end <= arena || m.begin >= arena + static_cast<uintptr_t>((*session)->arena_bytes())) continue;
    if (m.flags.find(" hg ") != std::string::npos) {
      ++huge_advised;
      EXPECT_TRUE(std::any_of(written.begin(), written.end(), [&](auto w) { return w.first <= m.begin && m.end <= w.second; }))
          << std::hex << "a huge-page mapping " << m.begin << "-" << m.end << " beyond what the run wrote";
      EXPECT_EQ(m.begin % (uintptr_t{2} << 20), 0u);
    } else {
      EXPECT_NE(m.flags.find(" nh "), std::string::npos) << m.flags;  // MADV_NOHUGEPAGE
      EXPECT_EQ(m.huge_kb, 0);
    }
  }
  EXPECT_GT(huge_advised, 0) << "the run at 512x512 writes whole 2 MiB pages";
}

}  // namespace
}  // namespace tessera::testing
