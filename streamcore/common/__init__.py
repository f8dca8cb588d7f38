"""DP³'s ``dp3.common`` module paths, mirrored, for porting DP³ modules.

``from streamcore.common.base_module import BaseModule`` works where a DP³ module wrote
``from dp3.common.base_module import BaseModule``; with DP³ compatibility switched on
(``streamcore.module.compat``), ``dp3.common.X`` itself resolves to ``streamcore.common.X``.
Most files re-export streamcore's objects under DP³'s names; where DP³'s behaviour differs
from streamcore's own (``task``, ``datapoint``, ``utils``, ``types``, ``config``) the file
holds DP³'s version. Names tied to DP³'s own processes raise ``Dp3NameNotProvided`` on
import, saying what to use instead (``_absent``). Nothing here is imported unless DP³
compatibility is on or a module imports it; new code imports from ``streamcore`` directly.
"""
