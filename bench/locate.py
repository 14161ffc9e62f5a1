"""Point → kelurahan (web/locate.py): how long one lookup takes, and how long building the
index from the database takes, for DKI Jakarta (267 kelurahan) and, with `--province 33`,
Central Java (8,561 desa/kelurahan).

A fresh SQLite file gets the province's areas and boundaries as `aduan init --region`
loads them; then 20,000 points drawn uniformly from the province's bounding box (inside an
area, in a sliver, or out at sea) are looked up one by one. Prints the median and 99th
percentile per lookup in microseconds.

    python bench/locate.py [--province 31] [--points 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from db import boundaries, reference
from db.database import Database
from web.locate import load_locator


async def main(province: str, points: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with Database(Path(folder) / "aduan.sqlite3") as db:
            await db.migrate()
            started = time.perf_counter()
            async with db.write() as conn:
                await reference.load_areas(conn, province)
                loaded = await boundaries.load_boundaries(conn, province)
            init_s = time.perf_counter() - started
            started = time.perf_counter()
            locator = await load_locator(db)
            build_s = time.perf_counter() - started
    west, south, east, north = (
        min(g.bounds[0] for g in locator.geometries),
        min(g.bounds[1] for g in locator.geometries),
        max(g.bounds[2] for g in locator.geometries),
        max(g.bounds[3] for g in locator.geometries),
    )
    rng = random.Random(15)
    spread = [(rng.uniform(south, north), rng.uniform(west, east)) for _ in range(points)]
    near = []  # a point in the bounding box of a random area: mostly inside one
    for geometry in rng.choices(list(locator.geometries), k=points):
        x0, y0, x1, y1 = geometry.bounds
        near.append((rng.uniform(y0, y1), rng.uniform(x0, x1)))
    print(
        f"province {province}: {loaded} boundaries; init load {init_s:.1f} s, "
        f"index from the database {build_s * 1000:.0f} ms"
    )
    for label, sample in (("over the province's box", spread), ("in areas' boxes", near)):
        timings = []
        found = 0
        for lat, lon in sample:
            started = time.perf_counter_ns()
            place = locator.find(lat, lon)
            timings.append((time.perf_counter_ns() - started) / 1000)
            found += place is not None
        timings.sort()
        print(
            f"{points} lookups {label} ({found} found): "
            f"median {statistics.median(timings):.0f} µs, "
            f"p99 {timings[int(len(timings) * 0.99)]:.0f} µs, max {timings[-1]:.0f} µs"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--province", default="31")
    parser.add_argument("--points", type=int, default=20_000)
    args = parser.parse_args()
    asyncio.run(main(args.province, args.points))
