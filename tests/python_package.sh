#!/usr/bin/env bash
# Installs the Python package as a user would, with pip into a virtual environment that sees Debian's
# packages (no network: --no-index, --no-build-isolation), reusing BUILD_DIR's CMake build.
#   tests/python_package.sh BUILD_DIR SOURCE_DIR   -> BUILD_DIR/python-venv
set -euo pipefail
build=$(cd "$1" && pwd)
source=$(cd "$2" && pwd)
venv="$build/python-venv"
rm -rf "$venv"
/usr/bin/python3 -m venv --system-site-packages "$venv"
cd "$source"
TESSERA_CMAKE_BUILD_DIR="$build" "$venv/bin/pip" install -q --no-build-isolation --no-index .
cd /
"$venv/bin/python" -c "import tessera, sys; assert tessera.__file__.startswith('$venv'), tessera.__file__; print('installed', tessera.__version__, 'in', '$venv')"
