"""``banter-sandbox``: the Razorpay emulator served alone, over real HTTP.

For running the app against a sandbox in another process (``razorpay.base_url`` set to
this server's URL), for trying the SDK from a shell, and for tests that want a real
socket between the SDK and the emulator. The emulator is mounted at ``/``, so the SDK's
``base_url`` is just ``http://host:port``.

Its database holds only its own tables: the schema comes from the sandbox's own Alembic
history (``banter_payments/sandbox/migrations``, version table
``alembic_version_sandbox``). Pointed at a database the project's history already
manages (the app's own, which has the sandbox's tables too), it migrates that one with
the project's history instead. It refuses to start on a database it cannot migrate
rather than invent tables some other way.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import waitress
from alembic import command
from alembic.config import Config
from pyramid.router import Router

import banter_payments
from banter_payments.db import make_engine
from banter_payments.settings import SANDBOX_KEY_ID, SANDBOX_KEY_SECRET, SANDBOX_WEBHOOK_SECRET

from .config import SERVICE_KEY, sandbox_database_url
from .emulator import make_emulator
from .worker import stop_workers

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
# Where ``pserve development.ini`` serves the app by default.
DEFAULT_WEBHOOK_URL = "http://127.0.0.1:6543/api/payments/webhooks/razorpay"


class SandboxSetupError(Exception):
    """The sandbox cannot start; the message says what to do."""


def migrations_dir() -> Path:
    """The project's one Alembic environment, next to the package in a source checkout."""
    return Path(banter_payments.__file__).resolve().parent.parent / "migrations"


def sandbox_migrations_dir() -> Path:
    """The sandbox's own Alembic environment, shipped inside the package."""
    return Path(__file__).resolve().parent / "migrations"


def _managed_by_the_project(database_url: str) -> bool:
    """Whether the project's history already manages this database (an app's)."""
    engine = make_engine(database_url)
    try:
        return "alembic_version" in sa.inspect(engine).get_table_names()
    except sa.exc.SQLAlchemyError as exc:
        raise SandboxSetupError(f"cannot open {database_url}: {exc}") from exc
    finally:
        engine.dispose()


def migrate(database_url: str, *, directory: Path | None = None) -> None:
    """Bring ``database_url`` to the head of the sandbox's Alembic history (or of the
    project's, for a database that history already manages; or of ``directory``).

    The URL goes to the environment as ``-x url=...``, its way of migrating one given
    database (rather than the ones an ini file names).
    """
    if directory is None:
        directory = (migrations_dir() if _managed_by_the_project(database_url)
                     else sandbox_migrations_dir())
    if not (directory / "env.py").is_file():
        raise SandboxSetupError(
            f"cannot create the sandbox schema: no Alembic environment at {directory}"
        )
    config = Config()
    config.set_main_option("script_location", str(directory))
    config.cmd_opts = argparse.Namespace(x=[f"url={database_url}"])
    try:
        command.upgrade(config, "head")
    except Exception as exc:
        raise SandboxSetupError(f"migrating {database_url} failed: {exc}") from exc


def _setting(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator or not name.startswith("sandbox."):
        raise argparse.ArgumentTypeError("expected sandbox.NAME=VALUE")
    return name.strip(), value.strip()


def describe(base_url: str, key_id: str, key_secret: str, webhook_secret: str) -> str:
    """What a developer needs to use the sandbox, for ``--help`` and the start-up banner."""
    return (
        f"key id:         {key_id}\n"
        f"key secret:     {key_secret}\n"
        f"webhook secret: {webhook_secret}\n"
        f"API (SDK base URL): {base_url}  (Razorpay's /v1/... routes)\n"
        f"checkout:       POST {base_url}/checkout/{{order_id}}/pay  (no /_sandbox/razorpay "
        "prefix when served alone)\n"
        f"faults:         GET|POST|DELETE {base_url}/faults\n"
        f"this page as JSON: GET {base_url}/"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="banter-sandbox",
        description="Serve the Razorpay-compatible sandbox; point razorpay.base_url (or any "
                    "official SDK's base URL) at it.",
        epilog="With the default options:\n"
               + describe(f"http://{DEFAULT_HOST}:{DEFAULT_PORT}", SANDBOX_KEY_ID,
                          SANDBOX_KEY_SECRET, SANDBOX_WEBHOOK_SECRET)
               + "\n\nEvery API call and every webhook delivery attempt is logged.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument(
        "--database-url",
        default=sandbox_database_url({}),
        help="where the sandbox keeps its state (default: %(default)s)",
    )
    parser.add_argument("--key-id", default=SANDBOX_KEY_ID)
    parser.add_argument("--key-secret", default=SANDBOX_KEY_SECRET)
    parser.add_argument("--webhook-secret", default=SANDBOX_WEBHOOK_SECRET)
    parser.add_argument(
        "--webhook-url",
        default=DEFAULT_WEBHOOK_URL,
        help="the app's webhook route, where events are delivered (default: %(default)s)",
    )
    parser.add_argument(
        "--set",
        dest="extra",
        action="append",
        type=_setting,
        default=[],
        metavar="sandbox.NAME=VALUE",
        help="any other sandbox setting, e.g. --set sandbox.webhook_duplicates=2",
    )
    return parser


def build_settings(args: argparse.Namespace) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "razorpay.mode": "sandbox",
        "razorpay.key_id": args.key_id,
        "razorpay.key_secret": args.key_secret,
        "razorpay.webhook_secrets": [args.webhook_secret],
        "sandbox.database_url": args.database_url,
        "sandbox.webhook_url": args.webhook_url,
        "sandbox.worker": True,
    }
    settings.update(dict(args.extra))
    return settings


@dataclass
class Standalone:
    server: Any
    app: Router
    settings: dict[str, Any]


def build_server(
    argv: Sequence[str] | None = None, *, migrations: Path | None = None
) -> Standalone:
    """The migrated emulator behind a waitress server, not yet running."""
    args = build_parser().parse_args(argv)
    settings = build_settings(args)
    migrate(args.database_url, directory=migrations)
    app = make_emulator(settings)
    server = waitress.create_server(app, host=args.host, port=args.port)
    return Standalone(server, app, settings)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        standalone = build_server(argv)
    except SandboxSetupError as exc:
        print(f"banter-sandbox: {exc}", file=sys.stderr)
        return 2
    server = standalone.server
    host, port = server.effective_host, server.effective_port
    settings = standalone.settings
    print(f"Razorpay sandbox at http://{host}:{port} (use it as razorpay.base_url)")
    print(describe(f"http://{host}:{port}", settings["razorpay.key_id"],
                   settings["razorpay.key_secret"], settings["razorpay.webhook_secrets"][0]))
    print(f"Webhooks go to {settings['sandbox.webhook_url']}", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        stop_workers()
        standalone.app.registry[SERVICE_KEY].close()
    return 0
