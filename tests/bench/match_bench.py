#!/usr/bin/python3
"""Matching benchmark: mentord's assignment solver against SciPy's.

Run through tests/bench/run.sh (`tests/bench/run.sh --only match` runs this
section alone, with no server and no root), or directly after
`cmake --build build --target match_bench`:

  /usr/bin/python3 tests/bench/match_bench.py [--build build] [--runs 3] [--quick]

Each run:
  1. build/match_bench generates 3,000 mentees and mentors offering 3,000
     places (capacities 1-5), writes the cost matrix that match_pairs solves
     (int64; refused pairs marked forbidden) and times, in the same process,
     match_assign on it, match_pairs end to end (matrix, solve, reasons) and
     match_teams on 10,000 applicants (CDE sizes 3-5, a previous round's
     pairs forbidden; sizes and repeats checked);
  2. this script loads the same matrix, replaces forbidden cells by +inf
     (float64, exact for these integers) and times
     scipy.optimize.linear_sum_assignment on it (the call alone), then checks
     that both found the same optimal total (summed in int64 from the
     original matrix) with no forbidden cell used;
  3. a matrix without the structure of mentor places (uniform random
     integer costs 0-999, seeded by the run number), solved by both the same
     way (match_bench --solve times match_assign alone): mentord's generic
     speed, since on the first matrix it solves each mentor's identical
     place columns as one.

Prints each run and min / median / max over the runs, with the time ratio
mentord / SciPy of each run (both measured in the same run, one after the
other, on the same machine).  Not a pass/fail test; the goal (the same
optimum, mentord no slower than SciPy) is printed next to the figures.
Needs Debian's python3-scipy (tests/install-deps.sh --bench).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))

try:
    import numpy as np
    from scipy.optimize import linear_sum_assignment
except ImportError as e:
    print("match bench: %s; install Debian's python3-scipy "
          "(sudo tests/install-deps.sh --bench) and run with /usr/bin/python3" % e,
          file=sys.stderr)
    sys.exit(1)


def run_driver(binary, matrix, sizes):
    cmd = [binary, "--matrix", matrix, "--mentees", str(sizes["mentees"]),
           "--places", str(sizes["places"]), "--teams", str(sizes["teams"])]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit("match bench: %s failed (%d):\n%s%s" % (
            " ".join(cmd), p.returncode, p.stdout, p.stderr))
    values = {}
    for line in p.stdout.splitlines():
        key, _, value = line.partition(" ")
        values[key] = value
    return values


def run_scipy(matrix):
    data = np.fromfile(matrix, dtype="<i8")
    rows, cols, forbidden = (int(x) for x in data[:3])
    cost = data[3:].reshape(rows, cols)
    refused = cost == forbidden
    dense = cost.astype(np.float64)
    dense[refused] = np.inf
    t0 = time.perf_counter()
    r, c = linear_sum_assignment(dense)
    seconds = time.perf_counter() - t0
    if refused[r, c].any():
        raise SystemExit("match bench: SciPy used a forbidden cell")
    return {"seconds": seconds, "total": int(cost[r, c].sum(dtype=np.int64)),
            "rows": len(r), "shape": (rows, cols), "refused": float(refused.mean())}


def run_random(binary, matrix, n, seed):
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 1000, size=(n, n), dtype=np.int64)
    head = np.array([n, n, np.iinfo(np.int64).max], dtype="<i8")
    with open(matrix, "wb") as f:
        f.write(head.tobytes())
        f.write(cost.astype("<i8").tobytes())
    p = subprocess.run([binary, "--solve", matrix], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit("match bench: %s --solve failed:\n%s" % (binary, p.stderr))
    m = dict(line.split(" ", 1) for line in p.stdout.splitlines())
    dense = cost.astype(np.float64)
    t0 = time.perf_counter()
    r, c = linear_sum_assignment(dense)
    seconds = time.perf_counter() - t0
    return {"mentord": float(m["solve_seconds"]), "scipy": seconds,
            "same": int(m["solve_total"]) == int(cost[r, c].sum(dtype=np.int64))}


def spread(values, fmt="%.3f"):
    return " / ".join(fmt % v for v in (min(values), statistics.median(values), max(values)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(SOURCE_DIR, "build"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true",
                    help="1,000 x 1,000 and 2,000 applicants, to try it out")
    args = ap.parse_args()
    sizes = dict(mentees=1000, places=1000, teams=2000) if args.quick else \
        dict(mentees=3000, places=3000, teams=10000)
    binary = os.path.join(args.build, "match_bench")
    if not os.access(binary, os.X_OK):
        raise SystemExit("match bench: %s not built (cmake --build %s --target match_bench)"
                         % (binary, args.build))

    runs = []
    with tempfile.TemporaryDirectory(prefix="mentord-match-") as work:
        matrix = os.path.join(work, "matrix.bin")
        for k in range(args.runs):
            m = run_driver(binary, matrix, sizes)
            s = run_scipy(matrix)
            os.unlink(matrix)
            same = int(m["assign_total"]) == s["total"] and int(m["assign_rows"]) == s["rows"]
            run = {
                "mentord": float(m["assign_seconds"]), "scipy": s["seconds"],
                "pairs": float(m["pairs_seconds"]), "teams": float(m["teams_seconds"]),
                "same": same, "m": m, "s": s,
            }
            run["ratio"] = run["mentord"] / run["scipy"]
            run["random"] = run_random(binary, matrix, sizes["mentees"], k + 1)
            os.unlink(matrix)
            runs.append(run)
            print("match bench: run %d: mentord match_assign %.3f s, SciPy %.3f s, "
                  "ratio %.2f; totals %s (%s); match_pairs %.3f s; teams %.3f s" % (
                      k + 1, run["mentord"], run["scipy"], run["ratio"],
                      "equal" if same else "DIFFER", m["assign_total"], run["pairs"],
                      run["teams"]), flush=True)
            rr = run["random"]
            print("match bench: run %d: random costs: mentord %.3f s, SciPy %.3f s, "
                  "ratio %.2f; totals %s" % (k + 1, rr["mentord"], rr["scipy"],
                                             rr["mentord"] / rr["scipy"],
                                             "equal" if rr["same"] else "DIFFER"),
                  flush=True)

    m, s = runs[-1]["m"], runs[-1]["s"]
    same = all(r["same"] for r in runs)
    rsame = all(r["random"]["same"] for r in runs)
    rratios = [r["random"]["mentord"] / r["random"]["scipy"] for r in runs]
    ratios = [r["ratio"] for r in runs]
    print()
    print("Matching: %d mentees x %d mentor places (%s mentors, capacities 1-5), "
          "%.1f%% of pairs refused; %d runs, min / median / max" % (
              s["shape"][0], s["shape"][1], m["mentors"], 100 * s["refused"], len(runs)))
    print("  mentord match_assign           %s s" % spread([r["mentord"] for r in runs]))
    print("  SciPy linear_sum_assignment    %s s" % spread([r["scipy"] for r in runs]))
    print("  ratio mentord / SciPy per run  %s   goal <= 1: %s" % (
        spread(ratios, "%.2f"), "met" if max(ratios) <= 1 else "NOT met"))
    print("  same optimal total             %s (%s, %s rows assigned)   goal: %s" % (
        "yes" if same else "NO", m["assign_total"], m["assign_rows"],
        "met" if same else "NOT met"))
    print("  random costs 0-999, %d x %d: mentord %s s, SciPy %s s, ratio %s, same totals: %s"
          % (s["shape"][0], s["shape"][0], spread([r["random"]["mentord"] for r in runs]),
             spread([r["random"]["scipy"] for r in runs]), spread(rratios, "%.2f"),
             "yes" if rsame else "NO"))
    print("  match_pairs end to end         %s s (matrix %s s; %s pairs, score %s)" % (
        spread([r["pairs"] for r in runs]), m["matrix_seconds"], m["pairs"],
        m["pairs_score"]))
    print("  match_teams, %s applicants  %s s: %s teams (%s of 3, %s of 4, %s of 5), "
          "%s unplaced, %s previous pairs, %s violations, score %s" % (
              m["teams_people"], spread([r["teams"] for r in runs]), m["teams"],
              m["teams_of_3"], m["teams_of_4"], m["teams_of_5"], m["teams_unplaced"],
              m["teams_previous_pairs"], m["teams_violations"], m["teams_score"]))
    print("  e.g. pair   %s" % m.get("pairs_example", "-"))
    print("  e.g. team   %s" % m.get("teams_example", "-"))
    return 0 if same and rsame else 1


if __name__ == "__main__":
    sys.exit(main())
