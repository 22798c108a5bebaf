#!/usr/bin/env bash
# Soak: the embedded node (a devnet council at TPS transactions per second, 1 s blocks, and a ranger
# verifying, storing and serving it) for MINUTES minutes; samples the node's resident memory
# (VmRSS, VmHWM) and its verified height every SAMPLE seconds, as CSV on stdout. Flat memory is
# the goal: compare the first and last samples.
#
#   benches/soak.sh [MINUTES=30] [TPS=2000] [SAMPLE=60]
#
# Builds the release binary first; uses a fresh datadir under $TMPDIR and free ports.
set -euo pipefail
minutes=${1:-30}
tps=${2:-2000}
sample=${3:-60}
cd "$(dirname "$0")/.."
cargo build --release -p ranger-node >&2
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
./target/release/ranger run --datadir "$dir/node" --http 127.0.0.1:0 --metrics 127.0.0.1:0 \
    --tps "$tps" --block-period 1000 --backend cpu >"$dir/out" 2>"$dir/err" &
pid=$!
until grep -q '^rpc: ' "$dir/err" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$dir/err" >&2; exit 2; }
    sleep 0.2
done
rpc=$(sed -n 's/^rpc: //p' "$dir/err")
echo "seconds,vm_rss_kib,vm_hwm_kib,verified_height,lag_blocks"
start=$(date +%s)
end=$(awk -v s="$start" -v m="$minutes" 'BEGIN { print int(s + m * 60) }')
while :; do
    now=$(date +%s)
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
    status=$(curl -s -H 'content-type: application/json' \
        -d '{"jsonrpc":"2.0","id":1,"method":"ranger_status","params":[]}' "$rpc")
    height=$(sed -n 's/.*"verified_height":\([0-9null]*\).*/\1/p' <<<"$status")
    lag=$(sed -n 's/.*"lag_blocks":\([0-9]*\).*/\1/p' <<<"$status")
    echo "$((now - start)),$rss,$hwm,$height,$lag"
    [ "$now" -ge "$end" ] && break
    sleep "$sample"
done
