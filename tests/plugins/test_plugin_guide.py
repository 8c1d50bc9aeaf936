"""``docs/plugins.md`` builds a plugin that works: this test builds it from the page.

Every code block of the page whose first line names a file (``# stickers/views.py``,
``# tests/plugins/stickers/test_stickers.py``, ``# setup.cfg``) is written to a throwaway
directory: the plugin as an installed distribution (its package and a ``.dist-info``
carrying the page's entry points), a copy of the migration history, and the page's
tests next to a copy of the suite's root ``conftest.py``. Then, as the page says,
Alembic generates the plugin's migration, and the page's tests run against the plugin
in a fresh pytest process, on a SQLite database built by the migrations.

A separate process, because installing a plugin adds its tables to the one ``MetaData``
of the process that imports it; this suite's own database has no such table.
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "plugins.md"
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
NAMED = re.compile(r"#\s*((?:stickers|tests)/\S+|setup\.cfg)\s*$")

# What the page's tests do not show, checked on the same throwaway plugin: a setting
# from the ini reaches the catalog, a bad one stops start-up naming it, and the
# generated migration builds exactly what the models describe.
EXTRA_TESTS = '''
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pyramid.exceptions import ConfigurationError

from banter_payments import main
from banter_payments.catalog.registry import catalog
from banter_payments.models import load_all_models


def test_the_ini_sets_the_pack(settings):
    app = main({}, **{**settings, "stickers.pack_size": "12", "stickers.pack_price": "9900"})
    pack = catalog(app.registry)["stickers.pack"]
    assert (pack.grants, pack.amount) == ({"stickers": 12}, 9900)


def test_a_bad_setting_stops_start_up_naming_it(settings):
    with pytest.raises(ConfigurationError, match="setting stickers.pack_size: must be"):
        main({}, **{**settings, "stickers.pack_size": "ten"})


def test_the_generated_migration_matches_the_models(engine):
    metadata = load_all_models()
    assert "sticker_sends" in metadata.tables
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
'''


def guide_files() -> dict[str, str]:
    files = {}
    for _language, body in BLOCK.findall(GUIDE.read_text(encoding="utf-8")):
        first, _, rest = body.partition("\n")
        named = NAMED.fullmatch(first.strip())
        if named:
            files[named.group(1)] = rest
    return files


def entry_points_of(setup_cfg: str) -> str:
    """The ``[options.entry_points]`` of the page's ``setup.cfg``, as a dist-info's
    ``entry_points.txt``."""
    parser = configparser.ConfigParser()
    parser.read_string(setup_cfg)
    lines = []
    for group, value in parser["options.entry_points"].items():
        lines.append(f"[{group}]")
        lines.extend(line.strip() for line in value.strip().splitlines())
    return "\n".join(lines) + "\n"


def run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{output}"
    return output


@pytest.fixture
def files() -> dict[str, str]:
    return guide_files()


def test_the_page_names_every_file_of_the_plugin(files):
    assert {"stickers/__init__.py", "stickers/settings.py", "stickers/models.py",
            "stickers/schemas.py", "stickers/views.py", "stickers/events.py",
            "stickers/subscribers.py", "stickers/handlers.py", "setup.cfg",
            "tests/plugins/stickers/conftest.py",
            "tests/plugins/stickers/test_stickers.py"} <= set(files)
    assert entry_points_of(files["setup.cfg"]) == (
        "[banter_payments.models]\nstickers = stickers.models\n")


@pytest.mark.slow
def test_the_plugin_of_the_page_installs_migrates_and_passes_its_tests(files, tmp_path):
    # The plugin, installed: its package and its distribution's metadata on the path.
    src = tmp_path / "src"
    for name, text in files.items():
        if name.startswith("stickers/"):
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_text(text, encoding="utf-8")
    dist_info = src / "stickers-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: stickers\n"
                                        "Version: 0.1\n", encoding="utf-8")
    (dist_info / "entry_points.txt").write_text(entry_points_of(files["setup.cfg"]),
                                                encoding="utf-8")

    # The project around it: the migration history, the pytest configuration, the root
    # conftest with the shared helpers it imports, and the page's tests where the page
    # puts them.
    shutil.copytree(ROOT / "migrations", tmp_path / "migrations",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "tests").mkdir()
    shutil.copy(ROOT / "tests" / "conftest.py", tmp_path / "tests" / "conftest.py")
    shutil.copytree(ROOT / "tests" / "common", tmp_path / "tests" / "common",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name, text in files.items():
        if name.startswith("tests/"):
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "tests/plugins/stickers/test_guide_extras.py").write_text(
        EXTRA_TESTS, encoding="utf-8")
    (tmp_path / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s/migrations\n"
        "file_template = %%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s\n",
        encoding="utf-8")

    env = {key: value for key, value in os.environ.items()
           if key not in ("TEST_DATABASE_URL", "DATABASE_URL", "PYTHONPATH")}
    env["PYTHONPATH"] = str(src)

    # The page's migration step: a database at head, then autogenerate.
    alembic = [sys.executable, "-m", "alembic", "-c", str(tmp_path / "alembic.ini"),
               "-x", f"url=sqlite:///{tmp_path / 'schema.sqlite'}"]
    run([*alembic, "upgrade", "head"], tmp_path, env)
    run([*alembic, "revision", "--autogenerate", "--rev-id", "0006", "-m", "stickers"],
        tmp_path, env)
    [migration] = (tmp_path / "migrations" / "versions").glob("*_0006_stickers.py")
    generated = migration.read_text(encoding="utf-8")
    assert "op.create_table('sticker_sends'" in generated
    assert "uq_sticker_sends_reference" in generated
    assert "ix_sticker_sends_recipient_id_created_at" in generated
    assert "drop_table('sticker_sends')" in generated

    # The page's tests (and the extras), in a fresh process, on a fresh SQLite database.
    output = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                  "tests/plugins/stickers"], tmp_path, env)
    assert re.search(r"\b8 passed\b", output), output
