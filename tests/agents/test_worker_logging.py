"""``lis worker --loglevel warning`` keeps library debug lines unbuilt: faust's terminal spinner would put the root
logger at DEBUG for the worker's life (each aiokafka fetch then builds one record per partition)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import faust
import pytest

from app.runtime import quiet_worker
from app.streams import app

FETCHER = logging.getLogger("aiokafka.consumer.fetcher")


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    level, handlers = logging.root.level, list(logging.root.handlers)
    yield
    logging.root.setLevel(level)
    logging.root.handlers[:] = handlers


def test_the_service_worker_at_warning_does_not_build_debug_records() -> None:
    worker = quiet_worker("warning")
    worker._setup_logging()  # the step execute_from_commandline takes first

    assert logging.root.level == logging.WARNING
    assert not FETCHER.isEnabledFor(logging.DEBUG)


def test_faust_s_own_worker_at_warning_would_put_the_root_logger_at_debug() -> None:
    worker = faust.Worker(app, loglevel="warning", redirect_stdouts=False)
    worker._setup_logging()

    assert logging.root.level == logging.DEBUG  # the cost quiet_worker removes
    assert FETCHER.isEnabledFor(logging.DEBUG)
