#!/usr/bin/env bash
# The checks only a CUDA machine can make: the GPU tests (pytest -m gpu) and the GPU inference
# benchmark of both models (nvForest and torch-cuda vs scikit-learn and ONNX Runtime on the same
# machine's CPU, batch 1 / 64 / 1,024 / 100,000). Installs the gpu extra first (nvforest-cu12,
# about 3.4 GB from the package registry). Usage: scripts/gpu-check.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-gpu-check}
mkdir -p "$out"
bash scripts/setup.sh test,gpu
nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || echo "nvidia-smi failed: see $out/nvidia-smi.txt" >&2
.venv/bin/python -m pytest -m gpu tests/core -p no:cacheprovider 2>&1 | tee "$out/pytest-gpu.txt"
for model in forest boosting; do
  .venv/bin/python benchmarks/inference.py --hardware gpu --model "$model" --budget 0.5 2>&1 | tee "$out/inference-$model.txt"
done
