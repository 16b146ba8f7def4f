#!/usr/bin/env bash
# Run a command (a pytest run) with two CPU-bound processes beside it, as on a busy CI machine or a
# laptop doing other work, and stop them whatever happens. Usage: scripts/under-load.sh CMD [ARGS...]
# pytest's "no tests collected" (exit 5) is a failure here too.
set -euo pipefail

loads=()
stop_loads() {
    for pid in "${loads[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${loads[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_loads EXIT

for _ in 1 2; do
    # A busy loop in its own shell: one full core each, nothing else.
    bash -c 'while :; do :; done' &
    loads+=("$!")
done
echo "under-load: CPU-bound processes ${loads[*]} running beside: $*" >&2

rc=0
"$@" || rc=$?
if [[ $rc -eq 5 ]]; then
    echo "under-load: the command collected no tests: failing" >&2
    exit 1
fi
exit "$rc"
