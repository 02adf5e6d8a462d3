"""vidlint's accuracy benchmark: artifacts injected into real and generated footage, with labels,
scored per kind on a tune and a held-out split. Run ``python -m benchmarks.accuracy``."""
