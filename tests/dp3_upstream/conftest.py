"""DP³'s own tests, run unchanged against streamcore's ``dp3.common``/``dp3.testing``.

The files under ``test_common/`` (renamed ``test_dp3_*.py``: test basenames are unique in
this repository; contents byte for byte), ``test_common/config_test_files/`` and
``test_config/``, ``test_example/config/`` and ``template_app/`` (DP³'s
``dp3/template/app``) are copied from CESNET/dp3 (commit b7553da8, BSD-style licence in
``LICENSE`` here, copyright CESNET). This conftest switches DP³ compatibility on so their
``from dp3... import`` lines resolve to streamcore. ``dp3_shell/`` is DP³'s shell client
from the same commit (``dp3_shell_support.py``), run against the API by
``test_dp3_shell_client.py``.
"""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The API tests' helpers (api_support, role_processes), for test_dp3_shell_client.py.
sys.path.insert(0, str(Path(__file__).parents[1] / "integration"))

from streamcore.module.compat import install_dp3_compat  # noqa: E402

# Before collection: the test files import dp3.* at their top.
install_dp3_compat()


@pytest.fixture(autouse=True)
def dp3_compat() -> Iterator[None]:
    """Compatibility on for every test here (another test file may have switched it off)."""
    assert install_dp3_compat(), "a real dp3 package is importable; these tests need ours"
    yield


# DP³ template application files (its module is not a test file).
collect_ignore = ["template_app", "dp3_shell"]
