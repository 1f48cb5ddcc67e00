#!/usr/bin/env bash
# A sweep as a Slurm job array (docs/distributed.md): array task I of N computes shard I/N of
# the grid (`metastable sweep … --shard I/N`) into $OUT/shard-I.csv; a job that starts once
# every task has succeeded joins the shards with `metastable merge` into exactly what the
# whole sweep prints.
#
#   mkdir -p shards logs
#   job=$(sbatch --parsable --array=1-16 deploy/slurm-sweep.sh)
#   sbatch --dependency=afterok:"$job" --output=logs/merge-%j.out \
#     --wrap 'metastable merge shards/shard-*.csv --plot phase.svg > phase.csv'
#
# The sweep is set by environment variables (sbatch passes the submitting shell's on):
#   SHARDS     N (default: the array's size, SLURM_ARRAY_TASK_COUNT)
#   SCENARIO   a scenario file on the shared file system, or a preset (default retry-storm)
#   X, Y       the axes, PATH=LO..HI:N (Y empty: one axis)
#   SEEDS      seeds per point (default 5)
#   OUT        the directory of the shard files (default shards)
#   METASTABLE the binary (default: metastable on PATH)
# and the script's own arguments go on to `metastable sweep` (`--set users.rate=90`).
#
# Each task uses the CPUs and memory Slurm gave it: its runs share the task's threads and
# three quarters of its memory (--max-state-mib); its own runs count against --max-points.
#
#SBATCH --job-name=metastable-sweep
#SBATCH --array=1-8
#SBATCH --cpus-per-task=4
#SBATCH --mem=4G
#SBATCH --time=02:00:00
#SBATCH --output=logs/%x-%A_%a.out
set -euo pipefail

: "${SLURM_ARRAY_TASK_ID:?not a job array task: submit with sbatch --array=1-N}"
# Task I is shard I (so --array=1-N); N is the array's size, or SHARDS when set — to run some
# shards again: SHARDS=16 sbatch --array=3,7 deploy/slurm-sweep.sh …
shard=$SLURM_ARRAY_TASK_ID
if [ -n "${SHARDS:-}" ]; then
  count=$SHARDS
else
  : "${SLURM_ARRAY_TASK_COUNT:?not a job array task: submit with sbatch --array=1-N}"
  if [ "${SLURM_ARRAY_TASK_MIN:-1}" != 1 ] || [ "${SLURM_ARRAY_TASK_STEP:-1}" != 1 ]; then
    echo "the array must be --array=1-N (shard I is task I), or SHARDS=N must be set" >&2
    exit 2
  fi
  count=$SLURM_ARRAY_TASK_COUNT
fi

metastable=${METASTABLE:-metastable}
out=${OUT:-shards}
mkdir -p "$out"
export RAYON_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}
# The task's memory in MiB (--mem, or --mem-per-cpu times its CPUs); a quarter of it is left
# for the program itself.
if [ -n "${SLURM_MEM_PER_CPU:-}" ]; then
  memory_mib=$((SLURM_MEM_PER_CPU * ${SLURM_CPUS_PER_TASK:-1}))
else
  memory_mib=${SLURM_MEM_PER_NODE:-4096}
fi
state_mib=$((memory_mib * 3 / 4))

args=(sweep "${SCENARIO:-retry-storm}"
  --x "${X:-users.rate=40..100:20}")
if [ -n "${Y-triggers.0.factor=1..3:20}" ]; then
  args+=(--y "${Y-triggers.0.factor=1..3:20}")
fi
args+=(--seeds "${SEEDS:-5}" --max-state-mib "$state_mib" --shard "$shard/$count" "$@")

# Written under another name and renamed when whole: a failed or cancelled task leaves no
# shard-I.csv, and merge names the shard that is missing.
partial="$out/shard-$shard.csv.partial"
"$metastable" "${args[@]}" > "$partial"
mv "$partial" "$out/shard-$shard.csv"
