"""A minimal Faust worker that replays, on purpose, what a worker taking partitions over does while its fetcher
holds a batch fetched before the seek — the sequence that lost PMS events and lock commands in the chaos run.

Run as ``python -m tests.integration.takeover_app`` with ``TAKEOVER_*`` settings in the environment. The agent
appends ``partition offset`` to the ledger file for every record it processes. When it reaches
``TAKEOVER_AT`` it runs Faust's own ``Recovery.on_recovery_completed`` (resume the stream partitions, seek them to
the committed offsets, resume flow control, which clears the stream buffers) while the fetch loop is blocked
mid-batch on a full stream buffer, exactly the interleaving a takeover produces when recovery ends while a fetch is
in flight. ``TAKEOVER_PATCH=1`` installs the project's consumer patch first, as ``lis worker`` does.
"""

from __future__ import annotations

import os
from pathlib import Path

import faust

if os.environ.get("TAKEOVER_PATCH") == "1":
    from app.faust_offsets_patch import install_consumer_patch

    install_consumer_patch()

LEDGER = Path(os.environ["TAKEOVER_LEDGER"])
TAKEOVER_AT = int(os.environ["TAKEOVER_AT"])

app = faust.App(
    os.environ["TAKEOVER_APP_ID"],
    broker=f"kafka://{os.environ['KAFKA_BOOTSTRAP_SERVERS']}",
    store="memory://",
    datadir=os.environ["TAKEOVER_DATA_DIR"],
    web_enabled=False,
    autodiscover=False,
    consumer_auto_offset_reset="earliest",
    key_serializer="raw",
    value_serializer="raw",
    stream_buffer_maxsize=8,  # a small buffer: the fetch loop blocks mid-batch, holding the rest of its batch
    broker_max_poll_records=500,
    broker_commit_every=10,
    broker_commit_interval=0.2,
)
source = app.topic(os.environ["TAKEOVER_TOPIC"], key_type=str, value_type=bytes, partitions=1)
_taken_over = False


@app.agent(source, concurrency=1)
async def record_offsets(stream: faust.StreamT[bytes]) -> None:
    global _taken_over
    with LEDGER.open("a", buffering=1) as ledger:  # noqa: ASYNC230 - one line per record, line-buffered
        async for event in stream.events():
            message = event.message
            ledger.write(f"{message.partition} {message.offset}\n")
            if message.offset == TAKEOVER_AT and not _taken_over:
                _taken_over = True
                await app.tables.recovery.on_recovery_completed(app.consumer_generation_id)


if __name__ == "__main__":
    app.main()
