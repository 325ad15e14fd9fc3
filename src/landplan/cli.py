"""Command-line interface: ``landplan synth | measure | demo``.

Thin: parse, call one library function, map exceptions to exit codes
(0 success, 1 findings, 2 usage error, 3 unreadable input).  Reports go to
stdout, progress and logs to stderr.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .errors import InputError, LandplanError, OutputExistsError, ReadError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_FINDINGS, EXIT_USAGE, EXIT_UNREADABLE = 1, 2, 3


def _handle_errors(func: F) -> F:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ReadError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_UNREADABLE)
        except (InputError, OutputExistsError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        except LandplanError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_USAGE)

    return wrapper  # type: ignore[return-value]


def parse_layer_options(values: tuple[str, ...]) -> dict[str, str]:
    """``ROLE=PATH`` options to a dict, checking every role name."""
    from .roles import get_role

    layers: dict[str, str] = {}
    for value in values:
        role, sep, path = value.partition("=")
        if not sep or not path:
            raise click.BadParameter(f"{value!r}: expected ROLE=PATH", param_hint="--layer")
        try:
            get_role(role.strip())
        except InputError as exc:
            raise click.BadParameter(str(exc), param_hint="--layer") from None
        layers[role.strip()] = path
    return layers


@click.group()
@click.version_option(__version__, prog_name="landplan")
@click.option("-v", "--verbose", count=True, help="More log output (repeat for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
def main(verbose: int, quiet: bool) -> None:
    """landplan: farmland-protection rules as reproducible GIS analysis."""
    level = (
        logging.ERROR
        if quiet
        else (logging.INFO if verbose == 1 else logging.DEBUG if verbose > 1 else logging.WARNING)
    )
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    logging.captureWarnings(True)


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--parcels",
    "n_parcels",
    type=click.IntRange(min=12),
    default=10_000,
    show_default=True,
    help="Number of parcels.",
)
@click.option("--seed", type=int, default=2021, show_default=True)
@click.option(
    "--dem-resolution", type=float, default=10.0, show_default=True, help="DEM cell size in metres."
)
@click.option("--overwrite", is_flag=True, help="Replace existing files.")
@_handle_errors
def synth(out_dir: Path, n_parcels: int, seed: int, dem_resolution: float, overwrite: bool) -> None:
    """Generate a synthetic 三调 dataset in OUT_DIR."""
    from .synthetic import generate

    generate(
        out_dir,
        n_parcels=n_parcels,
        seed=seed,
        dem_resolution_m=dem_resolution,
        overwrite=overwrite,
        progress=lambda msg: click.echo(msg, err=True),
    )
    click.echo(str(out_dir))


def _measure_and_report(
    parcels: str, output: Path, dem: str | None, layers: dict[str, str], overwrite: bool
) -> None:
    from .pipeline import measure_files

    result = measure_files(parcels, output, dem=dem, layers=layers, overwrite=overwrite)
    columns = [
        c
        for c in result.by_county.columns
        if c in ("county_code", "county_name", "parcels", "farmland_parcels")
        or c.endswith("_wanmu")
    ]
    click.echo(result.by_county[columns].round(2).to_string(index=False))
    click.echo(f"wrote {output}", err=True)


@main.command()
@click.argument("parcels", type=str)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--dem", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option(
    "--layer",
    "layer_options",
    multiple=True,
    metavar="ROLE=PATH",
    help="Constraint layer with its role; repeatable.",
)
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
@_handle_errors
def measure(
    parcels: str, output: Path, dem: str | None, layer_options: tuple[str, ...], overwrite: bool
) -> None:
    """Measure every parcel (area, slope, overlaps) and print county figures."""
    _measure_and_report(parcels, output, dem, parse_layer_options(layer_options), overwrite)


@main.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("out/demo.gpkg"),
    show_default=True,
)
@_handle_errors
def demo(output: Path) -> None:
    """Run the main job on the bundled sample and print the county table."""
    from .datasets import sample_path
    from .io import list_layers

    constraints = sample_path("constraints")
    layers = {name: f"{constraints}|layername={name}" for name in list_layers(constraints)}
    _measure_and_report(sample_path("parcels"), output, sample_path("dem"), layers, True)
