#!/usr/bin/env bash
# The Linux installer: dist/kpdd-tutor-VERSION-linux-ARCH.tar.gz from the one-folder app.
#   packaging/linux/make_tarball.sh [DIST_DIR] [VERSION]
# Contents: kpdd-tutor-VERSION/{kpdd-tutor/ (the app), install.sh, kpdd-tutor.desktop, icons, README.txt}.
# Users unpack it and run ./install.sh (per user, no root), or run kpdd-tutor/kpdd-tutor in place.
# If `appimagetool` is on the PATH, an AppImage is made as well (it is not available here: the tool
# is only published on GitHub, which this build machine cannot reach).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIST=${1:-$ROOT/dist}
VERSION=${2:-$("$ROOT/dist/kpdd-tutor/kpdd-tutor" --version | awk '{print $NF}')}
ARCH=$(uname -m)
NAME="kpdd-tutor-$VERSION"
STAGE="$ROOT/build/tarball/$NAME"
OUT="$DIST/$NAME-linux-$ARCH.tar.gz"

[ -x "$DIST/kpdd-tutor/kpdd-tutor" ] || { echo "no app in $DIST/kpdd-tutor: run the PyInstaller spec first" >&2; exit 1; }
rm -rf "$ROOT/build/tarball"
mkdir -p "$STAGE"
cp -a "$DIST/kpdd-tutor" "$STAGE/kpdd-tutor"
cp "$ROOT/packaging/linux/install.sh" "$ROOT/packaging/linux/kpdd-tutor.desktop" "$STAGE/"
cp "$ROOT/resources/icons/kpdd-tutor.svg" "$ROOT/resources/icons/kpdd-tutor.png" "$STAGE/"
cat > "$STAGE/README.txt" <<TXT
KPDD Tutor $VERSION for Linux ($ARCH): an offline math word-problem tutor. No Python needed.

  ./install.sh                 install for this user (menu entry, ~/.local/bin/kpdd-tutor)
  ./install.sh --uninstall     remove it again
  kpdd-tutor/kpdd-tutor        or run it in place, without installing
  kpdd-tutor --self-test       check the installation (headless; prints each step)
  kpdd-tutor cli solve "..."   the command line (same as the kpdd command of the Python package)

Needs glibc 2.36 or newer (Debian 12, Ubuntu 22.10, Fedora 37 or later) and a CPU with AVX2
(Intel Haswell / AMD Zen or newer). The default model (SmolLM2-135M-Instruct, Apache-2.0) is
included. Licenses of the bundled parts: kpdd-tutor/_internal/licenses/THIRD-PARTY-NOTICES.txt
TXT
# Reproducible-ish archive: sorted names, no owner information.
tar --sort=name --owner=0 --group=0 --numeric-owner -C "$ROOT/build/tarball" -czf "$OUT.partial" "$NAME"
mv "$OUT.partial" "$OUT"
echo "$OUT"

if command -v appimagetool >/dev/null 2>&1; then
    APPDIR="$ROOT/build/AppDir"
    rm -rf "$APPDIR"
    mkdir -p "$APPDIR/usr"
    cp -a "$DIST/kpdd-tutor" "$APPDIR/usr/kpdd-tutor"
    cp "$ROOT/packaging/linux/kpdd-tutor.desktop" "$ROOT/resources/icons/kpdd-tutor.png" "$APPDIR/"
    printf '#!/bin/sh\nexec "$(dirname "$(readlink -f "$0")")/usr/kpdd-tutor/kpdd-tutor" "$@"\n' > "$APPDIR/AppRun"
    chmod +x "$APPDIR/AppRun"
    ARCH=$ARCH appimagetool "$APPDIR" "$DIST/$NAME-$ARCH.AppImage"
else
    echo "appimagetool not found: no AppImage (the .tar.gz is the Linux installer)" >&2
fi
