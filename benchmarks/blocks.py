"""Benchmark of contiguous farmland blocks (集中连片) at city scale.

``python benchmarks/blocks.py --sizes 200000,1000000,2000000``

For each size N, synthetic 三调 parcels of Hengyang's 12 counties are made in
memory (``landplan.synthetic``: a jittered grid tessellating each county, land
classes placed by terrain and settlements, about a quarter farmland), not
timed.  Then, timed with the wall clock:

- ``contiguous_blocks`` over the farmland parcels (``TBDLMJ``, county from
  ``ZLDWDM``) at each gap of ``--gaps`` (default 8 m, the default
  ``block_gap_m``);
- ``area_in_blocks`` at 3, 5, 15 and 20 亩;
- with ``--all-members``, also ``contiguous_blocks`` with every parcel a
  member: the worst case, about four times as many members.

The synthetic parcels tessellate: neighbours share edges, so every gap gives
the same blocks.  ``--shrink-m S`` shrinks every farmland parcel by S metres
(not timed), so that neighbouring farmland is 2·S apart, as across a field
road: then a gap below 2·S leaves every parcel a block of its own.

The synthetic parcels have 8 vertices; real 三调 parcels have tens to a few
hundred, and the exact distance test grows with them, so real data take
longer than these figures (the bounding-box query and the components do not).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from landplan.measure.blocks import DEFAULT_GAP_M, area_in_blocks, contiguous_blocks
from landplan.survey.schema import FARMLAND_CODES
from landplan.synthetic.landscape import build_landscape, layout_counties
from landplan.synthetic.parcels import county_parcels

TARGET_2M_S = 15.0


def synthetic_parcels(n: int, seed: int) -> pd.DataFrame:
    """N synthetic parcels of all counties in one frame (geometry in metres)."""
    rng = np.random.default_rng(seed)
    counties = layout_counties(n)
    land = build_landscape(counties, rng)
    frames, first_id = [], 1
    for county in counties:
        frame = county_parcels(county, land, rng, first_id=first_id)
        first_id += len(frame)
        frames.append(frame[["ZLDWDM", "DLBM", "TBDLMJ", "geometry"]])
    return pd.concat(frames, ignore_index=True)


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def measure(n: int, args: argparse.Namespace) -> dict[str, Any]:
    parcels, gen_s = timed(synthetic_parcels, n, args.seed)
    geoms = parcels.geometry.to_numpy()
    county = parcels["ZLDWDM"].str[:6].to_numpy()
    member = parcels["DLBM"].str[:4].isin(FARMLAND_CODES).to_numpy()
    if args.shrink_m > 0:
        geoms[member] = shapely.buffer(geoms[member], -args.shrink_m, join_style="mitre")
    area = parcels["TBDLMJ"].to_numpy(dtype=float)
    row: dict[str, Any] = {
        "n_parcels": n,
        "n_members": int(member.sum()),
        "generate_s": round(gen_s, 1),
        "shrink_m": args.shrink_m,
        "gaps": {},
    }
    for gap in args.gaps:
        gc.collect()
        blocks, seconds = timed(contiguous_blocks, geoms, county, member, area, gap_m=gap)
        table, shares_s = timed(area_in_blocks, county, blocks.block_area_m2, area)
        city = table.sum()
        row["gaps"][f"{gap:g}"] = {
            "blocks_s": round(seconds, 2),
            "area_in_blocks_s": round(shares_s, 2),
            "n_blocks": len(blocks.table),
            "city_share": {
                t: round(float(city[f"ge{t}mu_m2"] / city["area_m2"]), 4) for t in (3, 5, 15, 20)
            },
        }
    if args.all_members:
        gc.collect()
        everyone = np.ones(n, bool)
        blocks, seconds = timed(
            contiguous_blocks, geoms, county, everyone, area, gap_m=args.gaps[0]
        )
        row["all_members"] = {"blocks_s": round(seconds, 2), "n_blocks": len(blocks.table)}
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", "200000,1000000,2000000"))
    parser.add_argument(
        "--gaps", default=f"{DEFAULT_GAP_M:g}", help="gap_m values, comma-separated"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shrink-m", type=float, default=0.0, help="shrink farmland by this")
    parser.add_argument("--all-members", action="store_true", help="also every parcel a member")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    args.gaps = [float(g) for g in args.gaps.split(",")]
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    rows = []
    for n in sizes:
        row = measure(n, args)
        rows.append(row)
        for gap, r in row["gaps"].items():
            print(
                f"N={n:>9,}  members={row['n_members']:>9,}  "
                f"shrink={args.shrink_m:g} m  gap={gap} m  "
                f"blocks {r['blocks_s']:6.2f} s  area_in_blocks {r['area_in_blocks_s']:5.2f} s  "
                f"{r['n_blocks']:,} blocks  city shares ≥3/5/15/20 亩 "
                + " / ".join(f"{v:.3f}" for v in r["city_share"].values())
            )
        if "all_members" in row:
            r = row["all_members"]
            print(f"N={n:>9,}  every parcel a member: blocks {r['blocks_s']:6.2f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"peak RSS of the run (generation included): {peak:.1f} GiB")
    big = [r for r in rows if r["n_parcels"] >= 2_000_000]
    for r in big:
        worst = max(g["blocks_s"] for g in r["gaps"].values())
        verdict = "met" if worst < TARGET_2M_S else "MISSED"
        print(f"target: blocks at {r['n_parcels']:,} parcels < {TARGET_2M_S:g} s: {verdict}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
