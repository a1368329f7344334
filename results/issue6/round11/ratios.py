#!/usr/bin/python3
"""Prints the 2-thread scaling of the training rows in harness result files (round 11 of issue 6).

Usage: ratios.py RESULT.json...  For each file: end to end (train_text) time on 1 thread, on 2, and
their ratio per trainer and vocabulary size; counting alone (count/gpt2) on 1 and 2 threads; and
`linked` from word counts on 1 thread at each vocabulary size. Then, over all the files, the median
and range of each end-to-end ratio. Times are the rows' medians, in ms.
"""
import json
import re
import statistics
import sys

ROW = re.compile(r"^(train_text|train|count)/([^/]+)/([^/]+)/(?:vocab:(\d+)/)?threads:(\d+)/")


def medians(path):
    rows = {}
    for b in json.load(open(path))["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        m = ROW.match(b["name"])
        if m:
            kind, algo, corpus, vocab, threads = m.groups()
            rows[(kind, algo, corpus, int(vocab or 0), int(threads))] = b["real_time"]
    return rows


def main(paths):
    ratios = {}
    for path in paths:
        rows = medians(path)
        print(path)
        for (kind, algo, corpus, vocab, threads), t1 in sorted(rows.items()):
            if kind != "train_text" or threads != 1:
                continue
            t2 = rows.get((kind, algo, corpus, vocab, 2))
            if t2 is None:
                continue
            ratios.setdefault((algo, corpus, vocab), []).append(t1 / t2)
            print(f"  {algo:8} {corpus} vocab {vocab:5}: 1t {t1:7.1f} 2t {t2:7.1f} ms  ratio {t1 / t2:.2f}x")
        for (kind, algo, corpus, vocab, threads), t1 in sorted(rows.items()):
            if kind == "count" and threads == 1 and (kind, algo, corpus, vocab, 2) in rows:
                t2 = rows[(kind, algo, corpus, vocab, 2)]
                print(f"  counting ({algo}) {corpus}: 1t {t1:.0f} 2t {t2:.0f} ms ({t1 / t2:.2f}x)")
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
