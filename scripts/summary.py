#!/usr/bin/python3
"""Prints the summary tables of a bpebench results file: per vocabulary size, each trainer's time
and each encoder's throughput (medians), the fastest of each, and its speedup over the naive one.

usage: scripts/summary.py RESULTS.json
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import results  # noqa: E402


def table(title, rows, algorithms, fmt, better_low):
    print(title)
    print("  {:>7}  ".format("vocab") + "".join("{:>11}".format(a) for a in algorithms) +
          "   fastest   vs naive")
    for vocab in sorted(rows):
        vals = rows[vocab]
        cells = "".join("{:>11}".format(fmt(vals[a]) if a in vals else "skipped") for a in algorithms)
        best = (min if better_low else max)(vals, key=vals.get)
        speedup = "n/a"
        if "naive" in vals:
            speedup = "{:.1f}x".format(vals["naive"] / vals[best] if better_low else vals[best] / vals["naive"])
        print("  {:>7}  {}   {:>7}   {:>8}".format(vocab, cells, best, speedup))
    print()


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        sys.exit(__doc__)
    try:
        data = results.load(sys.argv[1])
    except (OSError, ValueError) as e:
        sys.exit("summary.py: error: cannot read {}: {}".format(sys.argv[1], e))
    med = results.medians(results.measurements(data))
    print("bpebench results: {}".format(results.context_line(data)))
    for corpus in sorted({m["corpus"] for m in med.values() if m.get("corpus")}):
        train, encode = {}, {}
        for m in med.values():
            if m.get("corpus") != corpus:
                continue
            if m["kind"] == "train":
                train.setdefault(m["vocab"], {})[m["algorithm"]] = m["seconds"]
            elif m["kind"] == "encode" and m["threads"] == 1:
                encode.setdefault(m["vocab"], {})[m["algorithm"]] = m["bytes_per_second"] / 1e6
        if train:
            table("Training on {} from word counts (seconds, median):".format(corpus), train,
                  sorted({a for v in train.values() for a in v}), lambda s: "{:.3f} s".format(s), True)
        if encode:
            table("Encoding {} held-out text, 1 thread (MB/s, median):".format(corpus), encode,
                  sorted({a for v in encode.values() for a in v}), lambda v: "{:.2f}".format(v), False)
    skipped = [r for r in results.measurements(data) if r.get("error", "").startswith("skipped")]
    print("checks: {}".format(data["context"].get("bpebench_checks", "unknown")))
    print("skipped over the time budget: {} (each with its reason in results.csv and the JSON)".format(
        len(skipped)))
    interrupted = {(r["kind"], r["algorithm"], r.get("vocab"), r.get("threads"), r.get("bytes")) for r in results.measurements(data) if r.get("error", "").startswith("interrupted")}
    if interrupted:
        print("INTERRUPTED: {} benchmarks have repetitions that were not measured (the sweep was "
              "stopped by a signal); medians above use the repetitions that were".format(len(interrupted)))


if __name__ == "__main__":
    main()
