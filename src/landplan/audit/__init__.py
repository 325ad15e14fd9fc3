"""Audit: checking an existing PBF layer and 三调 attributes, one file or a folder of them.

Behind ``landplan check``.  May import every layer below it (``core`` to
``engines``).
"""

__all__: list[str] = []
