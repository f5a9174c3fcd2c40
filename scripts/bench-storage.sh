#!/usr/bin/env bash
# Storage benchmark (not a test): loads N records of ~100 bytes into a file-backed
# `storage-engine device` namespace through the network with `aerie bench`, then restarts the
# server on the same file twice: after a clean shutdown (warm restart from the index snapshot)
# and after SIGKILL (cold start). Reports write throughput, random-read throughput, index bytes
# per record, RSS per record, data bytes on disk per record, warm- and cold-start times.
#
#   bash scripts/bench-storage.sh [RECORDS] [DIR]        # default 1000000, /tmp/aerie-bench-storage
#
# Environment: AERIE_BIN (default target/release/aerie), BENCH_CONNECTIONS (default 32),
# COMPRESSION (none|lz4|snappy|zstd, default none),
# COMMIT_TO_DEVICE (true|false, default false), VALUE_BYTES (default 100), KEEP_DATA=1 keeps
# the file, READ_SECS (default 10; 0 = skip) runs a random-read stage after the load (reads go
# to the file: only the index is in memory). The data file is sized at about 3x the expected data; check free space first.
set -euo pipefail

N=${1:-1000000}
DIR=${2:-/tmp/aerie-bench-storage}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${AERIE_BIN:-$ROOT/target/release/aerie}
CONNS=${BENCH_CONNECTIONS:-32}
COMMIT=${COMMIT_TO_DEVICE:-false}
COMPRESSION=${COMPRESSION:-none}
VALUE=${VALUE_BYTES:-100}
[ -x "$BIN" ] || { echo "no aerie binary at $BIN (cargo build --release -p aerie-server)" >&2; exit 1; }

mkdir -p "$DIR"
rm -f "$DIR"/bench.dat "$DIR"/bench.dat.meta "$DIR"/bench.dat.index
# Images are ~48 + set + bins (~125 bytes for a 100-byte string bin), 16-aligned: 192 bytes.
FILESIZE_MB=$(( (N * 192 * 3) / 1048576 + 64 ))
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
CONF=$DIR/bench.conf
cat >"$CONF" <<EOF
service {
}
logging {
  console {
    context any info
  }
}
network {
  service {
    address 127.0.0.1
    port $PORT
  }
}
namespace bench {
  nsup-period 3600
  storage-engine device {
    file $DIR/bench.dat
    filesize ${FILESIZE_MB}M
    write-block-size 1M
    commit-to-device $COMMIT
    compression $COMPRESSION
  }
}
EOF

SERVER_PID=
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}
trap stop_server EXIT

start_server() {
  local log=$1
  "$BIN" server --config "$CONF" --http-port 0 >"$log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 6000); do
    grep -q "aerie ready" "$log" 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.1
  done
  echo "server did not become ready" >&2
  exit 1
}

rss_bytes() { awk '/VmRSS/ {print $2 * 1024}' "/proc/$SERVER_PID/status"; }
stat_of() { "$BIN" info -h "127.0.0.1:$PORT" "namespace/bench" | tr ';' '\n' | awk -F= -v k="$1" '$1==k {print $2}'; }

start_server "$DIR/server1.log"
RSS0=$(rss_bytes)
echo "records=$N value_bytes=$VALUE connections=$CONNS commit-to-device=$COMMIT compression=$COMPRESSION filesize=${FILESIZE_MB}M"
T0=$(date +%s.%N)
"$BIN" bench -h "127.0.0.1:$PORT" -n bench -s s -k "$N" -o "S:$VALUE" -w I -z "$CONNS" >"$DIR/bench.out" 2>&1
T1=$(date +%s.%N)
tail -n 4 "$DIR/bench.out"
sleep 2 # one flush interval and a usage refresh
OBJECTS=$(stat_of objects)
INDEX=$(stat_of index_used_bytes)
USED=$(stat_of device_used_bytes)
SYNCS=$(stat_of device_group_commits)
[ "$COMMIT" = true ] && echo "group commits: $SYNCS syncs for $N writes ($(( N / (SYNCS > 0 ? SYNCS : 1) )) writes per sync)"
RSS1=$(rss_bytes)
DISK=$(du -B1 "$DIR/bench.dat" | cut -f1)
python3 - "$N" "$T0" "$T1" "$OBJECTS" "$INDEX" "$USED" "$RSS0" "$RSS1" "$DISK" <<'EOF'
import sys
n, t0, t1, objects, index, used, rss0, rss1, disk = sys.argv[1:]
n, objects, index, used, rss0, rss1, disk = map(int, (n, objects, index, used, rss0, rss1, disk))
secs = float(t1) - float(t0)
print(f"load: {n} records in {secs:.1f} s = {n / secs:,.0f} writes/s")
print(f"objects={objects} index_used_bytes={index} -> index bytes/record {index / objects:.1f}")
print(f"RSS empty {rss0 / 1048576:.1f} MiB, loaded {rss1 / 1048576:.1f} MiB -> RSS bytes/record {(rss1 - rss0) / objects:.1f} (total {rss1 / objects:.1f})")
print(f"device_used_bytes={used} -> {used / objects:.1f} B/record (whole write blocks); file blocks allocated {disk / objects:.1f} B/record")
EOF
READ_SECS=${READ_SECS:-10}
if [ "$READ_SECS" -gt 0 ]; then
  "$BIN" bench -h "127.0.0.1:$PORT" -n bench -s s -k "$N" -o "S:$VALUE" -w RU,50 -z "$CONNS" -t "$READ_SECS" >"$DIR/read.out" 2>&1
  echo "RU,50 (reads from the file, page cache warm):"
  tail -n 4 "$DIR/read.out"
fi
echo "device_compression_ratio=$(stat_of device_compression_ratio)"
stop_server # SIGTERM: saves the index snapshot

start_server "$DIR/server2.log"
echo "restart after SIGTERM: start_type=$(stat_of start_type) start_ms=$(stat_of start_ms) objects=$(stat_of objects)"
kill -KILL "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=

start_server "$DIR/server3.log"
echo "restart after SIGKILL: start_type=$(stat_of start_type) start_ms=$(stat_of start_ms) objects=$(stat_of objects)"
RSS2=$(rss_bytes)
OBJECTS2=$(stat_of objects)
echo "after cold start: objects=$OBJECTS2 RSS $(( RSS2 / 1048576 )) MiB -> $(( (RSS2 - RSS0) / (OBJECTS2 > 0 ? OBJECTS2 : 1) )) B/record above empty"
stop_server
if [ "${KEEP_DATA:-0}" != 1 ]; then
  rm -f "$DIR"/bench.dat "$DIR"/bench.dat.meta "$DIR"/bench.dat.index
fi
