#!/usr/bin/env bash
# Build the installed app and the platform's installer, in one command, from the repository root:
#
#     packaging/build.sh
#
# -> dist/kpdd-tutor/                               the one-folder app (runs with no Python installed)
# -> dist/kpdd-tutor-VERSION-linux-ARCH.tar.gz      the Linux installer (.desktop file, icon, install.sh)
#
# Steps: PyInstaller (pinned) into the venv if missing; checks that llama.cpp is the portable build;
# the default model in place (`kpdd setup`); license texts gathered from the installed packages; the
# spec; then the installer. Windows (packaging/windows/kpdd-tutor.iss) and macOS
# (packaging/macos/make_dmg.sh) run the same spec on their own machines; they were not tried here.
#
# Environment: PYTHON (default .venv/bin/python), KPDD_BUNDLE_MODEL (see the spec).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
PYINSTALLER_VERSION=6.22.3
START=$(date +%s)

say() { printf '\n== %s\n' "$*"; }

say "PyInstaller $PYINSTALLER_VERSION"
if [ "$("$PYTHON" -c 'import PyInstaller; print(PyInstaller.__version__)' 2>/dev/null || true)" != "$PYINSTALLER_VERSION" ]; then
    "$PYTHON" -m pip install --quiet "pyinstaller==$PYINSTALLER_VERSION"
fi

say "llama.cpp: portable build?"
LLAMA_LIB=$("$PYTHON" -c 'import llama_cpp, pathlib; print(pathlib.Path(llama_cpp.__file__).parent / "lib")')
LLAMA_VERSION=$("$PYTHON" -c 'from importlib.metadata import version; print(version("llama-cpp-python"))')
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
    "$PYTHON" -m kpdd.cli setup
fi

say "license texts"
SDIST=$(ls build/sdist/llama_cpp_python-"$LLAMA_VERSION".tar.gz 2>/dev/null || true)
if [ -z "$SDIST" ]; then
    # llama.cpp's own LICENSE is only in the source archive (pip's cache makes this fast the second time).
    "$PYTHON" -m pip download --quiet --no-deps --no-binary :all: "llama-cpp-python==$LLAMA_VERSION" -d build/sdist \
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
