"""Broker look-ups for the harness (confluent-kafka, which Quix brings into the peers' venv)."""

from __future__ import annotations

import json
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient


def end_offsets(broker: str, topic: str, partitions: int) -> dict[int, int]:
    c = Consumer({"bootstrap.servers": broker, "group.id": "peers-probe", "enable.auto.commit": False})
    try:
        return {
            p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(partitions)
        }
    finally:
        c.close()


class CommitWatch:
    """The committed offsets of a group (an OffsetFetch; the watcher never joins the group)."""

    def __init__(self, broker: str, group: str, topic: str, partitions: int) -> None:
        self._c = Consumer({"bootstrap.servers": broker, "group.id": group, "enable.auto.commit": False})
        self._tps = [TopicPartition(topic, p) for p in range(partitions)]

    def reached(self, end: dict[int, int]) -> bool:
        try:
            got = self._c.committed(self._tps, timeout=10)
        except KafkaException:  # the group's coordinator is still being set up: not yet
            return False
        return all(tp.offset >= end[tp.partition] for tp in got)

    def close(self) -> None:
        self._c.close()


def read_topic(broker: str, topic: str) -> list[dict[str, Any]]:
    """Every JSON value of ``topic`` (all partitions, beginning to the current end); [] if it is absent."""
    meta = AdminClient({"bootstrap.servers": broker}).list_topics(timeout=10)
    if topic not in meta.topics:
        return []
    c = Consumer({"bootstrap.servers": broker, "group.id": "peers-reader", "enable.auto.commit": False})
    out: list[dict[str, Any]] = []
    try:
        for p in meta.topics[topic].partitions:
            tp = TopicPartition(topic, p)
            low, high = c.get_watermark_offsets(tp, timeout=10)
            if high <= low:
                continue
            c.assign([TopicPartition(topic, p, low)])
            pos = low
            while pos < high:
                for m in c.consume(10_000, timeout=5):
                    if m.error() is None:
                        out.append(json.loads(m.value()))
                        pos = m.offset() + 1
        return out
    finally:
        c.close()


def delete_topics(broker: str, prefix: str) -> None:
    admin = AdminClient({"bootstrap.servers": broker})
    names = [t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix)]
    if names:
        for f in admin.delete_topics(names).values():
            f.result()
