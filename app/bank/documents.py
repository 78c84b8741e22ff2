"""Rows read as one JSON document (`SELECT JSON_OBJECT(...)`): PyMySQL parses a field descriptor of
seven strings for every column of a result (~10 µs each), which made a row of a dozen columns, like
the caller's in every signed-in request, twice as expensive as the same row in one JSON column.
MariaDB writes DECIMAL values as exact JSON numbers and DATETIME as "YYYY-MM-DD HH:MM:SS.ffffff"."""

import json
from decimal import Decimal


def json_object(fields: dict[str, str]) -> str:
    """The select item of a document whose keys are `fields`' names and values its columns. Named:
    unnamed, the whole expression (~1 KB for the caller's row) would be the column's name, sent in
    the result's metadata, decoded and hashed on every query."""
    return "JSON_OBJECT(" + ", ".join(f"'{name}', {column}" for name, column in fields.items()) + ") AS document"


_DECODER = json.JSONDecoder(parse_float=Decimal)  # json.loads would build a decoder on every call


def parsed(document: str) -> dict:
    return _DECODER.decode(document)
