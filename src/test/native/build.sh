#!/usr/bin/env bash
# Builds the hip-ffm HIP TEST DOUBLE runtime, libhipffm_testrt.so (see README.md next to this script),
# against the pinned ROCm headers of scripts/fetch-headers.
#
# Usage: src/test/native/build.sh [OUTDIR] [--selftest] [--valgrind] [--all-pins]
#   OUTDIR       where libhipffm_testrt.so goes (default: <repo>/target/native)
#   --selftest   also build OUTDIR/selftest from selftest.c and run it
#   --valgrind   like --selftest, and run it once more under valgrind --leak-check=full --error-exitcode=1
#   --all-pins   then do the same against every other pinned ROCm header set (ROCm 7.2.4), into OUTDIR/rocm-<version>/
# Environment: CC (default gcc), HIP_INCLUDE_DIR (default: scripts/fetch-headers --print-include-dir)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)

out="" selftest=0 valgrind=0 all_pins=0 flags=()
for arg in "$@"; do
  case "$arg" in
    --selftest) selftest=1 flags+=("$arg") ;;
    --valgrind) selftest=1 valgrind=1 flags+=("$arg") ;;
    --all-pins) all_pins=1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    -*) echo "build.sh: unknown option $arg" >&2; exit 2 ;;
    *) [ -z "$out" ] || { echo "build.sh: more than one OUTDIR" >&2; exit 2; }; out=$arg ;;
  esac
done
out=${out:-$root/target/native}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# HIP_INCLUDE_DIR overrides the pinned headers (scripts/fetch-headers also insists on the CUDA toolkit headers).
inc=${HIP_INCLUDE_DIR:-$("$root/scripts/fetch-headers" --print-include-dir)}
cc=${CC:-gcc}
cflags=(-std=gnu11 -O1 -g -Wall -Wextra -Werror -D__HIP_PLATFORM_AMD__ -I"$inc")

# The cudart TEST DOUBLE: hipffm_cudart.c (CUDA's names over the HIP test runtime) and hipffm_testrt.c in one
# library, OUTDIR/cudart/libcudart.so.13, exporting only cuda* and the hooks (cudart.map). Its cudaGetErrorName
# lists every enumerator of cudaError in the CUDA header.
cuda_inc=${CUDA_INCLUDE_DIR:-${CUDA_HOME:-/usr/local/cuda}/include}
mkdir -p "$out/cudart"
awk '/^enum __device_builtin__ cudaError$/ {on = 1; next}
     on && /^};/ {exit}
     on && match($0, /^[ \t,]*cuda[A-Za-z0-9_]+[ \t]*=/) {name = substr($0, RSTART, RLENGTH); gsub(/[ \t,=]/, "", name); print "X(" name ")"}' \
  "$cuda_inc/driver_types.h" > "$out/cudart/hipffm_cuda_error_names.inc"
[ -s "$out/cudart/hipffm_cuda_error_names.inc" ] || { echo "build.sh: no cudaError enumerators found in $cuda_inc/driver_types.h" >&2; exit 1; }
"$cc" "${cflags[@]}" -I"$cuda_inc" -I"$out/cudart" -shared -fPIC -Wl,-soname,libcudart.so.13 \
  -Wl,--version-script="$here/cudart.map" -o "$out/cudart/libcudart.so.13" \
  "$here/hipffm_testrt.c" "$here/hipffm_cudart.c" -lpthread
echo "build.sh: $out/cudart/libcudart.so.13"

"$cc" "${cflags[@]}" -shared -fPIC -o "$out/libhipffm_testrt.so" "$here/hipffm_testrt.c" -lpthread
echo "build.sh: $out/libhipffm_testrt.so"

# The C peer of FdChannelTest: FdChannel's wire format written by hand, good and bad messages with fds.
"$cc" "${cflags[@]}" -o "$out/fdpeer" "$here/fdpeer.c"
echo "build.sh: $out/fdpeer"

if [ "$all_pins" = 1 ]; then
  # The other pins first, each by this script in a process of its own; OUTDIR keeps the bindings' pin.
  for version in $("$root/scripts/fetch-headers" --print-versions | tail -n +2); do
    HIP_INCLUDE_DIR=$("$root/scripts/fetch-headers" --print-include-dir "$version") \
      bash "$0" "$out/rocm-$version" ${flags[@]+"${flags[@]}"}
  done
fi

[ "$selftest" = 1 ] || exit 0

# Every enumerator of hipError_t in the pinned header (aliases included), for the error-name checks.
awk '/^typedef enum [A-Za-z_]* *hipError_t *\{/ {on = 1; next}
     on && /^\} *hipError_t;/ {exit}
     on && match($0, /^[ \t]*hip[A-Za-z0-9_]+/) {name = substr($0, RSTART, RLENGTH); gsub(/[ \t]/, "", name); print "X(" name ")"}' \
  "$inc/hip/hip_runtime_api.h" > "$out/hipffm_error_names.inc"
[ -s "$out/hipffm_error_names.inc" ] || { echo "build.sh: no hipError_t enumerators found in $inc/hip/hip_runtime_api.h" >&2; exit 1; }

"$cc" "${cflags[@]}" -I"$out" -o "$out/selftest" "$here/selftest.c" \
  -L"$out" -lhipffm_testrt -Wl,-rpath,"$out" -lpthread
"$out/selftest"

if [ "$valgrind" = 1 ]; then
  command -v valgrind >/dev/null || { echo "build.sh: valgrind not found" >&2; exit 1; }
  valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible \
    --error-exitcode=1 "$out/selftest"
fi

# The cudart double's self-test, the same way (through CUDA's headers only).
"$cc" "${cflags[@]}" -I"$cuda_inc" -I"$out/cudart" -o "$out/cudart/selftest_cudart" "$here/selftest_cudart.c" \
  -L"$out/cudart" -l:libcudart.so.13 -Wl,-rpath,"$out/cudart" -ldl -lpthread
"$out/cudart/selftest_cudart"

if [ "$valgrind" = 1 ]; then
  valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible \
    --error-exitcode=1 "$out/cudart/selftest_cudart"
fi
