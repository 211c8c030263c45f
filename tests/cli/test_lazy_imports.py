"""A command imports what it runs: `prove` (the start-up of every small check) does not pay
for the other commands' engines and report formats, which are imported inside them."""

import json
import subprocess
import sys
from pathlib import Path

SPECS = Path(__file__).parents[2] / "specs"

NOT_FOR_PROVE = (
    "netverify.engine.diff",
    "netverify.engine.fix",
    "netverify.engine.lint",
    "netverify.engine.matrix",
    "netverify.engine.bitsets",
    "netverify.generate",
    "netverify.report.sarif",
    "netverify.report.html",
    "netverify.report.junit",
    "netverify.report.markdown",
    "netverify.report.github",
    "rich",
)

_IMPORTED_BY_PROVE = """
import json, sys
from netverify.cli.app import app
try:
    app(["prove", sys.argv[1]])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


def test_prove_imports_no_other_commands_engine() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTED_BY_PROVE, str(SPECS / "devprod.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    modules = json.loads(done.stdout.splitlines()[-1])
    assert "netverify.engine.prove" in modules
    imported = [
        module
        for module in modules
        for lazy in NOT_FOR_PROVE
        if module == lazy or module.startswith(f"{lazy}.")
    ]
    assert imported == []
