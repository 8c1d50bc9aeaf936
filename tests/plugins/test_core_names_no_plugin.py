"""The core names no plugin: not in an import, not in a string, not in a docstring.

Import contracts catch imports; this also catches ``importlib.import_module("...")``
and lists of module names, the way the core once listed a plugin's models.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_no_file_of_the_core_names_a_plugin():
    plugins = sorted(p.name for p in (ROOT / "plugins").iterdir()
                     if (p / "__init__.py").exists())
    assert "banter_coins" in plugins  # the scan looks where the plugins are
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "banter_payments").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(plugin in line for plugin in plugins)
    ]
    assert offenders == []
