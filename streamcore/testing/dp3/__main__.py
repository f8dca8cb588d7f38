"""``python -m streamcore.testing.dp3 [unittest arguments]``: ``python -m unittest`` with
DP³ compatibility on, so a DP³ application's module tests (``from dp3.testing import
DP3ModuleTestCase``) run unchanged: ``DP3_CONFIG_DIR=config python -m streamcore.testing.dp3
discover -s tests -v``."""

import sys
import unittest

from streamcore.module.compat import install_dp3_compat

if not install_dp3_compat():
    sys.exit("a real 'dp3' package is importable: run its tests with python -m unittest")
sys.argv[0] = "python -m streamcore.testing.dp3"
unittest.main(module=None)
