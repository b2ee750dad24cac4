#!/bin/bash
# Linux itself under the timestamps soak's conditions (docs/ts-soak-failures.md): two network
# namespaces joined by a veth pair, each dropping LOSS % of the TCP packets that arrive (nft
# numgen on prerouting: before TCP sees them, like loss on the path; this kernel has no netem, so
# no delay), Reno, timestamps and SACK on (Linux's defaults), 2.7 MB one way and 3.5 MB the
# other at once. Prints what each side received within SECONDS, and the client's tcp_info halfway.
#
#   sudo scripts/linux-lossy-transfer.sh [LOSS_PERCENT=27.4] [SECONDS=300]
#
# The same transfer on synack's simulator: node scripts/linux-lossy-transfer.mjs LOSS SECONDS.
# Needs root, iproute2, nft (Debian: nftables) and python3. Deletes what it creates.
set -euo pipefail
LOSS=${1:-27.4}
SECS=${2:-300}
A=lossy-a-$$
B=lossy-b-$$
PY=$(mktemp /tmp/lossy-peer-XXXXXX.py)
cleanup() {
  ip netns del "$A" 2>/dev/null || true
  ip netns del "$B" 2>/dev/null || true
  rm -f "$PY"
}
trap cleanup EXIT
for t in ip nft python3; do command -v $t >/dev/null || { echo "needs $t" >&2; exit 2; }; done
ip netns add "$A"
ip netns add "$B"
ip link add lossy-a$$ type veth peer name lossy-b$$
ip link set lossy-a$$ netns "$A"
ip link set lossy-b$$ netns "$B"
ip -n "$A" addr add 10.99.0.1/24 dev lossy-a$$
ip -n "$B" addr add 10.99.0.2/24 dev lossy-b$$
PERMILLE=$(python3 -c "print(round($LOSS * 10))")
for ns in "$A" "$B"; do
  ip -n "$ns" link set lo up
  ip netns exec "$ns" sysctl -qw net.ipv4.tcp_congestion_control=reno
  ip netns exec "$ns" sysctl -qw net.ipv4.tcp_no_metrics_save=1
  ip netns exec "$ns" nft add table inet lossy
  ip netns exec "$ns" nft add chain inet lossy in '{ type filter hook prerouting priority -300; }'
  ip netns exec "$ns" nft add rule inet lossy in meta l4proto tcp numgen random mod 1000 lt "$PERMILLE" drop
done
ip -n "$A" link set lossy-a$$ up
ip -n "$B" link set lossy-b$$ up
cat > "$PY" <<'EOF'
import socket, sys, threading, time
role, secs = sys.argv[1], float(sys.argv[2])
send_n, want = (2_700_000, 3_500_000) if role == 'client' else (3_500_000, 2_700_000)
t0 = time.time()
if role == 'server':
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('10.99.0.2', 5001)); ls.listen(1); s, _ = ls.accept()
else:
    while True:
        s = socket.socket()
        try: s.connect(('10.99.0.2', 5001)); break
        except OSError: time.sleep(0.1)
def writer():
    # (The socket's 1 s timeout, set for the reader below, applies to send too: a send that
    # waits longer than that raises socket.timeout, and the writer must try again, not stop.)
    left = send_n; buf = bytes(65536)
    while left > 0:
        try: left -= s.send(buf[:min(left, len(buf))])
        except socket.timeout: continue
        except OSError: return
threading.Thread(target=writer, daemon=True).start()
s.settimeout(1.0); got = 0; done = None
while time.time() - t0 < secs:
    try:
        d = s.recv(65536)
        if not d: break
        got += len(d)
        if got >= want and done is None: done = round(time.time() - t0, 1)
    except socket.timeout: pass
print(f"linux {role}: received {got} of {want} B in {secs:.0f} s (all by {done} s)", flush=True)
EOF
ip netns exec "$B" python3 "$PY" server "$SECS" &
sleep 0.5
ip netns exec "$A" python3 "$PY" client "$SECS" &
sleep $((${SECS%.*} / 2))
echo "client tcp_info at $((${SECS%.*} / 2)) s:"
ip netns exec "$A" ss -tin | tail -1
wait
