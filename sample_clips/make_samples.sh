#!/usr/bin/env bash
# Regenerates the sample clips with vidlint's own synthetic generator (deterministic).
set -euo pipefail
cd "$(dirname "$0")"
common=(--size 480x272 --frames 72 --fps 24)
vidlint synth clean_pan.mp4 "${common[@]}" --camera pan --seed 1
vidlint synth clean_static.mp4 "${common[@]}" --camera static --seed 2
vidlint synth frozen_stall.mp4 "${common[@]}" --seed 3 -a freeze@30:12
vidlint synth scene_jump.mp4 "${common[@]}" --seed 4 -a cut@40
vidlint synth black_frames.mp4 "${common[@]}" --seed 5 -a black@36:2
vidlint synth corrupt_stretch.mp4 "${common[@]}" --seed 6 -a corrupt@44:10
vidlint synth repeated_3x.gif --size 256x192 --frames 30 --fps 24 --seed 7 -a cadence@0:30,k=3
