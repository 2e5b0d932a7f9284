#!/usr/bin/env bash
# A real Slurm cluster on this one machine (Debian's slurm-wlm and munge, started here and
# stopped on exit): the shipped job file, tools/slurm/embed-array.sbatch, submitted as an
# `sbatch --array=0-3` for the FP32 fixture model and for its int8 quantization, then checks
# what the shard contract promises:
#   - the four shards' rows, put back in input order, are a one-process `embq embed` byte
#     for byte (numpy compares them row by row);
#   - `embq eval` of the two shard directories reports exactly the metrics of the
#     one-process vector files.
#
#   tests/slurm/array_test.sh EMBQ_BINARY FIXTURE_DIR [PYTHON]   (PYTHON: one with numpy)
# CTest runs it (label slurm). Every daemon runs as root from a temporary directory with
# its own ports, so it touches no system Slurm or munge configuration.
set -euo pipefail
embq="$1"
fixtures="$2"
python="${3:-/usr/bin/python3}"
for tool in munged mungekey slurmctld slurmd sbatch sinfo; do
  command -v "$tool" > /dev/null || {
    echo "slurm test: $tool is missing; tools/setup.sh installs slurm-wlm and munge" >&2
    exit 1
  }
done

work="$(mktemp -d /tmp/embq-slurm.XXXXXX)"
chmod 755 "$work"  # munged wants its socket's directories searchable by all
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2> /dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
show_logs() {
  for log in "$work"/*.log "$work"/*.err; do echo "== $log" >&2; tail -n 20 "$log" >&2; done
}

# Two free TCP ports for slurmctld and slurmd.
read -r ctld_port slurmd_port < <("$python" -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')

mungekey --create --keyfile "$work/munge.key" 2> /dev/null ||
  dd if=/dev/urandom of="$work/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge.key"
munged --force --socket "$work/munge.sock" --key-file "$work/munge.key" \
  --pid-file "$work/munged.pid" --log-file "$work/munged.log" --seed-file "$work/munge.seed" \
  --foreground 2> "$work/munged.err" &
pids+=($!)

host="$(hostname -s)"
mkdir -p "$work/state" "$work/spool"
cat > "$work/slurm.conf" << CONF
ClusterName=embq-test
SlurmctldHost=$host
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge.sock
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
NodeName=$host CPUs=$(nproc) RealMemory=$(($(awk '/^MemTotal/ {print $2}' /proc/meminfo) * 9 / 10240)) State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$work/slurm.conf"
for _ in $(seq 50); do [[ -S "$work/munge.sock" ]] && break; sleep 0.1; done
slurmctld -D -i 2> "$work/slurmctld.err" &
pids+=($!)
slurmd -D 2> "$work/slurmd.err" &
pids+=($!)
for _ in $(seq 100); do
  sinfo -h -o %t 2> /dev/null | grep -qE '^idle' && break
  sleep 0.2
done
if ! sinfo -h -o %t 2> /dev/null | grep -qE '^idle'; then
  echo "slurm test: the node never became idle" >&2
  show_logs
  exit 1
fi

# 13,000 texts: four blocks of the 4,096-record window, so every shard embeds one.
"$python" - "$fixtures/vocab.txt" "$work/texts.txt" << 'PY'
import random, sys
words = [w for w in open(sys.argv[1]).read().split() if w.isalpha()]
rng = random.Random(7)
with open(sys.argv[2], "w") as out:
    for _ in range(13000):
        out.write(" ".join(rng.choice(words) for _ in range(rng.randint(4, 12))) + "\n")
PY
common=(--log-level warn --threads 1)
text=(--data "$work/texts.txt" --tokenizer "$fixtures/vocab.txt")
"$embq" "${common[@]}" quantize "$fixtures/bert_traced.pt" --scheme int8_dynamic \
  -o "$work/int8.pt" > /dev/null
# The shipped job file, as a user submits it (the array range overridden on the command line).
jobfile="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/tools/slurm/embed-array.sbatch"
for name in fp32 int8; do
  model="$fixtures/bert_traced.pt"
  [[ $name == int8 ]] && model="$work/int8.pt"
  sbatch --wait --array=0-3 --cpus-per-task=1 --output="$work/task-$name-%a.log" \
    --export="ALL,EMBQ=$embq,MODEL=$model,DATA=$work/texts.txt,OUT=$work/$name,EMBQ_ARGS=--tokenizer $fixtures/vocab.txt" \
    "$jobfile" > "$work/sbatch-$name.out" || {
    show_logs
    cat "$work"/task-*.log >&2
    exit 1
  }
done
grep -h "shard .* of 4 (Slurm array" "$work"/task-fp32-*.log | sed 's/^.*\] //' | sort

"$embq" "${common[@]}" embed "$fixtures/bert_traced.pt" "${text[@]}" --out "$work/fp32.npy"
"$embq" "${common[@]}" embed "$work/int8.pt" "${text[@]}" --out "$work/int8.npy"

"$python" - "$work" << 'PY'
import json, sys, numpy as np, pathlib
work = pathlib.Path(sys.argv[1])
for name in ("fp32", "int8"):
    whole = np.load(work / f"{name}.npy")
    shards = [np.load(work / name / f"part-{i}.npy") for i in range(4)]
    block = json.load(open(work / name / "part-0.manifest.json"))["block_records"]
    rebuilt = np.concatenate([shards[b % 4][(b // 4) * block:(b // 4 + 1) * block]
                              for b in range((len(whole) + block - 1) // block)])
    assert rebuilt.tobytes() == whole.tobytes(), name + ": shards differ from one process"
    print(f"{name}: 4 Slurm shards == one process, {len(whole)} rows byte for byte")
PY

"$embq" --log-level warn eval --baseline "$work/fp32.npy" --candidate "$work/int8.npy" \
  --queries-sample 1000 --report-json "$work/one.json" > /dev/null
"$embq" --log-level warn eval --baseline "$work/fp32" --candidate "$work/int8" \
  --queries-sample 1000 --report-json "$work/sharded.json" > /dev/null
"$python" - "$work" << 'PY'
import json, sys
one = json.load(open(sys.argv[1] + "/one.json"))["metrics"]
sharded = json.load(open(sys.argv[1] + "/sharded.json"))["metrics"]
assert one == sharded, (one, sharded)
print("eval of the shard directories == eval of the one-process files:",
      f"recall@10 {one['recall@10']:.4f}, {len(one)} metrics identical")
PY
