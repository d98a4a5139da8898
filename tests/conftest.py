import sys
from pathlib import Path

# test helpers (expectations.py, snapshots.py) live beside the tests
sys.path.insert(0, str(Path(__file__).parent))

# the fixtures are code to be checked, not tests to run (a fixture project has its own tests/)
collect_ignore_glob = ["fixtures/*"]


def pytest_addoption(parser):
    parser.addoption(
        "--snapshot-update",
        action="store_true",
        default=False,
        help="rewrite each fixture's .snap file from the current output instead of comparing",
    )
