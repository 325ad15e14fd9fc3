"""Rule-profile files: the shipped TOML profiles by name, or a TOML file by path."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from landplan.core.errors import Problem, ProfileError

__all__ = ["SHIPPED_PROFILES", "read_profile_text"]

_SHIPPED = resources.files("landplan").joinpath("profiles")
#: Names of the profiles shipped with landplan (``landplan/profiles/<name>.toml``).
SHIPPED_PROFILES: tuple[str, ...] = tuple(
    sorted(p.name[: -len(".toml")] for p in _SHIPPED.iterdir() if p.name.endswith(".toml"))
)


def read_profile_text(name_or_path: str | Path) -> tuple[str, str]:
    """The TOML text of a shipped profile (by name) or of a file (by path), and its origin.

    Parameters
    ----------
    name_or_path
        A name of :data:`SHIPPED_PROFILES`, or the path of a TOML file.

    Returns
    -------
    tuple of str
        The text, and where it came from (for messages and manifests).

    Raises
    ------
    ProfileError
        When the name is not a shipped profile and no such file exists.
    """
    text_name = str(name_or_path)
    if text_name in SHIPPED_PROFILES:
        ref = _SHIPPED.joinpath(f"{text_name}.toml")
        return ref.read_text(encoding="utf-8"), f"landplan/profiles/{text_name}.toml"
    path = Path(name_or_path)
    if not path.is_file():
        raise ProfileError(
            [
                Problem(
                    "PROFILE_NOT_FOUND",
                    f"no profile named {text_name!r}: shipped profiles are "
                    f"{', '.join(SHIPPED_PROFILES)}; otherwise give the path of a TOML file.",
                )
            ]
        )
    return path.read_text(encoding="utf-8"), str(path)
