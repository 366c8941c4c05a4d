#!/usr/bin/env bash
# Set up KPDD Tutor on a fresh machine: a virtualenv in .venv, the package with its extras, the
# default model in the user's data folder. Idempotent and quick the second time (pip caches the
# llama-cpp-python wheel it builds; the model is checked by sha256 and left alone).
#
#   bash scripts/bootstrap.sh          the app: core + desktop
#   bash scripts/bootstrap.sh --dev    everything: + distill, export and test tools
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[ "${1:-}" = "--dev" ] && dev=1
PY=${PYTHON:-python3}

# System packages the tests and the app use (Qt's runtime libraries, pdftotext). Best effort:
# only as root with apt, and only for what is missing.
need=()
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
ldconfig -p 2>/dev/null | grep -q libxkbcommon.so.0 || need+=(libxkbcommon0)
ldconfig -p 2>/dev/null | grep -q 'libEGL.so.1' || need+=(libegl1)
ldconfig -p 2>/dev/null | grep -q 'libfontconfig.so.1' || need+=(libfontconfig1)
ldconfig -p 2>/dev/null | grep -q 'libGL.so.1' || need+=(libgl1)
ldconfig -p 2>/dev/null | grep -q 'libdbus-1.so.3' || need+=(libdbus-1-3)
# The program sandbox's seccomp filter is built by the system's libseccomp (kpdd/sandbox/os_layer.py).
ldconfig -p 2>/dev/null | grep -q 'libseccomp.so.2' || need+=(libseccomp2)
# Qt's xcb platform (a real window) needs these; offscreen tests do not.
for lib in libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-image0 libxcb-render-util0 libxcb-xkb1 \
           libxkbcommon-x11-0 libxcb-shape0 libxcb-randr0; do
  dpkg -s "$lib" >/dev/null 2>&1 || need+=("$lib")
done
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages: ${need[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null) \
    || echo "warning: could not install ${need[*]}; PDF checks or Qt may not work" >&2
fi

[ -x .venv/bin/python ] || "$PY" -m venv .venv
PIP=(.venv/bin/python -m pip install --disable-pip-version-check -q)

# llama.cpp, built once into a wheel of our own and reused from the user cache:
# - GGML_NATIVE=OFF: a portable build. The native one enables AMX here and segfaults, and would
#   crash on users' older CPUs (illegal instruction where the build machine's extensions are missing).
# - GGML_OPENMP=OFF: ggml's own thread pool instead of the system libgomp. torch ships its own
#   OpenMP runtime, and two runtimes in one process (eval, export check, tests) can hang in
#   llama_decode; the installer needs no libgomp either.
# pip's own wheel cache does not key on CMAKE_ARGS, hence a folder named after the flags.
LLAMA_VERSION=0.3.36
export CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_OPENMP=OFF"
WHEELS="${XDG_CACHE_HOME:-$HOME/.cache}/kpdd-tutor/wheels/llama-native-off-openmp-off"
if ! ls "$WHEELS"/llama_cpp_python-$LLAMA_VERSION-*.whl >/dev/null 2>&1; then
  # Measured on a 2-core machine: about 4 minutes with both cores idle, 11 when other programs keep
  # them busy. The compiler's own progress is shown (scripts/build_progress.py), its output logged.
  echo "Compiling llama.cpp (llama-cpp-python $LLAMA_VERSION), once: about 4 minutes on 2 idle cores, longer on busy ones."
  mkdir -p "$WHEELS"
  log="$WHEELS/build.log"
  if ! .venv/bin/python -m pip wheel --disable-pip-version-check -v --no-deps --no-cache-dir \
       "llama-cpp-python==$LLAMA_VERSION" -w "$WHEELS" 2>&1 | "$PY" scripts/build_progress.py --log "$log"; then
    echo "error: compiling llama.cpp failed. The last lines of $log:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
fi
"${PIP[@]}" --force-reinstall --no-deps "$WHEELS"/llama_cpp_python-$LLAMA_VERSION-*.whl
if [ $dev = 1 ]; then
  # torch first, pinned: the CPU wheel. An unpinned torch pulls several GB of CUDA packages.
  "${PIP[@]}" "torch==2.13.0"
  "${PIP[@]}" -e ".[desktop,distill,export,dev,package]"
else
  "${PIP[@]}" -e ".[desktop]"
fi

if [ $dev = 1 ]; then
  .venv/bin/kpdd setup            # the models the tests use
else
  # The tutor as it ships: the student, and Qwen2.5-Coder-1.5B (1.1 GB) for a second opinion on
  # doubtful answers (docs/MODEL_CARD.md: about 10 points more answers right).
  .venv/bin/kpdd setup --all
fi
if [ $dev = 1 ]; then
  # llama.cpp's converter scripts for `kpdd export` (fetched once into the user cache).
  .venv/bin/kpdd export fetch-converter >/dev/null 2>&1 || echo "note: converter not prefetched" >&2
fi
