"""Outputs: county totals, the plans' tables, indicators, charts, the report and the result.

Everything a user reads: county aggregation in ha, 亩 and 万亩, 附录 2/3/5,
indicator grades, maps and charts, the HTML report, and
:class:`~landplan.outputs.result.Result` with its writer.  May import every
layer below it (``core`` to ``allocate``); files are written through
:mod:`landplan.io`.
"""

__all__: list[str] = []
