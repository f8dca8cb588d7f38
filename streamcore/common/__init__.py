"""DP³'s ``dp3.common`` module paths, mirrored, for porting DP³ modules.

``from streamcore.common.base_module import BaseModule`` works where a DP³ module wrote
``from dp3.common.base_module import BaseModule``; with DP³ compatibility switched on
(``streamcore.module.compat``), ``dp3.common.X`` itself resolves to ``streamcore.common.X``.
Each file only re-exports streamcore's objects under DP³'s names; new code imports from
``streamcore`` directly.
"""
