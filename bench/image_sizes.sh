#!/usr/bin/env bash
# Streamed image runs against image size: wall time and the peak RSS of the tessera process (GNU
# time) for square images and for a fixed width with growing height, one model (tiny: 3 gray 3x3
# convs), --tile 512 --threads 2. Memory should stay flat as the height grows. Prints a Markdown table.
#   bench/image_sizes.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
out=out/bench-images
mkdir -p "$out"
tessera="$build/tessera"

/usr/bin/python3 tests/models/make_models.py "$out" --only tiny > /dev/null
"$tessera" compile "$out/tiny.onnx" -o "$out/tiny.tsr" --dim height=32:1024 --dim width=32:1024 \
  --pixel-range 0:255 > /dev/null

make_image() {  # an 8-bit gray TIFF of width x height with structure everywhere, written in strips
  /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import struct, sys
import numpy as np
w, h, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rows = 256  # per strip: the file is written (and read back by libvips) strip by strip
x = np.arange(w, dtype=np.int64)[None, :]
strips = (h + rows - 1) // rows
with open(path, "wb") as f:
    f.write(b"II*\0" + struct.pack("<I", 0))  # the IFD offset is patched in at the end
    offsets, counts = [], []
    for y0 in range(0, h, rows):
        y = np.arange(y0, min(h, y0 + rows), dtype=np.int64)[:, None]
        offsets.append(f.tell())
        data = (((x * 7 + y * 13) % 256 + (x * y) % 253) % 256).astype(np.uint8).tobytes()
        counts.append(len(data))
        f.write(data)
    arrays = f.tell()
    f.write(struct.pack(f"<{strips}I", *offsets) + struct.pack(f"<{strips}I", *counts))
    ifd = f.tell()
    SHORT, LONG = 3, 4
    entries = [(256, LONG, 1, w), (257, LONG, 1, h), (258, SHORT, 1, 8), (259, SHORT, 1, 1), (262, SHORT, 1, 1),
               (273, LONG, strips, arrays), (277, SHORT, 1, 1), (278, LONG, 1, rows), (279, LONG, strips, arrays + 4 * strips)]
    f.write(struct.pack("<H", len(entries)))
    for tag, kind, count, value in entries:
        if count == 1 and kind == LONG or count > 1:
            f.write(struct.pack("<HHII", tag, kind, count, value))
        else:
            f.write(struct.pack("<HHIHH", tag, kind, count, value, 0))
    f.write(struct.pack("<I", 0))
    f.seek(4)
    f.write(struct.pack("<I", ifd))
PY
}

echo "| image | megapixels | time | MP/s | peak RSS | tiles |"
echo "|---|---|---|---|---|---|"
for size in 1024x1024 4096x4096 16384x16384 32768x32768 4096x1024 4096x16384 4096x32768; do
  w=${size%x*}
  h=${size#*x}
  make_image "$w" "$h" "$out/in.tif"
  /usr/bin/time -f "%e %M" -o "$out/time.txt" "$tessera" run "$out/tiny.tsr" "$out/in.tif" "$out/out.tif" \
    --tile 512 --threads 2 > "$out/summary.txt"
  read -r seconds kib < "$out/time.txt"
  tiles=$(sed -E 's/.*: ([0-9]+) tiles? of.*/\1/' "$out/summary.txt")
  awk -v size="$size" -v w="$w" -v h="$h" -v s="$seconds" -v kib="$kib" -v tiles="$tiles" \
    'BEGIN { mp = w * h / 1e6; printf "| %s | %.0f | %.1f s | %.1f | %d MiB | %s |\n", size, mp, s, mp / s, kib / 1024, tiles }'
done
rm -f "$out/in.tif" "$out/out.tif"
