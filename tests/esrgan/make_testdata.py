#!/usr/bin/python3
"""Fetch the UpscalerJS ESRGAN packages and decode their test images for the golden tests.

Usage: /usr/bin/python3 tests/esrgan/make_testdata.py REPO_ROOT OUT_DIR

Runs scripts/fetch-models.sh (npm, into REPO_ROOT/.cache/models), then writes OUT_DIR/manifest.json
and, per variant, OUT_DIR/<variant>/fixture.npy and OUT_DIR/<variant>/result_<s>x.npy: float32
[1, 3, H, W] pixel values 0..255 (RGB; the PNGs' alpha is dropped). When the fetch fails, writes
OUT_DIR/fetch_error.txt instead, so that the golden tests fail with the reason (the next build
tries again, as the manifest is missing).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

VARIANTS = ["slim", "medium", "thick"]


def rgb_nchw(png):
    pixels = np.asarray(Image.open(png).convert("RGBA"), dtype=np.float32)[:, :, :3]
    return np.ascontiguousarray(pixels.transpose(2, 0, 1)[None])


def main():
    root, out_dir = Path(sys.argv[1]), Path(sys.argv[2])
    out_dir.mkdir(parents=True, exist_ok=True)
    error_file = out_dir / "fetch_error.txt"
    fetch = subprocess.run([str(root / "scripts" / "fetch-models.sh"), *VARIANTS],
                           capture_output=True, text=True)
    if fetch.returncode != 0:
        error_file.write_text(fetch.stderr.strip() or fetch.stdout.strip() or "fetch-models.sh failed")
        print(f"make_testdata: could not fetch the ESRGAN models:\n{fetch.stderr}", file=sys.stderr)
        return 0  # the golden tests report the error; the rest of the build goes on
    if error_file.exists():
        error_file.unlink()

    entries = []
    for variant in VARIANTS:
        package = root / ".cache" / "models" / f"esrgan-{variant}"
        (out_dir / variant).mkdir(exist_ok=True)
        np.save(out_dir / variant / "fixture.npy", rgb_nchw(package / "assets" / "fixture.png"))
        for sample in sorted((package / "assets" / "samples").iterdir()):
            scale = int(sample.name.rstrip("x"))
            np.save(out_dir / variant / f"result_{scale}x.npy", rgb_nchw(sample / "result.png"))
            entries.append({"variant": variant, "scale": scale,
                            "model": str(package / "models" / f"x{scale}" / "model.json")})
    tmp = out_dir / "manifest.json.tmp"
    tmp.write_text(json.dumps({"models": entries}, indent=1) + "\n")
    os.replace(tmp, out_dir / "manifest.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
