"""A pure-Python stand-in for the parts of orjson that Shiny imports.

orjson has no WebAssembly wheel for Pyodide, and Shiny imports it at module level although its
websocket path uses the standard json module. Only `dumps`, `loads`, the exceptions and the option
flags are provided; `dumps` honours OPT_INDENT_2, OPT_SORT_KEYS, OPT_APPEND_NEWLINE and
OPT_NON_STR_KEYS and ignores the other flags.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import uuid
from typing import Any, Callable

__version__ = "0+stand-in"

# Flag values as orjson 3 defines them, so that callers combining flags get the same integers.
OPT_INDENT_2 = 1
OPT_NAIVE_UTC = 2
OPT_NON_STR_KEYS = 4
OPT_OMIT_MICROSECONDS = 8
OPT_SERIALIZE_NUMPY = 16
OPT_SORT_KEYS = 32
OPT_STRICT_INTEGER = 64
OPT_UTC_Z = 128
OPT_PASSTHROUGH_SUBCLASS = 256
OPT_PASSTHROUGH_DATETIME = 512
OPT_APPEND_NEWLINE = 1024
OPT_PASSTHROUGH_DATACLASS = 2048
OPT_SERIALIZE_DATACLASS = 0
OPT_SERIALIZE_UUID = 0


class JSONDecodeError(json.JSONDecodeError):
    """Raised by `loads` for invalid JSON."""


class JSONEncodeError(TypeError):
    """Raised by `dumps` for a value it cannot serialize."""


def convert_default(value: Any, default: Callable[[Any], Any] | None) -> Any:
    """Convert the types orjson serializes natively and json does not, then try `default`."""
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if default is not None:
        return default(value)
    raise JSONEncodeError(f"Type is not JSON serializable: {type(value).__name__}")


def stringify_keys(value: Any) -> Any:
    """Turn non-string dict keys into strings, as OPT_NON_STR_KEYS does."""
    if isinstance(value, dict):
        return {str(key): stringify_keys(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [stringify_keys(item) for item in value]
    return value


def dumps(obj: Any, default: Callable[[Any], Any] | None = None, option: int | None = None) -> bytes:
    """Serialize `obj` to compact UTF-8 JSON bytes."""
    option = option or 0
    if option & OPT_NON_STR_KEYS:
        obj = stringify_keys(obj)

    try:
        text = json.dumps(
            obj,
            default=lambda value: convert_default(value, default),
            ensure_ascii=False,
            indent=2 if option & OPT_INDENT_2 else None,
            separators=None if option & OPT_INDENT_2 else (",", ":"),
            sort_keys=bool(option & OPT_SORT_KEYS),
            allow_nan=False,
        )
    except ValueError as error:
        raise JSONEncodeError(str(error)) from error

    if option & OPT_APPEND_NEWLINE:
        text += "\n"
    return text.encode("utf-8")


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse JSON from bytes or str."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        data = bytes(data).decode("utf-8")
    try:
        return json.loads(data)
    except json.JSONDecodeError as error:
        raise JSONDecodeError(error.msg, error.doc, error.pos) from error
