"""moto's server, answering one request at a time: `python -m tests.support.serial_moto PORT`.

The threaded `moto_server` runs TransactWriteItems without isolation (it copies the table and
restores the copy when a condition fails), so two transactions in flight at once can see each
other's halves or undo each other: DynamoDB itself never does. Answering requests in turn gives
the DynamoDB tests the isolation the real service has.

moto backs up every table a transaction names with a deep copy of the whole table, so each
transaction costs time in proportion to the table's size and a storm of thousands of writes
grows quadratically (minutes for a 500-alert storm). Here, where nothing else runs meanwhile,
a transaction backs up only the items it names and puts them back when it fails: the same
all-or-nothing outcome at the cost of the items themselves.
"""

from __future__ import annotations

import copy
import sys
import types
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

_Slot = tuple[Table, DynamoType, DynamoType | None]


def _slots(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[_Slot]:
    """(table, hash key, range key) of every item the transaction names."""
    slots = []
    for entry in transact_items:
        op = next(iter(entry.values()))
        table = backend.tables.get(op.get("TableName", ""))
        attrs = op.get("Key") or op.get("Item") or {}
        if table is None or table.hash_key_attr not in attrs:
            continue  # moto refuses it with its own error before changing anything
        range_attr = table.range_key_attr
        range_value = DynamoType(attrs[range_attr]) if range_attr and range_attr in attrs else None
        slots.append((table, DynamoType(attrs[table.hash_key_attr]), range_value))
    return slots


def _read(slot: _Slot) -> Any:
    table, hash_value, range_value = slot
    found = table.items.get(hash_value)  # .get: the defaultdict must not grow on a read
    if table.range_key_attr is None or found is None:
        return found
    return found.get(range_value)


def _restore(slot: _Slot, item: Any) -> None:
    table, hash_value, range_value = slot
    if table.range_key_attr is None:
        if item is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = item
        return
    if item is not None:
        table.items[hash_value][range_value] = item
        return
    bucket = table.items.get(hash_value)
    if bucket is not None:
        bucket.pop(range_value, None)
        if not bucket:
            del table.items[hash_value]


def _deepcopy_but_tables(value: Any, memo: Any = None) -> Any:
    """moto's whole-table backup becomes the table itself; anything else is copied as before."""
    return value if isinstance(value, Table) else copy.deepcopy(value, memo)


_whole_table_copies = types.SimpleNamespace(deepcopy=_deepcopy_but_tables)
_transact_write_items = DynamoDBBackend.transact_write_items


def _transact_write_items_item_backup(
    self: DynamoDBBackend, transact_items: list[dict[str, Any]]
) -> None:
    slots = _slots(self, transact_items)
    saved = [(slot, copy.deepcopy(_read(slot))) for slot in slots]
    dynamodb_models.copy = _whole_table_copies  # type: ignore[attr-defined]
    try:
        _transact_write_items(self, transact_items)
    except BaseException:
        for slot, item in reversed(saved):
            _restore(slot, item)
        raise
    finally:
        dynamodb_models.copy = copy  # type: ignore[attr-defined]


def main(port: int) -> None:
    DynamoDBBackend.transact_write_items = _transact_write_items_item_backup  # type: ignore[method-assign]
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", port, app, threaded=False, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main(int(sys.argv[1]))
