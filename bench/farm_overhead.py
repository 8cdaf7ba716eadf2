"""Farm overhead: the same frames rendered by one Blender process, and through the farm.

Prints the wall time of a direct ``cloudburst-blender -b SCENE -o OUT -s 1 -e N -a`` and of
``cloudburst render SCENE --frames 1-N`` (which starts a daemon and agents, submits, waits, and
stops them), and their ratio, for a few chunk sizes. Needs the ``blender`` extra (bpy).

Usage: ``python bench/farm_overhead.py [--frames 24] [--resolution 320x180] [--samples 32]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--resolution", default="320x180")
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--chunks", default="24,12,6", help="chunk sizes to try")
    parser.add_argument("--agents", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the median counts")
    args = parser.parse_args()
    bindir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        scene = root / "bench.blend"
        subprocess.run(
            [sys.executable, "-m", "cloud_agent.demo_scene", str(scene), "--frames",
             f"1-{args.frames}", "--resolution", args.resolution, "--samples",
             str(args.samples)],
            check=True, capture_output=True,
        )  # fmt: skip
        direct = statistics.median(
            timed(
                [
                    str(bindir / "cloudburst-blender"),
                    "-b",
                    str(scene),
                    "-o",
                    str(root / "direct" / "f_####"),
                    "-F",
                    "PNG",
                    "-s",
                    "1",
                    "-e",
                    str(args.frames),
                    "-a",
                ]
            )
            for _ in range(args.repeat)
        )
        print(
            f"frames {args.frames} at {args.resolution}, {args.samples} samples; "
            f"median of {args.repeat} runs each"
        )
        print(f"direct, one Blender process     {direct:7.2f} s")
        ratios = []
        for chunk in (int(c) for c in args.chunks.split(",")):
            runs = []
            for run in range(args.repeat):
                data = root / f"data-{chunk}-{run}"
                runs.append(
                    timed(
                        [
                            str(bindir / "cloudburst"),
                            "render",
                            str(scene),
                            "--frames",
                            f"1-{args.frames}",
                            "--chunk",
                            str(chunk),
                            "--agents",
                            str(args.agents),
                            "--output",
                            str(root / f"farm-{chunk}" / "f_####"),
                            "--data-dir",
                            str(data),
                        ]
                    )
                )
                shutil.rmtree(data, ignore_errors=True)
            farm = statistics.median(runs)
            ratios.append((chunk, farm / direct))
            print(
                f"cloudburst render, chunk {chunk:3d}     {farm:7.2f} s   "
                f"ratio {farm / direct:.3f}  ({args.agents} agent(s))"
            )
    best = min(ratios, key=lambda r: r[1])
    print(
        f"summary: direct {direct:.2f} s; best farm ratio {best[1]:.3f} at chunk {best[0]} "
        f"with {args.agents} agent(s) (goal <= 1.05)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
