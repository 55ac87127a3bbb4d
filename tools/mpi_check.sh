#!/usr/bin/env bash
# The MPI checks of data-parallel training (docs/mpi.md), two ranks on this machine:
#  1. equivalence: `mpirun -np 2 fas train --batch B` ends with the weights of one process with
#     --batch B, to summation-order tolerance, for tiny-cnn and MobileNetV2-lite with --sync-bn
#     (conv + BN) and the AE1 stage of stacked-ae (no BN), also with small gradient buckets (many
#     sums started during the backward pass); per-rank BN must differ (the control that shows
#     the comparison can fail);
#  2. --resume with another N: one epoch on 2 ranks, resumed for a second on 1 = 2 epochs on 1;
#  3. an error on one rank ends both with one "fas: error" line, no hang;
#  4. a rank killed mid-run ends the job with an error, and the last checkpoint still loads.
# Usage: tools/mpi_check.sh [BUILD_DIR] (default build). Prints its duration.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
BUILD=${1:-build}
FAS=$BUILD/fas
OUT=$BUILD/mpi_check
DATA=data/sample/train.txt
command -v mpirun >/dev/null || { echo "mpi_check: mpirun not found (tools/setup.sh installs openmpi-bin)"; exit 1; }
[ -x "$FAS" ] || { echo "mpi_check: $FAS not built"; exit 1; }
# Process substitution, not a pipe: under pipefail, grep exiting at its first match can SIGPIPE
# ldd and end the script with status 141 and no message.
grep -q libmpi < <(ldd "$FAS") || { echo "mpi_check: $FAS was built without MPI (FAS_MPI=OFF)"; exit 1; }
rm -rf "$OUT" && mkdir -p "$OUT"
MPIRUN=(mpirun -np 2 --oversubscribe --allow-run-as-root)
# One thread per rank; passive OpenMP waits so two ranks on shared cores do not spin on each other.
export FAS_NUM_THREADS=1 OMP_WAIT_POLICY=passive
fail() { echo "mpi_check: FAIL: $*"; exit 1; }

# Measured largest |diff| of the runs below (Release build, AVX2): a few 1e-7 to 1e-6 (see
# docs/experiments/EXP-090-mpi-scaling.md); the tolerance leaves a margin of ~10x.
TOL=1e-5
equiv() {  # NAME MODEL ARGS...: one process vs 2 ranks (the 2-rank run gets the same ARGS)
  local name=$1 model=$2; shift 2
  "$FAS" train --model "$model" --data "$DATA" --out "$OUT/$name-1" --quiet "$@"
  timeout 300 "${MPIRUN[@]}" "$FAS" train --model "$model" --data "$DATA" --out "$OUT/$name-2" --quiet "$@" \
    || fail "$name: the 2-rank run failed"
  local like=()
  if [ -n "${LIKE:-}" ]; then  # the reference pair: one process with the scalar kernels
    FAS_ISA=scalar "$FAS" train --model "$model" --data "$DATA" --out "$OUT/$name-scalar" --quiet "$@"
    like=(--like-count "$OUT/$name-1/last.safetensors" "$OUT/$name-scalar/last.safetensors")
  fi
  echo -n "$name: "
  python3 tools/compare_weights.py "$OUT/$name-1/last.safetensors" "$OUT/$name-2/last.safetensors" $TOL "${like[@]}" \
    || fail "$name: 2 ranks differ from one process"
}
# 4 steps of 8 images (32 items), Adam at the recipe's rate.
COMMON=(--limit 32 --batch 8 --epochs 1 --size 32 --augment none)
equiv tiny-cnn-syncbn tiny-cnn "${COMMON[@]}" --sync-bn
# MobileNetV2-lite: every *_project_BN.bias has a zero true gradient (a BN follows through a 1x1
# conv, which cancels a per-channel shift), so Adam's first steps move it by +-lr on the sign of
# rounding noise, as they do in one process between two kernel sets: compared like that pair,
# by how many values moved (compare_weights.py --like-count). One step: from the second on, the
# moved values change every gradient, and how far that spreads depends on the summation orders of
# the CPU's OpenBLAS kernels (with Zen/Haswell kernels 2 ranks spread to 6,050 values after two
# steps where the kernel-set pair spreads to 179). After one step: ~150 vs ~160 on every OpenBLAS
# core type, and per-rank BN (the control) moves ~44,600.
MB=(--limit 8 --batch 8 --epochs 1 --size 32 --augment none)
LIKE=1 equiv mobilenetv2-syncbn mobilenetv2-lite "${MB[@]}" --sync-bn
equiv ae1 stacked-ae "${COMMON[@]}"
# Gradients reduced during the backward pass (dist::OverlappedBackward): with the default 4 MB
# buckets these small models start one sum at the end of the pass; small buckets start many
# while it runs (MobileNetV2-lite ~22 of 16 KB, AE1 ~16 of 1 KB), the same weights expected.
FAS_GRAD_BUCKET_KB=16 LIKE=1 equiv mobilenetv2-buckets mobilenetv2-lite "${MB[@]}" --sync-bn
FAS_GRAD_BUCKET_KB=1 equiv ae1-buckets stacked-ae "${COMMON[@]}"
# The control: per-rank BN normalises each half batch by its own statistics, which must show.
timeout 300 "${MPIRUN[@]}" "$FAS" train --model tiny-cnn --data "$DATA" --out "$OUT/tiny-cnn-rankbn" --quiet "${COMMON[@]}"
echo -n "tiny-cnn per-rank BN (control): "
python3 tools/compare_weights.py "$OUT/tiny-cnn-syncbn-1/last.safetensors" "$OUT/tiny-cnn-rankbn/last.safetensors" $TOL --differ \
  || fail "per-rank BN gave the single-process weights: the comparison cannot see a difference"
timeout 300 "${MPIRUN[@]}" "$FAS" train --model mobilenetv2-lite --data "$DATA" --out "$OUT/mobilenetv2-rankbn" --quiet "${MB[@]}"
echo -n "mobilenetv2-lite per-rank BN (control, must FAIL): "
python3 tools/compare_weights.py "$OUT/mobilenetv2-syncbn-1/last.safetensors" "$OUT/mobilenetv2-rankbn/last.safetensors" $TOL \
  --like-count "$OUT/mobilenetv2-syncbn-1/last.safetensors" "$OUT/mobilenetv2-syncbn-scalar/last.safetensors" \
  && fail "per-rank BN passed the MobileNetV2-lite comparison: it cannot see a difference"

# --resume with another N (AE1: no BN, so no rounding amplification to hide a real difference):
# 1 epoch on 2 ranks resumed for a second on 1 rank = 2 epochs on 1 rank; and resumed on 2 ranks
# = 2 epochs on 2 ranks, bit for bit (the resume contract of src/cli/train.cpp).
R=(--model stacked-ae --data "$DATA" --quiet --limit 32 --batch 8 --size 32 --augment none)
"$FAS" train "${R[@]}" --out "$OUT/resume-1" --epochs 2
timeout 300 "${MPIRUN[@]}" "$FAS" train "${R[@]}" --out "$OUT/resume-22x" --epochs 2 || fail "resume: the 2-rank run failed"
for n in 1 2; do
  timeout 300 "${MPIRUN[@]}" "$FAS" train "${R[@]}" --out "$OUT/resume-2$n" --epochs 1 \
    || fail "resume: the 2-rank run failed"
done
"$FAS" train --resume "$OUT/resume-21/last.safetensors" --data "$DATA" --out "$OUT/resume-21" --quiet --epochs 2
timeout 300 "${MPIRUN[@]}" "$FAS" train --resume "$OUT/resume-22/last.safetensors" --data "$DATA" --out "$OUT/resume-22" \
  --quiet --epochs 2 || fail "resume: the 2-rank resume failed"
echo -n "resume 2 ranks -> 1 vs 1 throughout: "
python3 tools/compare_weights.py "$OUT/resume-1/last.safetensors" "$OUT/resume-21/last.safetensors" $TOL \
  || fail "resume: 2 ranks then 1 differ from 1 rank throughout"
echo -n "resume 2 ranks -> 2 vs 2 throughout: "
python3 tools/compare_weights.py "$OUT/resume-22x/last.safetensors" "$OUT/resume-22/last.safetensors" 0 \
  || fail "resume: a resumed 2-rank run differs from an uninterrupted one"

# An error on rank 1 only (the NaN test hook): both ranks end, one error line, exit code != 0.
set +e
timeout 120 "${MPIRUN[@]}" "$FAS" train --model tiny-cnn --data "$DATA" --out "$OUT/nan" --quiet "${COMMON[@]}" \
  --debug-nan 3 --debug-nan-rank 1 >"$OUT/nan.out" 2>"$OUT/nan.err"
rc=$?
set -e
[ $rc -ne 0 ] || fail "an error on rank 1 exited 0"
[ $rc -ne 124 ] || fail "an error on rank 1 left the job hanging"
n=$(grep -c "^fas: error:" "$OUT/nan.err" || true)
[ "$n" = 1 ] || { cat "$OUT/nan.err"; fail "an error on rank 1 printed $n error lines, not one"; }
grep -q "^fas: error: rank 1 of 2: loss is NaN at step 3" "$OUT/nan.err" || { cat "$OUT/nan.err"; fail "the error line does not say what happened"; }
[ ! -e "$OUT/nan" ] || fail "a run that failed before its first checkpoint left its output directory"
echo "error on rank 1: exit $rc, one line: $(grep '^fas: error:' "$OUT/nan.err")"

# A rank killed mid-run: after the first checkpoint, SIGKILL rank 1; mpirun must end with an
# error (no hang) and last.safetensors must load.
K=$OUT/kill
"${MPIRUN[@]}" "$FAS" train --model tiny-cnn --data "$DATA" --out "$K" --quiet --limit 48 --batch 8 --size 32 \
  --epochs 1000 >"$OUT/kill.out" 2>"$OUT/kill.err" &
mp=$!
for _ in $(seq 600); do [ -s "$K/last.safetensors" ] && break; sleep 0.1; done
[ -s "$K/last.safetensors" ] || { kill $mp; fail "kill: no checkpoint after 60 s"; }
# Rank 1: the descendant of this mpirun whose environment says so.
victim=""
for p in $(ps -o pid= --ppid $mp) $(for c in $(ps -o pid= --ppid $mp); do ps -o pid= --ppid $c; done); do
  grep -qx "OMPI_COMM_WORLD_RANK=1" < <(tr '\0' '\n' </proc/$p/environ 2>/dev/null) && victim=$p
done
[ -n "$victim" ] || { kill $mp; fail "kill: rank 1 not found"; }
kill -9 "$victim"
set +e
for _ in $(seq 600); do kill -0 $mp 2>/dev/null || break; sleep 0.1; done
if kill -0 $mp 2>/dev/null; then kill $mp; fail "kill: the job still runs 60 s after rank 1 died"; fi
wait $mp
rc=$?
set -e
[ $rc -ne 0 ] || fail "kill: mpirun exited 0 after a rank died"
"$FAS" eval --ckpt "$K/last.safetensors" --data data/sample/test.txt --threads 1 --out "$OUT/kill-eval" >/dev/null \
  || fail "kill: the last checkpoint does not load"
echo "rank 1 killed: mpirun exit $rc, last checkpoint loads (epoch $(python3 -c "
import json,struct,sys; f=open('$K/last.safetensors','rb'); n=struct.unpack('<Q',f.read(8))[0]
print(json.loads(f.read(n))['__metadata__'].get('epoch','?'))"))"

echo "mpi_check: all passed in $(( $(date +%s) - t0 )) s"
