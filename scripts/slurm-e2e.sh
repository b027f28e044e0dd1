#!/usr/bin/env bash
# The Slurm route for real: start a single-node Slurm (munged, slurmctld, slurmd on this host, as
# root, every file in a temp folder), submit a smoke-sized config with `margin-bench slurm` as a
# 4-task array plus its merge job, wait for both, and check that the merged folder holds the same
# bytes as the unsharded run of the same config (every CSV and summary). Stops the daemons it
# started by their process ids, on any exit.
# Needs: root, the Debian packages slurm-wlm and munge, a built dist/ (npm ci builds it).
# Usage: scripts/slurm-e2e.sh   (exit 0 when the merged folder matches)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
if [ "$(id -u)" != 0 ]; then echo "slurm-e2e: skipped: needs root to start munged, slurmctld and slurmd"; exit 0; fi
for tool in munged slurmctld slurmd sbatch squeue; do
  command -v "$tool" >/dev/null || { echo "slurm-e2e: $tool not found: apt-get install -y slurm-wlm munge"; exit 1; }
done

work=$(mktemp -d /tmp/slurm-e2e.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  rm -rf "$work"
}
trap cleanup EXIT

# munge: a key of our own, its socket and pid file in the temp folder.
mkdir -p "$work/munge" "$work/state" "$work/spool" "$work/log"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 700 "$work/munge"; chmod 400 "$work/munge/munge.key"
socket="$work/munge/munge.socket"
munged --force --key-file="$work/munge/munge.key" --socket="$socket" --pid-file="$work/munge/munged.pid" \
  --log-file="$work/log/munged.log" --seed-file="$work/munge/seed" --foreground >>"$work/log/munged.out" 2>&1 &
pids+=($!)

node=$(hostname -s)
cpus=$(nproc)
cat >"$work/slurm.conf" <<EOF
ClusterName=e2e
SlurmctldHost=$node
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$node CPUs=$cpus State=UNKNOWN
PartitionName=e2e Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$work/slurm.conf"
for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done
slurmctld -D -i >>"$work/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D >>"$work/log/slurmd.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do sinfo -h -o %T 2>/dev/null | grep -q idle && break; sleep 0.2; done
sinfo -h -o '%P %T %c' | grep -q idle || { echo "slurm-e2e: the node did not come up"; tail -20 "$work"/log/*.log; exit 1; }

cli=(node "$repo/bin/margin-bench.js")
start=$(date +%s)
"${cli[@]}" run configs/smoke.yaml --out "$work/whole" --no-progress --jobs 1 >/dev/null
# The jobs run in the temp folder with the environment sbatch passes on (PATH to this node).
out=$(cd "$work" && "${cli[@]}" slurm "$repo/configs/smoke.yaml" --tasks 4 --jobs 1 --time 10 --out "$work/merged" --partition e2e)
echo "slurm-e2e: $out"
merge_id=$(echo "$out" | sed -n 's/.*merge job \([0-9]*\).*/\1/p')
[ -n "$merge_id" ] || { echo "slurm-e2e: no merge job id in: $out"; exit 1; }
# Bounded wait: the smoke config trains in seconds per task.
for _ in $(seq 600); do
  [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
  sleep 0.5
done
if [ -n "$(squeue -h -o %i)" ]; then echo "slurm-e2e: jobs still queued after 5 min"; squeue; exit 1; fi
echo "slurm-e2e: array + merge finished in $(( $(date +%s) - start )) s (with the unsharded run)"

status=0
for f in "$work"/whole/*.csv; do
  name=$(basename "$f")
  if ! cmp -s "$f" "$work/merged/$name"; then echo "slurm-e2e: $name differs or is missing in the merged folder"; status=1; fi
done
# Run summaries: every field byte for byte except the wall-clock ones (when and how long it ran).
node -e '
  const fs = require("fs"), path = require("path");
  const [a, b] = process.argv.slice(1);
  const clock = new Set(["wall_time_s", "ms_per_step", "started_at", "finished_at"]);
  const strip = (f) => JSON.stringify(JSON.parse(fs.readFileSync(f, "utf8")), (k, v) => (clock.has(k) ? undefined : v));
  let bad = 0;
  for (const name of fs.readdirSync(a).filter((n) => n.endsWith(".json") && n !== "sweep.json")) {
    const other = path.join(b, name);
    if (!fs.existsSync(other) || strip(path.join(a, name)) !== strip(other)) { console.log("slurm-e2e: summary " + name + " differs or is missing"); bad = 1; }
  }
  process.exit(bad);
' "$work/whole" "$work/merged" || status=1
count=$(ls "$work"/whole/*.csv | wc -l)
merged_count=$(ls "$work"/merged/*.csv 2>/dev/null | wc -l)
[ "$count" = "$merged_count" ] || { echo "slurm-e2e: $merged_count CSVs merged, $count expected"; status=1; }
if [ "$status" != 0 ]; then tail -n 20 "$work"/merged-shards/logs/*; exit 1; fi
echo "slurm-e2e: ok: $count runs, merged folder byte for byte the unsharded run's (CSVs; summaries but for their wall-clock fields)"
