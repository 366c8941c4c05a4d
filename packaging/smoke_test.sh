#!/usr/bin/env bash
# Smoke test of the built app, headless, with measurements; run from the repository root:
#
#     packaging/smoke_test.sh            build first (packaging/build.sh), then test
#     SKIP_BUILD=1 packaging/smoke_test.sh   test dist/kpdd-tutor as it is
#
# 1. `kpdd-tutor --self-test` with an empty KPDD_HOME (so the model used is the one in the bundle)
#    and a minimal environment (no PYTHONPATH, no venv on PATH);
# 2. the same with the network cut: `unshare -n` (a new network namespace with no interfaces up) when
#    permitted, else proxies pointed at a closed port;
# 3. the installer unpacks and its copy passes the self-test too (it is what users get);
# 4. sizes (folder, installer), the highest glibc symbol version the bundle needs;
# 5. timings, frozen vs source: start to a usable window (offscreen, the desktop app's --report-ready,
#    median of RUNS) and the sample problem's solve time (from the self-test).
# Exit status 0 only when every self-test passed.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
APP="$ROOT/dist/kpdd-tutor/kpdd-tutor"
RUNS=${RUNS:-3}
OUT=${OUT:-$ROOT/build/smoke}
FAILED=0
rm -rf "$OUT"
mkdir -p "$OUT"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    packaging/build.sh || exit 1
fi
[ -x "$APP" ] || { echo "no app at $APP" >&2; exit 1; }

# A clean environment: what a user's desktop session would give the app, nothing from this venv.
clean_env() {
    env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$HOME" LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen \
        KPDD_HOME="$1" "${@:2}"
}

self_test() {  # name, command...
    local name=$1
    shift
    local home=${SELFTEST_HOME:-$OUT/home-$name}
    mkdir -p "$home"
    echo
    echo "== self-test: $name"
    if clean_env "$home" "$@" --self-test --json "$OUT/selftest-$name.json" 2>&1 | tee "$OUT/selftest-$name.log"; then
        :
    fi
    if ! grep -q '"passed": true' "$OUT/selftest-$name.json" 2>/dev/null; then
        echo "FAILED: self-test $name"
        FAILED=1
    fi
}

self_test frozen "$APP"

if unshare -n true 2>/dev/null; then
    self_test frozen-no-network unshare -n "$APP"
    NETCUT="unshare -n (no network interfaces)"
else
    self_test frozen-no-network env http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 \
        HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9 "$APP"
    NETCUT="proxies pointed at 127.0.0.1:9 (unshare -n not permitted)"
fi

TARBALL=$(ls -t dist/kpdd-tutor-*-linux-*.tar.gz 2>/dev/null | head -1)
if [ -n "$TARBALL" ]; then
    mkdir -p "$OUT/unpacked"
    tar -xzf "$TARBALL" -C "$OUT/unpacked"
    UNPACKED=$(ls -d "$OUT"/unpacked/kpdd-tutor-*/kpdd-tutor/kpdd-tutor | head -1)
    # Installs into a throwaway prefix, then runs the installed copy.
    clean_env "$OUT/home-installed" PREFIX="$OUT/installed/opt" BIN_DIR="$OUT/installed/bin" \
        DATA_HOME="$OUT/installed/share" sh "$(dirname "$(dirname "$UNPACKED")")/install.sh" > "$OUT/install.log" 2>&1 \
        || { echo "FAILED: install.sh"; FAILED=1; }
    self_test installed "$OUT/installed/bin/kpdd-tutor"
fi

# A real X11 window (the xcb platform plugin and the X libraries in the bundle), when Xvfb is here.
XCB="not tried (no xvfb-run)"
if command -v xvfb-run >/dev/null 2>&1; then
    mkdir -p "$OUT/home-xcb"
    if xvfb-run -a -s "-screen 0 1280x800x24" sh -c 'env -i PATH=/usr/bin:/bin HOME="$HOME" LANG=C.UTF-8 \
            KPDD_HOME="$0" DISPLAY="$DISPLAY" XAUTHORITY="$XAUTHORITY" QT_QPA_PLATFORM=xcb KPDD_TUTOR_HARD_EXIT=1 \
            "$1" --report-ready --quit-after --no-preload' "$OUT/home-xcb" "$APP" > "$OUT/xcb.log" 2>&1 \
            && grep -q '^READY ' "$OUT/xcb.log"; then
        XCB="window shown under Xvfb with the xcb plugin ($(grep '^READY ' "$OUT/xcb.log"))"
    else
        XCB="FAILED (see $OUT/xcb.log)"
        FAILED=1
    fi
fi

# Timings: the desktop window, frozen and from source (offscreen; --report-ready prints READY <s>
# measured inside the process, the wall time here includes the interpreter / bootloader start).
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
window_time() {  # label, command...
    local label=$1
    shift
    : > "$OUT/ready-$label.txt"
    for _ in $(seq "$RUNS"); do
        local t0 t1
        t0=$(date +%s.%N)
        clean_env "$OUT/home-frozen" KPDD_TUTOR_HARD_EXIT=1 "$@" --report-ready --quit-after --no-preload \
            > "$OUT/ready-$label.log" 2>&1
        t1=$(date +%s.%N)
        echo "$t0 $t1" | awk '{printf "%.3f\n", $2 - $1}' >> "$OUT/ready-$label.txt"
    done
    median < "$OUT/ready-$label.txt"
}
READY_FROZEN=$(window_time frozen "$APP")
READY_SOURCE=$(window_time source env PYTHONPATH="$ROOT" "$ROOT/.venv/bin/python" "$ROOT/packaging/entry.py")

# From source there is no bundle: the model is the one `kpdd setup` put in the user's folder.
SELFTEST_HOME=$("$ROOT/.venv/bin/python" -c 'from kpdd import paths; print(paths.home_dir())') \
    self_test source env PYTHONPATH="$ROOT" "$ROOT/.venv/bin/python" "$ROOT/packaging/entry.py"

solve_seconds() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(next(f\"{s['seconds']:.1f}\" for s in d['steps'] if s['name']=='solve'))" "$1" 2>/dev/null || echo "?"; }
step_seconds() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(f\"{sum(s['seconds'] for s in d['steps'] if s['name'] in ('app','llama.cpp','model')):.2f}\")" "$1" 2>/dev/null || echo "?"; }

GLIBC=$(find dist/kpdd-tutor -type f -name '*.so*' -exec objdump -T {} + 2>/dev/null | grep -o 'GLIBC_2\.[0-9]*' | sort -t. -k2 -n -u | tail -1)
echo
echo "== summary"
echo "bundle folder:        $(du -sb dist/kpdd-tutor | awk '{printf "%.1f MB", $1 / 1e6}') (dist/kpdd-tutor), of which the model $(du -sb dist/kpdd-tutor/_internal/resources/models | awk '{printf "%.1f MB", $1 / 1e6}')"
[ -n "$TARBALL" ] && echo "installer:            $(du -b "$TARBALL" | awk '{printf "%.1f MB", $1 / 1e6}') ($TARBALL)"
echo "needs glibc:          ${GLIBC:-?} (built on $(ldd --version | head -1 | awk '{print $NF}'))"
echo "network cut:          $NETCUT"
echo "X11 (xcb):            $XCB"
echo "window ready (wall, median of $RUNS): frozen ${READY_FROZEN} s, source ${READY_SOURCE} s"
echo "self-test app+llama+model load: frozen $(step_seconds "$OUT/selftest-frozen.json") s, source $(step_seconds "$OUT/selftest-source.json") s"
echo "sample problem solve: frozen $(solve_seconds "$OUT/selftest-frozen.json") s, no network $(solve_seconds "$OUT/selftest-frozen-no-network.json") s, source $(solve_seconds "$OUT/selftest-source.json") s"
echo "machine load during the test: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
if [ "$FAILED" = 0 ]; then echo "SMOKE TEST PASSED"; else echo "SMOKE TEST FAILED"; fi
exit "$FAILED"
