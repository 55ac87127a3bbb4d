#!/usr/bin/env bash
# The web pages in headless Chromium (Debian `chromium`, installed if missing): the liveness page
# with the bundled models on a NUAA frame and a face crop, and the generator page with a small
# auto-decoder trained here on 16 sample faces. Screenshots in $1 (default build/page_check/).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
out=${1:-build/page_check}
if ! command -v chromium >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
[ -x build/fas ] || bash tools/build.sh fas_cli
rm -rf "$out" && mkdir -p "$out"
python3 tools/page_check.py liveness build/fas data/sample/frame_live.jpg "$out/serve-page.png"
python3 tools/page_check.py liveness build/fas data/sample/faces/ClientFace/0004/0004_01_06_03_0.jpg "$out/serve-crop.png"
# Two groups of 8 sample faces (live = group 1, spoof = group 0), 30 quick epochs (a few seconds).
awk '$2 == 1 && n++ < 8' data/sample/train.txt > "$out/ad.txt"
awk '$2 == 0 && n++ < 8' data/sample/train.txt >> "$out/ad.txt"
sed -i "s|^|$PWD/data/sample/|" "$out/ad.txt"
./build/fas train --model autodecoder --set images=16 --data "$out/ad.txt" --epochs 30 --batch 8 --threads 2 \
  --out "$out/ad" > "$out/ad.log" 2>&1 || { cat "$out/ad.log"; exit 1; }
python3 tools/page_check.py generator build/fas "$out/ad/last.safetensors" "$out/generator-page.png"
echo "page_check: $(( $(date +%s) - start )) s"
