"""``dp3.testing``: DP³'s module-test helpers, on streamcore's registrar.

``DP3ModuleTestCase`` (unittest) builds the model from a DP³ configuration directory,
constructs the module under test with a ``TestCallbackRegistrar`` and calls its hooks
directly with DP³'s semantics: hook exceptions propagate, tasks are validated in
``task_context``, assertions match partially. The registrar is streamcore's own
``CallbackRegistrar`` (same checks, same correlation order as production) that also keeps
DP³-shaped ``HookRegistration`` records. With DP³ compatibility on, ``dp3.testing`` *is*
this package. Attribution: API and behaviour follow CESNET/dp3's ``dp3/testing``.
"""

from streamcore.testing.dp3.case import DP3ModuleTestCase
from streamcore.testing.dp3.config import CONFIG_DIR_ENV, resolve_config_dir
from streamcore.testing.dp3.registrar import HookRegistration, TestCallbackRegistrar

__all__ = [
    "CONFIG_DIR_ENV",
    "DP3ModuleTestCase",
    "HookRegistration",
    "TestCallbackRegistrar",
    "resolve_config_dir",
]
