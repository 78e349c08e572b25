#include "tessera/image.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>

#include "core/check.h"
#include "core/temp_path.h"
#include "core/tsan.h"
#include "io/georef.h"
#include "io/image_input.h"
#include "io/image_output.h"
#include "io/image_tiles.h"
#include "io/vips_util.h"
#include "runtime/model_data.h"

namespace tessera {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kFourGiB = int64_t{1} << 32;

// Runs bands as libvips asks for output rows (top to bottom, one request at a time).
struct Producer {
  Producer(tiling::TiledRunner& r, ImageSource& in, ImageSink& out) : runner(r), source(in), sink(out) {}

  tiling::TiledRunner& runner;
  ImageSource& source;
  ImageSink& sink;
  int64_t next_band = 0;
  std::mutex mutex;
  Status error;

  Status produce(int64_t top, int64_t bottom) {
    RowBuffer& rows = sink.rows();
    TESSERA_CHECK(top >= rows.begin(), Error::Internal, "output row {} was asked for after it was written", top);
    rows.drop_before(top);
    while (rows.end() < bottom) {
      TESSERA_CHECK(next_band < runner.band_count(), Error::Internal, "output row {} is past the last band", bottom);
      TESSERA_RETURN_IF_ERROR(runner.run_band(next_band++, source, sink));
    }
    return {};
  }
};

int generate_rows(VipsRegion* region, void*, void* producer_ptr, void*, gboolean*) {
  auto* producer = static_cast<Producer*>(producer_ptr);
  std::lock_guard<std::mutex> lock(producer->mutex);
  // libvips calls this on its worker thread, handed over inside GLib where ThreadSanitizer cannot
  // see: the caller's set-up happens before, and what this does happens before the caller goes on.
  tsan_acquire(producer);
  struct Release {
    Producer* p;
    ~Release() { tsan_release(p); }
  } release{producer};
  const VipsRect& r = region->valid;
  Status s = producer->produce(r.top, r.top + r.height);
  if (!s.ok()) {
    if (producer->error.ok()) producer->error = s;
    vips_error("tessera", "%s", s.message().c_str());
    return -1;
  }
  const size_t pel = VIPS_IMAGE_SIZEOF_PEL(region->im);
  for (int y = r.top; y < r.top + r.height; ++y)
    std::memcpy(VIPS_REGION_ADDR(region, r.left, y), producer->sink.rows().row(y) + r.left * pel, r.width * pel);
  return 0;
}

// The model's output as a libvips image whose pixels are computed on demand.
vips::VImage output_image(Producer& producer, int64_t width, int64_t height, int bands, int bits) {
  VipsImage* image = vips_image_new();
  vips_image_init_fields(image, static_cast<int>(width), static_cast<int>(height), bands,
                         bits == 16 ? VIPS_FORMAT_USHORT : VIPS_FORMAT_UCHAR, VIPS_CODING_NONE,
                         interpretation_of(bands, bits), 1.0, 1.0);
  vips_image_pipelinev(image, VIPS_DEMAND_STYLE_THINSTRIP, nullptr);
  // One libvips thread asks for rows, in order; tessera's own workers compute each band.
  vips_image_set_int(image, VIPS_META_CONCURRENCY, 1);
  vips_image_generate(image, nullptr, generate_rows, nullptr, &producer, nullptr);
  return vips::VImage(image);
}

int64_t physical_memory() { return static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGE_SIZE); }

// From the model's tiling analysis (exact), or from the sizes when the model has none.
AxisScale axis_scale(const Model& model, int axis, int64_t in_size, int64_t out_size) {
  const TilingInfo& t = model.info().tiling;
  if (!t.analysed || !t.tileable || t.axes.size() != 2) return {out_size, in_size, 0};
  const AxisTiling& a = t.axes[axis];
  return {a.scale_num, a.scale_den, a.offset};
}

// The file's alpha band on the output's grid: output pixel j covers input pixels from j / scale +
// offset, so a "valid" model's offset is cropped first, then libvips resizes by the scale.
vips::VImage alpha_at_output(vips::VImage alpha, const AxisScale& x, const AxisScale& y, int64_t out_width,
                             int64_t out_height) {
  const int64_t width = std::min<int64_t>(alpha.width() - x.offset, (out_width * x.den + x.num - 1) / x.num);
  const int64_t height = std::min<int64_t>(alpha.height() - y.offset, (out_height * y.den + y.num - 1) / y.num);
  if (x.offset != 0 || y.offset != 0)
    alpha = alpha.crop(static_cast<int>(x.offset), static_cast<int>(y.offset), static_cast<int>(width),
                       static_cast<int>(height));
  if (x.num != x.den || y.num != y.den)
    alpha = alpha.resize(x.scale(), vips::VImage::option()->set("vscale", y.scale()));
  return alpha.embed(0, 0, static_cast<int>(out_width), static_cast<int>(out_height),
                     vips::VImage::option()->set("extend", VIPS_EXTEND_COPY));
}

// The output pixels of the image as the file holds it, without the padding's.
int64_t unpadded_output(int64_t out_size, int64_t padding, const AxisScale& s) {
  return out_size - padding * s.num / s.den;
}

}  // namespace

Result<ImageRunInfo> run_image_file(std::shared_ptr<const Model> model, const std::string& input,
                                    const std::string& output, const ImageRunOptions& options,
                                    const std::function<void(const ImageRunInfo&)>& on_start) {
  TESSERA_RETURN_IF_ERROR(ensure_vips());
  const ModelData& d = model->data();
  const ir::Graph& g = d.graph;
  TESSERA_CHECK(g.inputs.size() == 1 && g.outputs.size() == 1, Error::Unsupported,
                "the model has {} inputs and {} outputs; images go through models with one of each", g.inputs.size(),
                g.outputs.size());
  TESSERA_ASSIGN_OR_RETURN(const int channels, image_channels(*model));
  const int out_channels = static_cast<int>(d.upper_shapes[g.outputs[0]][1]);

  TESSERA_RETURN_IF_ERROR(check_pixel_range(model->info().pixel_min, model->info().pixel_max));
  TESSERA_ASSIGN_OR_RETURN(OutputTarget target, plan_output(output, input, options.quality));
  TESSERA_ASSIGN_OR_RETURN(InputImage in, open_input_image(input, *model, options.input));
  // A TIFF GDAL cannot open (a codec it lacks, e.g. JPEG 2000) still runs, without its georeferencing;
  // without GDAL itself, no TIFF does.
  Result<Georef> georef = read_georef(input);
  if (!georef.ok() && georef.status().code() == Error::Unsupported) return georef.status();
  const Georef geo = georef.ok() ? *georef : Georef();
  const int64_t height = in.pixels.height(), width = in.pixels.width();  // padded
  // Whole or tiled, and the tile, within the memory budget; counted after the input is open, so that
  // libvips' own memory is in the process's.
  tiling::RunMemoryOptions memory{.backend = options.run.backend,
                                  .precision = options.run.precision,
                                  .process_bytes = options.process_bytes,
                                  .stream_sample_bytes = in.bits / 8};
  Result<tiling::RunPlan> planned =
      tiling::plan_run(*model, height, width, options.tiles, options.no_tile, options.run.threads, memory);
  if (!planned.ok()) {
    const bool padding_helps = options.input.pad == Padding::None &&
                               (in.takes_height != in.height || in.takes_width != in.width);
    return Status(planned.status().code(),
                  fmt::format("'{}' ({}x{}): {}{}", input, width, height, planned.status().message(),
                              padding_helps ? fmt::format("; --pad mirror|edge|zero pads it to {}x{} and crops the "
                                                          "output back",
                                                          in.takes_width, in.takes_height)
                                            : ""));
  }
  const bool tiled = planned->tiled;
  tiling::TilePlan plan = std::move(planned->plan);
  tiling::TiledRunOptions run_options = options.run;
  run_options.workers = planned->workers_option;
  const AxisScale scale_y = axis_scale(*model, 0, height, plan.out_height);
  const AxisScale scale_x = axis_scale(*model, 1, width, plan.out_width);
  const int64_t out_height = unpadded_output(plan.out_height, height - in.height, scale_y);
  const int64_t out_width = unpadded_output(plan.out_width, width - in.width, scale_x);
  const bool gray_out = in.gray_through_rgb && out_channels == 3;
  const bool alpha_out = in.alpha_band >= 0 && !saver_is(target, "jpeg");  // JPEG has no alpha

  ImageRunInfo info;
  info.in_width = in.width;
  info.in_height = in.height;
  info.out_width = out_width;
  info.out_height = out_height;
  info.in_description = in.description;
  info.out_bands = (gray_out ? 1 : out_channels) + (alpha_out ? 1 : 0);
  if (in.alpha_band >= 0 && !alpha_out) info.dropped.push_back("alpha (JPEG has none)");
  info.tiles = static_cast<int64_t>(plan.tiles.size());
  info.core_height = plan.core_height;
  info.core_width = plan.core_width;
  info.tiled = tiled;
  info.estimated_bytes = planned->estimated_bytes;
  info.above_default_memory = planned->above_default_memory;
  info.rotated = in.rotated;
  if (height != in.height || width != in.width) {
    info.padded_height = height;
    info.padded_width = width;
  }

  // The rows held at once: a band's input windows and two bands of output, in the image's depth.
  const int bytes = in.bits / 8;
  int64_t window_rows = 0, out_rows = 0;
  for (const tiling::Tile& t : plan.tiles) {
    window_rows = std::max(window_rows, t.rows.window());
    out_rows = std::max(out_rows, t.rows.out_end - t.rows.out_begin);
  }
  const int64_t band_bytes = window_rows * width * channels * bytes + 2 * out_rows * plan.out_width * out_channels * bytes;
  TESSERA_CHECK(band_bytes <= physical_memory() / 2, Error::InvalidImage,
                "'{}' is {}x{}: a band of tiles needs {} MiB, more than half of this machine's memory; use a smaller "
                "--tile",
                input, width, height, band_bytes >> 20);
  const int64_t out_bytes = out_width * out_height * info.out_bands * bytes;
  TESSERA_CHECK(!saver_is(target, "jpeg") || std::max(out_width, out_height) <= 65500, Error::InvalidArgument,
                "the output is {}x{}, above JPEG's limit of 65500 pixels a side; write a .tif or .png", out_width,
                out_height);
  TESSERA_CHECK(!saver_is(target, "webp") || std::max(out_width, out_height) <= 16383, Error::InvalidArgument,
                "the output is {}x{}, above WebP's limit of 16383 pixels a side; write a .tif or .png", out_width,
                out_height);
  info.bigtiff = saver_is(target, "tiff") && out_bytes >= kFourGiB - (int64_t{1} << 26);

  PixelScale scale(in.bits, model->info().pixel_min, model->info().pixel_max);
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<tiling::TiledRunner> runner,
                           tiling::TiledRunner::create(model, plan, Shape{1, channels, height, width}, run_options));
  info.workers = runner->stats().workers;
  // The bands whose output rows are written: padding's last rows may need none.
  int64_t bands_needed = 0;
  while (bands_needed < runner->band_count() && runner->band_output_rows(bands_needed).first < out_height)
    ++bands_needed;

  // Which input band each output band carries, for the georeferencing's per-band items.
  std::vector<int> band_source;
  for (int c = 0; c < (gray_out ? 1 : out_channels); ++c)
    band_source.push_back(out_channels == channels && !gray_out ? in.band_source[c] : -1);
  if (alpha_out) band_source.push_back(in.alpha_band);
  if (!georef.ok()) info.dropped.push_back("georeferencing (GDAL cannot read this TIFF)");
  if (!geo.empty()) {
    if (saver_is(target, "tiff"))
      info.kept.push_back("georeferencing");
    else
      info.dropped.push_back("georeferencing (write a .tif to keep it)");
  }

  // "NAME.tessera-tmp-PID-HOST-N.EXT" beside the output: libvips picks the same writer by EXT. From
  // here on, every path ends in temp_path_done.
  const std::string temp = temp_path_for(target.path);
  info.temp_path = temp;
  ImageSource source(in.pixels, in.bits, scale, input);
  ImageSink sink(plan.out_width, out_channels, in.bits, scale);
  Producer producer(*runner, source, sink);

  Status failure;
  try {
    const VipsBandFormat format = in.bits == 16 ? VIPS_FORMAT_USHORT : VIPS_FORMAT_UCHAR;
    vips::VImage out = output_image(producer, plan.out_width, plan.out_height, out_channels, in.bits);
    if (out_width != plan.out_width || out_height != plan.out_height)
      out = out.crop(0, 0, static_cast<int>(out_width), static_cast<int>(out_height));
    if (gray_out) out = out.colourspace(interpretation_of(1, in.bits)).cast(format);
    Result<vips::VImage> alpha = alpha_out ? open_alpha(input, in) : Result<vips::VImage>(vips::VImage());
    if (alpha_out) {
      if (!alpha.ok()) {
        failure = alpha.status();
        throw vips::VError("");
      }
      out = out.bandjoin(alpha_at_output(*alpha, scale_x, scale_y, out_width, out_height).cast(format));
    }
    // The profile describes the file's colours: the output has them when nothing was converted or
    // picked and the model keeps the channels, or when gray went through an RGB model and back.
    const bool same_colours = gray_out || (!in.colours_converted && out_channels == channels);
    out = with_metadata(out, in, target, scale_x, scale_y, same_colours, info.kept, info.dropped);
    if (on_start) on_start(info);
    vips::VOption* save = vips::VImage::option();
    if (info.bigtiff) save->set("bigtiff", true)->set("tile", true)->set("tile_width", 512)->set("tile_height", 512);
    std::string name = target.options.empty() ? temp : temp + "[" + target.options + "]";
    tsan_release(&producer);  // generate_rows
    out.write_to_file(name.c_str(), save);
    tsan_acquire(&producer);
    if (producer.next_band < bands_needed)
      failure = Status(Error::Internal, fmt::format("libvips stopped after {} of {} bands", producer.next_band,
                                                    bands_needed));
  } catch (const vips::VError& e) {
    tsan_acquire(&producer);
    std::string why = one_line(e.what());
    if (failure.ok())
      failure = producer.error.ok() ? Status(Error::IoError, fmt::format("cannot write '{}': {}", target.path, why))
                                    : producer.error;
  }
  // libvips marks every band past gray or RGB as alpha: an RGB + NIR output needs its tag corrected.
  const int colour_bands = info.out_bands - (alpha_out ? 1 : 0);
  if (failure.ok() && saver_is(target, "tiff") && colour_bands != 1 && colour_bands != 3)
    failure = mark_alpha_band(temp, alpha_out ? info.out_bands - 1 : -1);
  if (failure.ok() && !geo.empty() && saver_is(target, "tiff"))
    failure = write_georef(temp, geo,
                           PixelMap{scale_x.scale(), scale_y.scale(), static_cast<double>(scale_x.offset),
                                    static_cast<double>(scale_y.offset)},
                           band_source);
  std::error_code ec;
  if (failure.ok()) {
    fs::rename(temp, target.path, ec);
    if (ec) failure = Status(Error::IoError, fmt::format("cannot rename '{}' to '{}': {}", temp, target.path,
                                                         ec.message()));
  }
  if (!failure.ok()) fs::remove(temp, ec);
  temp_path_done(temp);
  if (!failure.ok()) return failure;
  return info;
}

}  // namespace tessera
