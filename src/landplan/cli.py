"""Command-line interface: ``landplan classify | check | report | rules | roles | demo | ...``.

The top layer: may import every other layer, and with :mod:`landplan.io` is the
only one that deals in paths.  Thin: parse, call one library function, map
exceptions to exit codes (0 success, 1 findings, 2 usage error, 3 unreadable
or invalid input).  Reports go to stdout, progress and logs to stderr.  Option names are
the API's parameter names (``--workers`` is ``workers=``).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from functools import cache, wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from landplan.audit.balance import SCOPES
from landplan.core.errors import (
    SEVERITIES,
    InputError,
    InvalidParcelsError,
    LandplanError,
    OutputExistsError,
    ReadError,
)
from landplan.core.palette import CLASS_CODES
from landplan.core.roles import ROLES
from landplan.core.units import M2_PER_WANMU
from landplan.core.version import __version__
from landplan.engines import ENGINES
from landplan.io.layers import ReadOptions
from landplan.io.profiles import SHIPPED_PROFILES
from landplan.rules.model import DEFAULT_PROFILE

if TYPE_CHECKING:
    import pandas as pd

    from landplan.engines.dask_cluster import PartitionedResult
    from landplan.outputs.result import Result

F = TypeVar("F", bound=Callable[..., Any])

EXIT_FINDINGS, EXIT_USAGE, EXIT_UNREADABLE = 1, 2, 3

#: The plans that rule sources cite by their short code ("003 专栏 3-1 (1)").
PLANS = {
    "003": "衡阳市耕地保护国土空间专项规划（2021—2035年）",
    "004": "湘潭市耕地保护国土空间专项规划（2021—2035年）",
    "000": "衡阳市“十四五”自然资源规划",
}


def _listing(title: str, rows: list[tuple[str, str]]) -> str:
    """An epilog block that click prints as it is (click's no-rewrap mark), one row per line."""
    width = max(len(name) for name, _ in rows)
    return "\n".join(["\b", f"{title}:", *(f"  {name:<{width}}  {text}" for name, text in rows)])


def _roles_epilog(roles: list[str] | None = None) -> str:
    """The roles (all, or those named) and the shipped profiles, for a command's --help."""
    chosen = [ROLES[name] for name in roles] if roles else list(ROLES.values())
    title = "Roles for --layer ROLE=PATH (case-insensitive; `landplan roles`)"
    blocks = [_listing(title, [(r.name, r.zh) for r in chosen])]
    if roles is None:
        blocks.append(_profiles_epilog())
    return "\n\n".join(blocks)


@cache
def _profiles_epilog() -> str:
    """The shipped profiles, and the plans their rules cite."""
    from landplan.rules import load_profile

    rows = []
    for name in SHIPPED_PROFILES:
        try:
            plan = load_profile(name).name_zh
        except LandplanError:  # a broken profile must not break every command's help
            plan = ""
        rows.append((name, f"{plan} (default)" if name == DEFAULT_PROFILE else plan))
    profiles = _listing(
        "Shipped profiles for --profile (or a TOML file; `landplan rules --profile NAME`)", rows
    )
    plans = _listing("Plans cited in rule sources", list(PLANS.items()))
    return f"{profiles}\n\n{plans}"


def _wrote(path: object) -> None:
    """Say on stderr which file was written, unless the run is quiet (-q)."""
    from landplan.core.progress import settings

    given = settings()
    if given is None or not given[1]:
        click.echo(f"wrote {path}", err=True)


def _handle_errors(func: F) -> F:
    """Map landplan's errors to one message on stderr and the exit code the README defines."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (ReadError, InvalidParcelsError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_UNREADABLE)
        except (InputError, OutputExistsError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        except LandplanError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        except OSError as exc:  # a file or folder the system refuses to read or write
            name = f" {exc.filename}" if exc.filename else ""
            click.echo(
                f"error: [FILE_ACCESS]{name}: {exc.strerror or exc}. Check that the path "
                "exists and that you may read it (inputs) or write there (outputs).",
                err=True,
            )
            sys.exit(EXIT_UNREADABLE)

    return wrapper  # type: ignore[return-value]


def _usage_exit(exc: click.UsageError) -> click.exceptions.Exit:
    """Print a usage error as one ``error: [USAGE] ...`` line naming the help to read."""
    command = exc.ctx.command_path if exc.ctx is not None else "landplan"
    click.echo(
        f"error: [USAGE] {exc.format_message()} See '{command} --help'.",
        err=True,
    )
    return click.exceptions.Exit(EXIT_USAGE)


class _Group(click.Group):
    """The command group; usage errors are one line with a code, like every other error."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            raise _usage_exit(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            raise _usage_exit(exc) from None


def _parse_layer_options(values: tuple[str, ...]) -> dict[str, str]:
    """``ROLE=PATH`` options to a dict, checking every role name."""
    from landplan.core.roles import get_role

    layers: dict[str, str] = {}
    for value in values:
        role, sep, path = value.partition("=")
        if not sep or not path:
            raise InputError(
                f"--layer {value!r}: expected ROLE=PATH, e.g. --layer eco_redline=redline.shp; "
                "`landplan roles` lists the roles.",
                code="LAYER_OPTION",
            )
        layers[get_role(role).name] = path
    return layers


def _parse_field_options(values: tuple[str, ...]) -> dict[str, str]:
    """``CANONICAL=COLUMN`` options to a field mapping, checking the canonical names."""
    from landplan.survey.schema import FIELDS

    fields: dict[str, str] = {}
    for value in values:
        name, sep, column = value.partition("=")
        if not sep or not column or name.strip().upper() not in FIELDS:
            raise InputError(
                f"--field {value!r}: expected CANONICAL=COLUMN, e.g. --field ZLDWDM=MY_CODE, "
                f"with CANONICAL one of {', '.join(FIELDS)}.",
                code="FIELD_OPTION",
            )
        fields[name.strip().upper()] = column
    return fields


def _input_options(func: F) -> F:
    """Options describing how to read the parcel layer."""
    func = click.option(
        "--crs",
        default=None,
        metavar="CRS",
        help="CRS of every input file that declares none (a shapefile without .prj), "
        "parcels and constraint layers alike, e.g. EPSG:4546; files that declare a CRS "
        "keep theirs.",
    )(func)
    func = click.option(
        "--encoding", default=None, help="Text encoding of a shapefile that cannot be detected."
    )(func)
    func = click.option(
        "--field",
        "field_options",
        multiple=True,
        metavar="CANONICAL=COLUMN",
        help="Map a 三调 field to a column of a non-standard schema; repeatable.",
    )(func)
    return func


_dem_option = click.option(
    "--dem",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="DEM for slope; without it slope rules use GDPDJB.",
)
_layer_option = click.option(
    "--layer",
    "layer_options",
    multiple=True,
    metavar="ROLE=PATH",
    help="Constraint layer with its role (case-insensitive; listed below and by `landplan "
    "roles`); repeatable. PATH may be 'file.gpkg|layername=X'.",
)
_targets_county_option = click.option(
    "--targets-county-column",
    default=None,
    help="Column of --targets holding the county codes, when its header is none of "
    "county_code, 行政区代码, 县级行政区代码, 行政区划代码.",
)
_profile_option = click.option(
    "--profile",
    default=DEFAULT_PROFILE,
    show_default=True,
    help=f"Shipped profile name ({', '.join(SHIPPED_PROFILES)}) or a TOML file.",
)


@click.group(cls=_Group, epilog=_roles_epilog())
@click.version_option(__version__, prog_name="landplan")
@click.option("-v", "--verbose", count=True, help="More log output (repeat for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
def main(verbose: int, quiet: bool) -> None:
    """landplan: farmland-protection rules as reproducible GIS analysis."""
    from landplan.core.progress import configure

    configure(verbose, quiet)  # progress and logs on stderr; -v: landplan's INFO only
    logging.getLogger(__name__).debug("landplan %s, Python %s", __version__, sys.version.split()[0])


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--count",
    "n_parcels",
    type=click.IntRange(min=12),
    default=10_000,
    show_default=True,
    help="Number of parcels to generate.",
)
@click.option(
    "--seed",
    type=int,
    default=2021,
    show_default=True,
    help="Random seed; the same seed gives the same data.",
)
@click.option(
    "--dem-resolution", type=float, default=10.0, show_default=True, help="DEM cell size in metres."
)
@click.option("--overwrite", is_flag=True, help="Replace existing files.")
@_handle_errors
def synth(
    *, out_dir: Path, n_parcels: int, seed: int, dem_resolution: float, overwrite: bool
) -> None:
    """Generate a synthetic 三调 dataset in OUT_DIR."""
    from landplan.synthetic import generate

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
    *,
    parcels: str,
    output: Path,
    dem: str | None,
    layers: dict[str, str],
    overwrite: bool,
    read: ReadOptions | None = None,
) -> None:
    from landplan.api import measure_files

    result = measure_files(
        parcels, output, dem=dem, layers=layers, overwrite=overwrite, read=read or ReadOptions()
    )
    columns = [
        c
        for c in result.by_county.columns
        if c in ("county_code", "county_name", "parcels", "farmland_parcels")
        or c.endswith("_wanmu")
    ]
    click.echo(result.by_county[columns].round(2).to_string(index=False))
    _wrote(output)


@main.command(epilog=_roles_epilog())
@click.argument("parcels", type=str)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Output GeoPackage: layer parcels with the measures, table county_summary.",
)
@_dem_option
@_layer_option
@_input_options
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
@_handle_errors
def measure(
    *,
    parcels: str,
    output: Path,
    dem: str | None,
    layer_options: tuple[str, ...],
    field_options: tuple[str, ...],
    encoding: str | None,
    crs: str | None,
    overwrite: bool,
) -> None:
    """Measure every parcel (area, slope, overlaps) and print county figures."""
    read = ReadOptions(_parse_field_options(field_options), encoding, crs)
    _measure_and_report(
        parcels=parcels,
        output=output,
        dem=dem,
        layers=_parse_layer_options(layer_options),
        overwrite=overwrite,
        read=read,
    )


def _print_class_table(result: Result | PartitionedResult) -> None:
    table = result.summary
    wide = table.pivot_table(
        index=["county_code", "county_name"],
        columns="lp_class",
        values="area_wanmu",
        aggfunc="sum",
        sort=False,
    )
    wide = wide[[c for c in CLASS_CODES if c in wide.columns]]
    click.echo("万亩 by county and class (city total last):")
    click.echo(wide.round(2).to_string())
    quotas = result.quotas[
        [
            "county_code",
            "county_name",
            "pbf_target_wanmu",
            "pbf_selected_wanmu",
            "pbf_balance_wanmu",
            "reserve_target_wanmu",
            "reserve_selected_wanmu",
        ]
    ]
    click.echo("\nPBF and reserve quotas (万亩; balance < 0 is a shortfall):")
    click.echo(quotas.round(3).to_string(index=False))
    _explain_shortfalls(result.quotas)


def _explain_shortfalls(quotas: pd.DataFrame) -> None:
    """For each county short of its PBF target: which rules kept farmland out of the pool."""
    short = quotas[quotas["pbf_balance_m2"] < 0]
    if not len(short):
        return
    click.echo(
        "\nWhy short (万亩): eligible farmland left, and target farmland each P rule kept out:"
    )
    rules = [c for c in quotas.columns if c.startswith("pbf_out_") and c.endswith("_m2")]
    for _, row in short.iterrows():
        out = sorted(((row[c], c[len("pbf_out_") : -3]) for c in rules), reverse=True)
        named = ", ".join(f"{rule} {m2 / M2_PER_WANMU:.3f}" for m2, rule in out if m2 > 0)
        click.echo(
            f"  {row['county_code']} {row['county_name']}: short "
            f"{-row['pbf_balance_m2'] / M2_PER_WANMU:.3f}; eligible left "
            f"{row['pbf_eligible_left_m2'] / M2_PER_WANMU:.3f}; {named or 'no P rule fired'}"
        )


@main.command("classify", epilog=_roles_epilog())
@click.argument("parcels", type=str)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="Output GeoPackage (or .shp); for a folder of county partitions, see --output-format.",
)
@click.option(
    "--output-layer",
    "--layer-name",
    "output_layer",
    default="parcels",
    show_default=True,
    help="Name of the parcel layer in the output GeoPackage.",
)
@_dem_option
@_layer_option
@_profile_option
@click.option(
    "--targets",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Per-county PBF targets in 万亩: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030) or XLSX, "
    "one row per county; Chinese headers (行政区代码, 永久基本农田保护面积, 储备区 ...) "
    "are recognised, a reserve column is used where present.",
)
@click.option(
    "--targets-column",
    default="pbf_2035_wanmu",
    show_default=True,
    help="Column of --targets holding the PBF targets (万亩, or the unit in its header's "
    "brackets); the default also finds 永久基本农田保护面积 / 保护目标.",
)
@_targets_county_option
@click.option(
    "--summary",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the county × class table as CSV (UTF-8 with BOM).",
)
@click.option("--split", is_flag=True, help="Cut parcels along constraint boundaries.")
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Set parcels with invalid data (KCXS outside [0, 1), unknown DLBM, empty geometry, "
    "...) aside as OTHER, out of every quota and total, instead of stopping (exit 3).",
)
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default=None,
    help="single: one process (the default); processes: one task per county on local "
    "processes (implied by --workers); dask: on a Dask cluster (implied by --scheduler).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help=(
        "Number of worker processes; all the cores this process may use (its CPU "
        "affinity) when an engine is chosen without it."
    ),
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Address of a running dask.distributed scheduler, e.g. tcp://10.0.0.5:8786.",
)
@click.option(
    "--scratch",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for the Dask engine's GeoParquet partitions; shared storage on a cluster.",
)
@click.option(
    "--output-format",
    type=click.Choice(["parquet-dataset", "gpkg"]),
    default=None,
    help="For PARCELS a folder of county partitions (`landplan partition`): parquet-dataset "
    "(the default; OUTPUT is a folder of classified counties, county=CODE/part.parquet, "
    "written by the workers, with the tables as CSV) or gpkg (one GeoPackage).",
)
@_input_options
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
@_handle_errors
def classify_command(
    *,
    parcels: str,
    output: Path,
    output_layer: str,
    dem: str | None,
    layer_options: tuple[str, ...],
    profile: str,
    targets: str | None,
    targets_column: str,
    targets_county_column: str | None,
    summary: Path | None,
    split: bool,
    skip_invalid: bool,
    engine: str | None,
    workers: int | None,
    scheduler: str | None,
    scratch: str | None,
    output_format: str | None,
    field_options: tuple[str, ...],
    encoding: str | None,
    crs: str | None,
    overwrite: bool,
) -> None:
    """Classify PARCELS into PBF, reserve, general, non-target, recovery and other land.

    PARCELS may be a folder written by `landplan partition`: then each Dask
    worker reads and writes its own counties and this process merges only
    the county tables (--engine dask, the default for such a folder).
    """
    from landplan.api import classify
    from landplan.io.partitions import is_partitioned

    layers = _parse_layer_options(layer_options)
    read = ReadOptions(_parse_field_options(field_options), encoding, crs)
    if is_partitioned(parcels):
        _classify_partitioned(
            parcels,
            output,
            engine=engine,
            options={
                "output_format": output_format or "parquet-dataset",
                "output_layer": output_layer,
                "dem": dem,
                "layers": layers,
                "profile": profile,
                "targets": targets,
                "targets_column": targets_column,
                "targets_county_column": targets_county_column,
                "read": read,
                "workers": workers,
                "scheduler": scheduler,
                "scratch": scratch,
                "skip_invalid": skip_invalid,
                "overwrite": overwrite,
            },
            summary=summary,
            split=split,
        )
        return
    if output.is_dir():
        raise InputError(
            f"-o {output} is a folder; give a GeoPackage (.gpkg) or shapefile (.shp) path.",
            code="OUTPUT_FOLDER",
        )
    if output_format is not None:
        raise InputError(
            f"--output-format applies to a folder of county partitions; {parcels} is not one "
            "(write one with `landplan partition`), or drop the option.",
            code="OUTPUT_FORMAT",
        )
    result = classify(
        parcels,
        dem=dem,
        layers=layers,
        profile=profile,
        targets=targets,
        targets_column=targets_column,
        targets_county_column=targets_county_column,
        split=split,
        skip_invalid=skip_invalid,
        read=read,
        engine=engine,  # type: ignore[arg-type]  # checked by click.Choice
        workers=workers,
        scheduler=scheduler,
        scratch=scratch,
        output=output,  # refused before any work is done if it exists
        output_layer=output_layer,
        summary_csv=summary,
        overwrite=overwrite,
    )
    _print_class_table(result)
    _wrote(output)


def _classify_partitioned(
    parcels: str,
    output: Path,
    *,
    engine: str | None,
    options: dict[str, Any],
    summary: Path | None,
    split: bool,
) -> None:
    """``classify`` of a folder of county partitions: on Dask, the workers read and write."""
    from landplan.api import classify_partitioned
    from landplan.io.files import write_csv

    if engine not in (None, "dask") or split:
        raise InputError(
            f"{parcels} is a folder of county partitions, which only the dask engine "
            "classifies, without --split; use --engine dask (or no --engine), or classify "
            "the original parcel file.",
            code="PARTITIONED_INPUT",
        )
    result = classify_partitioned(parcels, output, **options)
    if summary is not None:
        write_csv(result.summary, summary)
    _print_class_table(result)
    _wrote(output)


@main.command("partition")
@click.argument("parcels", type=str)
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--layer-name",
    "layer",
    default=None,
    help="Layer of PARCELS to read, in a multi-layer file (default DLTB / 地类图斑).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=65_536,
    show_default=True,
    help="Parcels read, and held in memory, at once.",
)
@_input_options
@click.option("--overwrite", is_flag=True, help="Replace the county partitions in FOLDER.")
@_handle_errors
def partition_command(
    *,
    parcels: str,
    folder: Path,
    layer: str | None,
    batch_size: int,
    field_options: tuple[str, ...],
    encoding: str | None,
    crs: str | None,
    overwrite: bool,
) -> None:
    """Stream PARCELS into one GeoParquet file per county in FOLDER (county=CODE/part.parquet).

    Memory holds one batch however large the layer; `landplan classify FOLDER
    -o OUT --engine dask` then classifies it with each worker reading its counties.
    """
    from landplan.api import partition_parcels

    counties = partition_parcels(
        parcels,
        folder,
        layer=layer,
        read=ReadOptions(_parse_field_options(field_options), encoding, crs),
        batch_size=batch_size,
        overwrite=overwrite,
    )
    for county in counties:
        click.echo(f"{county.county or '(no county code)'}\t{county.parcels}\t{county.path}")
    _wrote(folder)


@main.command("report")
@click.argument("result", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--targets",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="County targets (CSV in UTF-8 or GBK, or XLSX) to compare with: county codes, "
    "protection_target_2035_wanmu / 耕地保护目标, pbf_2035_wanmu / 永久基本农田保护面积 ...",
)
@_targets_county_option
@click.option(
    "-d",
    "--directory",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for the tables, charts and report.html; created if needed. A folder "
    "holding files is refused without --overwrite.",
)
@click.option(
    "--warn-within",
    type=float,
    default=0.01,
    show_default=True,
    help="Indicator warning band: short of the target by at most this share is 预警.",
)
@click.option(
    "--parcels-layer",
    "--layer-name",
    "parcels_layer",
    default="parcels",
    show_default=True,
    help="Name of the parcel layer in RESULT.",
)
@click.option("--overwrite", is_flag=True, help="Write into a folder that already holds files.")
@_handle_errors
def report_command(
    *,
    result: Path,
    targets: str | None,
    targets_county_column: str | None,
    directory: Path,
    warn_within: float,
    parcels_layer: str,
    overwrite: bool,
) -> None:
    """Write the plans' tables (附录 2, 3, 5), charts and an HTML summary of RESULT."""
    from landplan.outputs.indicators import Thresholds
    from landplan.outputs.report import write_report

    report = write_report(
        result,
        directory,
        targets=targets,
        thresholds=Thresholds(warn_within=warn_within),
        parcels_layer=parcels_layer,
        targets_county_column=targets_county_column,
        overwrite=overwrite,
    )
    for path in report.files:
        click.echo(str(path))


@main.command("rules", epilog=_profiles_epilog())
@_profile_option
@click.option("--json", "as_json", is_flag=True, help="Print the profile as JSON.")
@_handle_errors
def rules_command(profile: str, as_json: bool) -> None:
    """List the rules of a profile, their thresholds and their sources in the plans."""
    from landplan.rules import load_profile

    loaded = load_profile(profile)
    if as_json:
        data = {**loaded.to_dict(), "severities": list(SEVERITIES), "plans": PLANS}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(f"{loaded.id}: {loaded.name_zh} ({loaded.source})")
    click.echo("sources: " + "; ".join(f"{code} = {name}" for code, name in PLANS.items()))
    for rule in loaded.rules:
        params = ", ".join(f"{k}={v}" for k, v in rule.params.items())
        exit_mode = " existing_pbf=may_exit" if rule.existing_pbf != "exit" else ""
        click.echo(f"{rule.id:<28} {rule.kind:<24} {params}{exit_mode}")
        click.echo(f"{'':<28} {rule.zh} | {rule.en} [{rule.source}]")
    click.echo("\nparameters (value, unit: ground):")
    for item in loaded.parameter_docs():
        click.echo(f"{item['name']:<28} {item['value']!s:<24} {item['unit']}: {item['doc']}")


@main.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("out/demo.gpkg"),
    show_default=True,
    help="Output GeoPackage; the county table is also written beside it as CSV.",
)
@_handle_errors
def demo(output: Path) -> None:
    """Classify the bundled sample (DEM, every layer, targets) and print the county table."""
    from landplan.api import classify
    from landplan.io.layers import list_layers
    from landplan.io.sample import sample_path

    constraints = sample_path("constraints")
    layers = {name: f"{constraints}|layername={name}" for name in list_layers(constraints)}
    result = classify(
        sample_path("parcels"),
        dem=sample_path("dem"),
        layers=layers,
        targets=sample_path("targets"),
    )
    result.to_file(output, overwrite=True, summary_csv=output.with_suffix(".csv"))
    _print_class_table(result)
    _wrote(output)


@main.command("check", epilog=_roles_epilog())
@click.argument("parcels", type=click.Path(path_type=Path))
@_layer_option
@_dem_option
@_profile_option
@click.option(
    "--json",
    "fmt",
    flag_value="json",
    default=True,
    help="Report as strict JSON (null for missing values), the default.",
)
@click.option(
    "--csv",
    "fmt",
    flag_value="csv",
    help="Report the findings as CSV, UTF-8 with a BOM for Excel.",
)
@click.option(
    "--findings-gpkg",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the findings, with their parcels' geometry, as layer 'findings' of "
    "this GeoPackage for QGIS.",
)
@click.option("--overwrite", is_flag=True, help="Replace the --findings-gpkg file if it exists.")
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    default="error",
    show_default=True,
    help="Exit 1 when a finding is at least this severe.",
)
@_input_options
@_handle_errors
def check_command(
    *,
    parcels: Path,
    layer_options: tuple[str, ...],
    dem: str | None,
    profile: str,
    fmt: str,
    findings_gpkg: Path | None,
    overwrite: bool,
    fail_on: str,
    field_options: tuple[str, ...],
    encoding: str | None,
    crs: str | None,
) -> None:
    """Audit an existing PBF layer and validate 三调 attributes of PARCELS (a file or a folder).

    Findings name each parcel by its BSM and row (its feature id in the file). Exit codes:
    0 no finding at or above --fail-on, 1 findings, 2 usage error, 3 unreadable input. The
    report goes to stdout, progress and logs to stderr.
    """
    from landplan.audit.batch import check_files
    from landplan.io.layers import check_writable, parcel_files, read_role_layers, write_layer

    read = ReadOptions(_parse_field_options(field_options), encoding, crs)
    role_paths = _parse_layer_options(layer_options)
    if findings_gpkg is not None:
        check_writable(findings_gpkg, overwrite=overwrite)  # refuse before any work is done
    files = parcel_files(parcels)
    layers = read_role_layers(role_paths, crs=crs)
    with click.progressbar(length=len(files), label="checking", file=sys.stderr) as bar:
        report = check_files(
            files,
            layers=layers,
            dem=dem,
            profile=profile,
            read=read,
            progress=lambda _: bar.update(1),
        )
    if findings_gpkg is not None:
        write_layer(report.findings_layer(), findings_gpkg, layer="findings")
        _wrote(findings_gpkg)
    text = report.to_csv() if fmt == "csv" else report.to_json() + "\n"
    click.echo(text.encode("utf-8"), nl=False)  # bytes: UTF-8 whatever the console's encoding
    if report.unreadable:
        sys.exit(EXIT_UNREADABLE)
    worst = report.worst()
    if worst is not None and SEVERITIES.index(worst) >= SEVERITIES.index(fail_on):
        sys.exit(EXIT_FINDINGS)


_BALANCE_ROLES = ["return_forest", "damaged", "river_lake", "river_channel"]


@main.command("balance", epilog=_roles_epilog(_BALANCE_ROLES))
@click.argument("old", type=str)
@click.argument("new", type=str)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="A .csv (county table, and <stem>_flows.csv by class), .xlsx (both as sheets), "
    ".gpkg (layer balance_pieces of the changed pieces, and both tables) or .png / .svg (a "
    "map of the changed pieces by direction, paddy apart, with county boundaries, legend, "
    "scale bar and north arrow); any other path is a folder that receives balance.csv, "
    "balance_flows.csv, balance.xlsx, balance.gpkg, balance_map.png and balance_map.svg.",
)
@click.option(
    "--layer",
    "layer_options",
    multiple=True,
    metavar="ROLE=PATH",
    help="Layer marking farmland losses the plan exempts: return_forest (国家安排的生态退耕), "
    "damaged (自然灾害损毁难以复耕), river_lake or river_channel (河湖水面扩大永久淹没, "
    "where NEW is river or lake water); repeatable.",
)
@click.option(
    "--cause-field",
    default=None,
    metavar="COLUMN",
    help="Column of NEW marking exempt losses per parcel: eco_return / 生态退耕, "
    "disaster / 灾毁, flooded / 永久淹没; blank for none.",
)
@click.option(
    "--scope",
    type=click.Choice(SCOPES),
    default="agricultural",
    show_default=True,
    help="agricultural: farmland to and from other agricultural land (园林草, 坑塘, 设施农用地 "
    "...), the plan's balance; all: every farmland loss and gain counts (construction too).",
)
@_input_options
@click.option("--overwrite", is_flag=True, help="Replace output files that exist.")
@_handle_errors
def balance_command(
    *,
    old: str,
    new: str,
    output: Path,
    layer_options: tuple[str, ...],
    cause_field: str | None,
    scope: str,
    field_options: tuple[str, ...],
    encoding: str | None,
    crs: str | None,
    overwrite: bool,
) -> None:
    """Annual farmland in/out balance (年度进出平衡, 003 ch.5 §3) from survey vintage OLD to NEW.

    The vintages are overlaid by area (parcels may be split, merged or redrawn). Per county
    of NEW: farmland turned out by destination class, land turned in by origin class, paddy
    out and in, exempt losses, after KCXS; balanced when turned-in farmland and paddy are at
    least those turned out. Prints the county table in 亩.
    """
    from landplan.api import balance
    from landplan.audit.balance import output_files
    from landplan.io.layers import check_writable

    read = ReadOptions(_parse_field_options(field_options), encoding, crs)
    layers = _parse_layer_options(layer_options)
    if not overwrite:
        for target in output_files(output).values():
            check_writable(target, overwrite=False)  # refuse before any work is done
    result = balance(
        old,
        new,
        layers=layers,
        scope=scope,  # type: ignore[arg-type]  # checked by click.Choice
        cause_field=cause_field,
        read=read,
    )
    columns = ["out", "paddy_out", "excluded", "out_other", "in", "paddy_in"]
    columns += ["shortfall", "paddy_shortfall"]
    table = result.summary[["county_code", "county_name", *(f"{c}_mu" for c in columns), "status"]]
    click.echo(f"进出平衡 (亩, after KCXS; scope {scope}):")
    click.echo(table.round(2).to_string(index=False))
    for path in result.to_files(output, overwrite=overwrite):
        _wrote(path)


@main.command("roles")
@click.option("--json", "as_json", is_flag=True, help="Print the roles as JSON.")
def roles_command(as_json: bool) -> None:
    """List the constraint-layer roles (the ROLE of --layer ROLE=PATH)."""
    from landplan.core.roles import ROLES

    if as_json:
        rows = [{"name": r.name, "zh": r.zh, "code": r.code} for r in ROLES.values()]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for role in ROLES.values():
        click.echo(f"{role.name:<24} {role.zh}")
