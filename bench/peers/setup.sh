#!/usr/bin/env bash
# The peers' own virtual environment (bench/peers/.venv): Quix Streams, and the tools the harness
# uses to draw and profile (matplotlib, py-spy). Kept apart from tickerstream's venv on purpose:
# nothing here may become a dependency of ours, and Quix pins its own Kafka client (confluent-kafka,
# librdkafka) and state store (RocksDB) that we do not want in our resolver. Idempotent.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"
if [[ ! -x "$venv/bin/python" ]]; then
    "$python" -m venv "$venv"
fi
if [[ "$here/requirements.txt" -nt "$venv/.installed" ]]; then
    "$venv/bin/pip" install --quiet --upgrade pip >&2
    "$venv/bin/pip" install --quiet -r "$here/requirements.txt" >&2
    touch "$venv/.installed"
fi
echo "$venv/bin/python"
