#!/usr/bin/python3
"""Fetch the UpscalerJS ESRGAN packages for the golden tests.

Usage: /usr/bin/python3 tests/esrgan/make_testdata.py REPO_ROOT OUT_DIR

Runs scripts/fetch-models.sh (npm, into REPO_ROOT/.cache/models), then writes OUT_DIR/manifest.json:
per variant and scale, the model.json, the package's assets/fixture.png and its expected
assets/samples/<s>x/result.png. When the fetch fails, writes OUT_DIR/fetch_error.txt instead, so that
the golden tests fail with the reason (the next build tries again, as the manifest is missing).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

VARIANTS = ["slim", "medium", "thick"]


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
        for sample in sorted((package / "assets" / "samples").iterdir()):
            scale = int(sample.name.rstrip("x"))
            entries.append({"variant": variant, "scale": scale,
                            "model": str(package / "models" / f"x{scale}" / "model.json"),
                            "fixture": str(package / "assets" / "fixture.png"),
                            "result": str(sample / "result.png")})
    tmp = out_dir / "manifest.json.tmp"
    tmp.write_text(json.dumps({"models": entries}, indent=1) + "\n")
    os.replace(tmp, out_dir / "manifest.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
