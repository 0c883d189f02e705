#!/usr/bin/env bash
# Render the application icon's PNG sizes (what Briefcase installs: 16–512 px) from callsys.svg.
# Run after editing the SVG and commit the PNGs with it. Needs rsvg-convert (Debian: librsvg2-bin).
set -euo pipefail
cd "$(dirname "$0")"
for size in 16 32 64 128 256 512; do
  rsvg-convert --width "$size" --height "$size" --keep-aspect-ratio callsys.svg -o "callsys-$size.png"
done
