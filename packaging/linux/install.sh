#!/bin/sh
# Install KPDD Tutor for the current user (no root, no Python needed):
#   ./install.sh            -> ~/.local/opt/kpdd-tutor, a launcher in the applications menu,
#                              and ~/.local/bin/kpdd-tutor on the PATH
#   ./install.sh --uninstall
# PREFIX=/opt/kpdd-tutor BIN_DIR=/usr/local/bin DATA_HOME=/usr/local/share ./install.sh  (system-wide, as root)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
DATA_HOME=${DATA_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}}
PREFIX=${PREFIX:-$HOME/.local/opt/kpdd-tutor}
BIN_DIR=${BIN_DIR:-$HOME/.local/bin}
APPS="$DATA_HOME/applications"
ICONS="$DATA_HOME/icons/hicolor"

if [ "${1:-}" = "--uninstall" ]; then
    rm -rf "$PREFIX"
    rm -f "$BIN_DIR/kpdd-tutor" "$APPS/kpdd-tutor.desktop" \
          "$ICONS/scalable/apps/kpdd-tutor.svg" "$ICONS/256x256/apps/kpdd-tutor.png"
    echo "KPDD Tutor removed (your history and models in ~/.local/share/kpdd-tutor are kept)."
    exit 0
fi

mkdir -p "$PREFIX" "$BIN_DIR" "$APPS" "$ICONS/scalable/apps" "$ICONS/256x256/apps"
# Replace an older install as a whole (no stale libraries left behind).
rm -rf "$PREFIX.new"
cp -a "$HERE/kpdd-tutor" "$PREFIX.new"
rm -rf "$PREFIX"
mv "$PREFIX.new" "$PREFIX"
ln -sf "$PREFIX/kpdd-tutor" "$BIN_DIR/kpdd-tutor"
cp "$HERE/kpdd-tutor.svg" "$ICONS/scalable/apps/kpdd-tutor.svg"
cp "$HERE/kpdd-tutor.png" "$ICONS/256x256/apps/kpdd-tutor.png"
sed "s|^Exec=kpdd-tutor|Exec=\"$PREFIX/kpdd-tutor\"|" "$HERE/kpdd-tutor.desktop" > "$APPS/kpdd-tutor.desktop"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$APPS" >/dev/null 2>&1 || true
echo "KPDD Tutor installed in $PREFIX"
echo "Start it from the applications menu, or run: kpdd-tutor   (check it with: kpdd-tutor --self-test)"
