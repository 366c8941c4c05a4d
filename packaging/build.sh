#!/usr/bin/env bash
# Build the installed app and the platform's installer, in one command, from the repository root:
#
#     packaging/build.sh
#
# -> dist/kpdd-tutor/                               the one-folder app (runs with no Python installed)
# -> dist/kpdd-tutor-VERSION-linux-ARCH.tar.gz      the Linux installer (.desktop file, icon, install.sh)
#
# Steps: a packaging venv with the runtime packages only (numpy without OpenBLAS, PyInstaller
# pinned); checks that llama.cpp is the portable build; the default model in place (`kpdd setup`); license texts gathered from the installed packages; the
# spec; then the installer. Windows (packaging/windows/kpdd-tutor.iss) and macOS
# (packaging/macos/make_dmg.sh) run the same spec on their own machines; they were not tried here.
#
# Environment: DEV_PYTHON (default .venv/bin/python), PKG_VENV (default build/venv-package),
# KPDD_BUNDLE_MODEL, KPDD_BUNDLE_SECOND_OPINION=0 (an installer without the 1.1 GB second-opinion
# model; see the spec).
set -euo pipefail
cd "$(dirname "$0")/.."
DEV_PYTHON=${DEV_PYTHON:-.venv/bin/python}  # the development venv (setup, versions to match)
PKG_VENV=${PKG_VENV:-build/venv-package}
PYTHON="$PKG_VENV/bin/python"
PYINSTALLER_VERSION=6.22.3
START=$(date +%s)

say() { printf '\n== %s\n' "$*"; }

say "packaging environment: $PKG_VENV"
# The app's runtime packages only (no torch, no training stack), with two differences from the dev
# venv: llama-cpp-python is setup's portable wheel (scripts/bootstrap.sh), and numpy is built without
# OpenBLAS: llama-cpp-python uses numpy's arrays, never its linear algebra, and numpy's wheels carry
# 28 MB of OpenBLAS and libgfortran. Both wheels are cached in the user cache, built once.
WHEEL_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/kpdd-tutor/wheels"
LLAMA_VERSION=$("$DEV_PYTHON" -c 'from importlib.metadata import version; print(version("llama-cpp-python"))')
NUMPY_VERSION=$("$DEV_PYTHON" -c 'from importlib.metadata import version; print(version("numpy"))')
PYSIDE_VERSION=$("$DEV_PYTHON" -c 'from importlib.metadata import version; print(version("PySide6-Essentials"))')
LLAMA_WHEEL=$(ls "$WHEEL_CACHE"/llama-native-off-openmp-off/llama_cpp_python-"$LLAMA_VERSION"-*.whl 2>/dev/null | head -1 || true)
if [ -z "$LLAMA_WHEEL" ]; then
    echo "No portable llama-cpp-python $LLAMA_VERSION wheel in $WHEEL_CACHE: run scripts/bootstrap.sh first." >&2
    exit 1
fi
NUMPY_WHEELS="$WHEEL_CACHE/numpy-$NUMPY_VERSION-noblas"
if ! ls "$NUMPY_WHEELS"/numpy-"$NUMPY_VERSION"-*.whl >/dev/null 2>&1; then
    echo "building numpy $NUMPY_VERSION without BLAS (once; several minutes)"
    "$DEV_PYTHON" -m pip wheel --disable-pip-version-check -q --no-deps --no-binary numpy "numpy==$NUMPY_VERSION" \
        -C setup-args=-Dallow-noblas=true -C setup-args=-Dblas=none -C setup-args=-Dlapack=none -w "$NUMPY_WHEELS"
fi
if [ ! -x "$PKG_VENV/bin/python" ]; then
    "$("$DEV_PYTHON" -c 'import sys; print(sys._base_executable)')" -m venv "$PKG_VENV"
fi
"$PYTHON" -m pip install --disable-pip-version-check -q "$NUMPY_WHEELS"/numpy-"$NUMPY_VERSION"-*.whl \
    "$LLAMA_WHEEL" "PySide6-Essentials==$PYSIDE_VERSION" "pyinstaller==$PYINSTALLER_VERSION"
"$PYTHON" -m pip install --disable-pip-version-check -q -e .  # its own deps: llama-cpp-python (installed above), platformdirs
if ls "$PKG_VENV"/lib/python*/site-packages/numpy.libs/*blas* >/dev/null 2>&1; then
    echo "numpy in $PKG_VENV carries a BLAS library; expected the no-BLAS build" >&2
    exit 1
fi

say "llama.cpp: portable build?"
LLAMA_LIB=$("$PYTHON" -c 'import llama_cpp, pathlib; print(pathlib.Path(llama_cpp.__file__).parent / "lib")')
if [ "$(uname -s)" = Linux ] && command -v objdump >/dev/null; then
    # A native build (GGML_NATIVE=ON) on an AVX-512 machine uses zmm registers and crashes on older
    # CPUs; the portable build (GGML_NATIVE=OFF) tops out at AVX2.
    ZMM=$(objdump -d "$LLAMA_LIB"/libggml-cpu.so | grep -c zmm || true)
    if [ "$ZMM" != 0 ]; then
        echo "libggml-cpu.so uses AVX-512 ($ZMM instructions): rebuild llama-cpp-python with CMAKE_ARGS=-DGGML_NATIVE=OFF" >&2
        exit 1
    fi
    echo "ok: no AVX-512 instructions in libggml-cpu.so (needs AVX2)"
fi

say "default model"
if [ "${KPDD_BUNDLE_MODEL:-}" = "" ]; then
    if [ "${KPDD_BUNDLE_SECOND_OPINION:-1}" = 0 ]; then
        "$DEV_PYTHON" -m kpdd.cli setup
    else
        "$DEV_PYTHON" -m kpdd.cli setup --all  # the student's base and the second-opinion model
    fi
fi

say "license texts"
SDIST=$(ls build/sdist/llama_cpp_python-"$LLAMA_VERSION".tar.gz 2>/dev/null || true)
if [ -z "$SDIST" ]; then
    # llama.cpp's own LICENSE is only in the source archive (pip's cache makes this fast the second time).
    "$DEV_PYTHON" -m pip download --quiet --no-deps --no-binary :all: "llama-cpp-python==$LLAMA_VERSION" -d build/sdist \
        || echo "warning: could not fetch the llama-cpp-python sdist; llama.cpp's license text will be missing" >&2
    SDIST=$(ls build/sdist/llama_cpp_python-"$LLAMA_VERSION".tar.gz 2>/dev/null || true)
fi
"$PYTHON" packaging/gather_licenses.py build/licenses ${SDIST:+--llama-sdist "$SDIST"} > build/licenses.log

say "PyInstaller spec"
"$PYTHON" -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
    packaging/kpdd-tutor.spec

say "installer"
VERSION=$(dist/kpdd-tutor/kpdd-tutor --version | awk '{print $NF}')
case "$(uname -s)" in
    Linux) packaging/linux/make_tarball.sh dist "$VERSION" ;;
    Darwin) packaging/macos/make_dmg.sh "$VERSION" ;;
    *) echo "On Windows, compile packaging/windows/kpdd-tutor.iss with Inno Setup 6 (iscc)." ;;
esac

say "done in $(( $(date +%s) - START )) s"
du -sh dist/kpdd-tutor
ls -l dist/*.tar.gz dist/*.dmg dist/*.AppImage 2>/dev/null || true
