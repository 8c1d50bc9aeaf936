"""What ``pip install`` ships: every package of the source tree, every console script.

setup.cfg lists the packages one by one (the plugins are top-level packages kept under
``plugins/``); this test makes a package added without being listed fail the build
instead of silently missing from the installed distribution.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from setuptools import find_packages
from setuptools.config.setupcfg import read_configuration

ROOT = Path(__file__).resolve().parents[2]
CONFIG = read_configuration(ROOT / "setup.cfg")


def test_every_package_of_the_source_tree_is_listed():
    found = set(find_packages(str(ROOT), include=["banter_payments", "banter_payments.*"]))
    found |= set(find_packages(str(ROOT / "plugins")))
    assert found - set(CONFIG["options"]["packages"]) == set()


def test_every_listed_package_exists():
    dirs = CONFIG["options"]["package_dir"]
    for package in CONFIG["options"]["packages"]:
        top, _, rest = package.partition(".")
        base = ROOT / dirs.get(top, top)
        assert (base / rest.replace(".", "/") / "__init__.py").is_file(), package


def test_every_console_script_imports_and_is_callable():
    scripts = CONFIG["options"]["entry_points"]["console_scripts"]
    assert scripts, "no console scripts declared"
    for line in scripts:
        name, _, target = (part.strip() for part in line.partition("="))
        module, _, attribute = target.partition(":")
        assert callable(getattr(importlib.import_module(module), attribute)), name
