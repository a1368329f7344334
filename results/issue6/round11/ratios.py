#!/usr/bin/python3
"""Prints the 2-thread scaling of the training rows in harness result files (round 11 of issue 6).

Usage: ratios.py RESULT.json...  For each file: end to end (train_text) time on 1 thread, on 2, and
their ratio per trainer and vocabulary size; counting alone (count/gpt2) on 1 and 2 threads; and
`linked` from word counts on 1 thread at each vocabulary size. Then, over all the files, the median
and range of each end-to-end ratio. Times are the rows' medians over their repetitions, in ms, read
with scripts/results.py as the summary and the plots read them.
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "scripts"))
import results  # noqa: E402


def times_ms(path):
    """(kind, algorithm, corpus, vocab, threads) -> median ms, for the count, train and train_text rows."""
    out = {}
    for m in results.medians(results.measurements(results.load(path))).values():
        if m["kind"] in ("count", "train", "train_text"):
            out[(m["kind"], m["algorithm"], m["corpus"], m.get("vocab", 0), m["threads"])] = m["seconds"] * 1e3
    return out


def scaling(rows, kind):
    """(algorithm, corpus, vocab, ms on 1 thread, ms on 2) for each row of `kind` run on both."""
    for (k, algo, corpus, vocab, threads), t1 in sorted(rows.items()):
        t2 = rows.get((k, algo, corpus, vocab, 2))
        if k == kind and threads == 1 and t2 is not None:
            yield algo, corpus, vocab, t1, t2


def main(paths):
    ratios = {}
    for path in paths:
        rows = times_ms(path)
        print(path)
        for algo, corpus, vocab, t1, t2 in scaling(rows, "train_text"):
            ratios.setdefault((algo, corpus, vocab), []).append(t1 / t2)
            print(f"  {algo:8} {corpus} vocab {vocab:5}: 1t {t1:7.1f} 2t {t2:7.1f} ms  ratio {t1 / t2:.2f}x")
        for algo, corpus, _, t1, t2 in scaling(rows, "count"):
            print(f"  counting ({algo}) {corpus}: 1t {t1:.0f} 2t {t2:.0f} ms ({t1 / t2:.2f}x)")
        for (kind, algo, _, vocab, threads), t1 in sorted(rows.items()):
            if kind == "train" and algo == "linked" and threads == 1:
                print(f"  linked from word counts, vocab {vocab}, 1t: {t1:.0f} ms")
    print("End to end, time on 1 thread / time on 2, over the files:")
    for (algo, corpus, vocab), rs in sorted(ratios.items()):
        print(f"  {algo:8} {corpus} vocab {vocab:5}: median {statistics.median(rs):.2f}x, "
              f"range {min(rs):.2f}-{max(rs):.2f}x, 1.6x or more in {sum(r >= 1.6 for r in rs)} of {len(rs)}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
