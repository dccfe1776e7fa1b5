"""moto's server, answering one request at a time: `python -m tests.support.serial_moto PORT`.

The threaded `moto_server` runs TransactWriteItems without isolation (it copies the table and
restores the copy when a condition fails), so two transactions in flight at once can see each
other's halves or undo each other: DynamoDB itself never does. Answering requests in turn gives
the DynamoDB tests the isolation the real service has.
"""

from __future__ import annotations

import sys

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def main(port: int) -> None:
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", port, app, threaded=False, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main(int(sys.argv[1]))
