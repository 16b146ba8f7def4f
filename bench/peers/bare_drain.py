"""The bare-client ceiling (#12): an aiokafka consumer that only decodes, nothing else.

``getmany`` + ``orjson.loads`` of every value, in a fresh consumer group, until its positions reach
the end offsets it saw at start; then one commit and exit. No engine, no output, no checkpoints: what
any Python consumer of this topic pays at least, with the same client and settings ticker-process uses
for fetching (1 MiB per partition). Runs in tickerstream's venv (same aiokafka, same orjson).

    PYTHONPATH=src .venv/bin/python bench/peers/bare_drain.py --broker 127.0.0.1:9092 --group g --topic t
"""

from __future__ import annotations

import argparse
import asyncio

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition


async def drain(broker: str, group: str, topic: str, max_records: int) -> int:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=broker,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=1024 * 1024,
    )
    await consumer.start()
    decoded = 0
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        end = await consumer.end_offsets(tps)
        while True:
            if await _drained(consumer, tps, end):
                break
            batch = await consumer.getmany(timeout_ms=100, max_records=max_records)
            for records in batch.values():
                for r in records:
                    orjson.loads(r.value)
                decoded += len(records)
        await consumer.commit()
    finally:
        await consumer.stop()
    return decoded


async def _drained(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition], end: dict[TopicPartition, int]
) -> bool:
    if set(tps) - consumer.assignment():
        return False  # still joining
    for tp in tps:
        if await consumer.position(tp) < end[tp]:
            return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--broker", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--max-records", type=int, default=20_000, help="as ticker-process's process.max_records")
    args = ap.parse_args()
    n = asyncio.run(drain(args.broker, args.group, args.topic, args.max_records))
    print(f"decoded {n}")


if __name__ == "__main__":
    main()
