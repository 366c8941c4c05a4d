#!/usr/bin/env bash
# macOS: "KPDD Tutor.app" (made by the spec's BUNDLE step on darwin) -> dist/kpdd-tutor-VERSION-macos-ARCH.dmg
#   packaging/macos/make_dmg.sh [VERSION]
# NOT TRIED: written on Linux. Uses only tools macOS ships (hdiutil, codesign). Notes for a Mac:
# - build llama-cpp-python with CMAKE_ARGS="-DGGML_NATIVE=OFF" (and -DGGML_METAL=ON if wanted) so the
#   libraries run on other Macs; build on the oldest macOS you support (LSMinimumSystemVersion 11.0);
# - the spec wants resources/icons/kpdd-tutor.icns for the app icon (iconutil -c icns from a .iconset);
# - without a Developer ID the app is signed ad hoc (codesign -s -): Gatekeeper then asks users to
#   open it with right-click > Open the first time. With one: set CODESIGN_IDENTITY and notarize
#   (xcrun notarytool submit ... --wait; xcrun stapler staple).
# - the sandbox's workers are the app's own executable (Contents/MacOS/kpdd-tutor --kpdd-sandbox-worker),
#   which stays inside the signed bundle.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
APP="$ROOT/dist/KPDD Tutor.app"
VERSION=${1:-$("$APP/Contents/MacOS/kpdd-tutor" --version | awk '{print $NF}')}
ARCH=$(uname -m)
OUT="$ROOT/dist/kpdd-tutor-$VERSION-macos-$ARCH.dmg"
STAGE="$ROOT/build/dmg"

[ -d "$APP" ] || { echo "no $APP: run the PyInstaller spec on macOS first" >&2; exit 1; }
codesign --force --deep --options runtime --sign "${CODESIGN_IDENTITY:--}" "$APP"
"$APP/Contents/MacOS/kpdd-tutor" --self-test --json "$ROOT/build/selftest-macos.json" \
    || { echo "the app's self-test failed: see build/selftest-macos.json" >&2; exit 1; }

rm -rf "$STAGE"
mkdir -p "$STAGE"
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
cp "$ROOT/dist/kpdd-tutor/_internal/licenses/THIRD-PARTY-NOTICES.txt" "$STAGE/" 2>/dev/null \
    || cp "$APP/Contents/Resources/licenses/THIRD-PARTY-NOTICES.txt" "$STAGE/" 2>/dev/null || true
rm -f "$OUT"
hdiutil create -volname "KPDD Tutor $VERSION" -srcfolder "$STAGE" -fs HFS+ -format UDZO -ov "$OUT"
echo "$OUT"
