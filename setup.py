"""Builds the _tessera extension with CMake for pip (pyproject.toml).

TESSERA_CMAKE_BUILD_DIR=DIR reuses a configured CMake build folder (make test does); otherwise a
build folder of its own is configured with the tests and the command left out.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = os.environ.get("TESSERA_CMAKE_BUILD_DIR")
        if not build_dir:
            build_dir = str(Path(self.build_temp).resolve() / "cmake")
            subprocess.run(["cmake", "-S", str(ROOT), "-B", build_dir, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                            "-DTESSERA_BUILD_TESTS=OFF", "-DTESSERA_BUILD_CLI=OFF",
                            f"-DPython3_EXECUTABLE={sys.executable}"], check=True)
        subprocess.run(["cmake", "--build", build_dir, "--target", "tessera_python"], check=True)
        built = next((Path(build_dir) / "python" / "tessera").glob("_tessera*.so"))
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, target)


setup(
    packages=["tessera", "tessera.dask"],
    package_dir={"": "python"},
    ext_modules=[Extension("tessera._tessera", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    options={"build": {"build_base": "out/python-build"}, "egg_info": {"egg_base": "out"}},
)
