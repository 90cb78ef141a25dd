#!/usr/bin/env bash
# Compiles the test kernels to PTX for the NVIDIA platform: src/test/cuda/build.sh OUTDIR
# (Maven puts it on the test class path as kernels.ptx). Needs nvcc from the CUDA 13 toolkit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTDIR}
nvcc=${NVCC:-${CUDA_HOME:-/usr/local/cuda}/bin/nvcc}
[ -x "$nvcc" ] || { echo "build.sh: nvcc not found at $nvcc (set NVCC or CUDA_HOME)" >&2; exit 1; }
mkdir -p "$out"
"$nvcc" --ptx -arch=compute_90 -o "$out/kernels.ptx" "$here/kernels.cu"
