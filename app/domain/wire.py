"""The one serialisation of records and table values: a model's JSON as UTF-8 bytes."""

from __future__ import annotations

from pydantic import BaseModel


def wire(model: BaseModel) -> bytes:
    """The bytes of a Kafka record value or a table value holding ``model``."""
    return model.model_dump_json().encode()
