"""``python -m banter_payments.scripts.wait_for_database URL [seconds]``.

Exits 0 once the database answers ``SELECT 1``, 1 if it does not within the time given
(default 10 s). The test command uses it to decide whether to run the PostgreSQL pass.
"""

from __future__ import annotations

import sys
import time

import sqlalchemy as sa


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    url = argv[0]
    deadline = time.monotonic() + (float(argv[1]) if len(argv) > 1 else 10.0)
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    while True:
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return 0
        except sa.exc.OperationalError:
            if time.monotonic() > deadline:
                return 1
            time.sleep(0.5)
        finally:
            engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
