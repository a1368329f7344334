#!/usr/bin/python3
"""Prints the summary tables of a bpebench results file: per vocabulary size, each trainer's time
(from word counts, and end to end from text) and each encoder's throughput (medians), the fastest of
each and its speedup over the naive one; then our algorithms against each peer library measured in
the same run, as ratios (how many times faster ours is).

usage: scripts/summary.py RESULTS.json
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import results  # noqa: E402

RATIO_VOCABS = (10000, 30000)  # the peer comparison's vocab sizes, when the run has them


def table(title, rows, algorithms, fmt, better_low):
    """One line per vocab size at which one of ours ran; the fastest and its speedup are among ours."""
    if not any(not results.is_peer(a) for v in rows.values() for a in v):
        return
    print(title)
    widths = [max(10, len(results.display_name(a)) + 2) for a in algorithms]
    print("  {:>7}  ".format("vocab") + "".join("{:>{}}".format(results.display_name(a), w)
                                                 for a, w in zip(algorithms, widths)) + "   fastest   vs naive")
    for vocab in sorted(rows):
        vals = rows[vocab]
        ours = {a: v for a, v in vals.items() if not results.is_peer(a)}
        if not ours:
            continue
        cells = "".join("{:>{}}".format(fmt(vals[a]) if a in vals else "-", w) for a, w in zip(algorithms, widths))
        best = (min if better_low else max)(ours, key=ours.get)
        speedup = "n/a"
        if "naive" in vals:
            speedup = "{:.1f}x".format(vals["naive"] / vals[best] if better_low else vals[best] / vals["naive"])
        print("  {:>7}  {}   {:>7}   {:>8}".format(vocab, cells, best, speedup))
    print()


def ordered(names):
    return sorted(n for n in names if not results.is_peer(n)) + sorted(n for n in names if results.is_peer(n))


def ratio_table(med, corpus, kind, what):
    """Rows: each of our algorithms x thread count; columns: each peer. Cell: peer median time / our
    median time at the same vocab size and thread count. tiktoken brings its own vocabularies (50256,
    100256, 199998 tokens) and one thread: at a vocab size of ours where it did not run, it is compared
    at its nearest vocabulary, named in the cell."""
    rows = [m for m in med.values() if m.get("corpus") == corpus and m["kind"] == kind]
    peers = ordered({m["algorithm"] for m in rows if results.is_peer(m["algorithm"])})
    ours = ordered({m["algorithm"] for m in rows if not results.is_peer(m["algorithm"])})
    if not peers or not ours:
        return
    by = {(m["algorithm"], m["vocab"], m["threads"]): m["seconds"] for m in rows}
    vocabs = sorted({m["vocab"] for m in rows if not results.is_peer(m["algorithm"])})
    with_peer = [v for v in vocabs if any(a != "tiktoken" and vv == v for (a, vv, _) in by if results.is_peer(a))]
    chosen = [v for v in with_peer if v in RATIO_VOCABS] or with_peer[-1:] or vocabs[-1:]
    # tiktoken's own vocabularies, where ours ran with them too: compared at the same vocabulary.
    chosen += [v for v in vocabs if v not in chosen and any(a == "tiktoken" and vv == v for (a, vv, _) in by)]
    threads = sorted({m["threads"] for m in rows})
    for vocab in chosen:
        # Peers measured at this vocab size, and tiktoken (at its nearest vocabulary if not at this one).
        shown = [p for p in peers if p == "tiktoken" or any(a == p and v == vocab for (a, v, _) in by)]
        lines = []
        for alg in ours:
            for t in threads:
                if (alg, vocab, t) not in by:
                    continue
                cells = []
                for p in shown:
                    peer_vocabs = sorted({v for (a, v, tt) in by if a == p and tt == t})
                    if p == "tiktoken" and peer_vocabs and vocab not in peer_vocabs:
                        pv = min(peer_vocabs, key=lambda v: abs(v - vocab) / max(v, vocab))
                        cell = "{:.1f}x (at {}k)".format(by[(p, pv, t)] / by[(alg, vocab, t)], round(pv / 1000))
                    elif (p, vocab, t) in by:
                        cell = "{:.1f}x".format(by[(p, vocab, t)] / by[(alg, vocab, t)])
                    else:
                        cell = "-"
                    cells.append(cell)
                if any(c != "-" for c in cells):
                    lines.append("  {:>10} {:>8}".format(alg, t) + "".join("{:>22}".format(c) for c in cells))
        if not lines:
            continue
        print("{} on {}, vocab {}: ours vs each peer (peer time / our time; above 1: ours is faster)".format(
            what, corpus, vocab))
        print("  {:>10} {:>8}".format("ours", "threads") + "".join("{:>22}".format(p) for p in shown))
        print("\n".join(lines))
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
    peers = data["context"].get("bpebench_peers")
    if peers:
        print("peers: {}".format(peers))
    scaling = data["context"].get("bpebench_machine_scaling")
    if scaling:
        print("machine scaling probe: {}".format(scaling))
    for corpus in sorted({m["corpus"] for m in med.values() if m.get("corpus")}):
        train, text, encode = {}, {}, {}
        for m in med.values():
            if m.get("corpus") != corpus:
                continue
            if m["kind"] == "train":
                train.setdefault(m["vocab"], {})[m["algorithm"]] = m["seconds"]
            elif m["kind"] == "train_text" and m["threads"] == 1:
                text.setdefault(m["vocab"], {})[m["algorithm"]] = m["seconds"]
            elif m["kind"] == "encode" and m["threads"] == 1:
                encode.setdefault(m["vocab"], {})[m["algorithm"]] = m["bytes_per_second"] / 1e6
        if train:
            table("Training on {} from word counts (seconds, median):".format(corpus), train,
                  ordered({a for v in train.values() for a in v}), lambda s: "{:.3f} s".format(s), True)
        if text:
            table("Training on {} end to end from text, 1 thread (seconds, median):".format(corpus), text,
                  ordered({a for v in text.values() for a in v}), lambda s: "{:.3f} s".format(s), True)
        if encode:
            table("Encoding {} held-out text, 1 thread (MB/s, median; vocab 50256, 100256, 199998: tiktoken's "
                  "gpt2, cl100k_base, o200k_base):".format(corpus), encode,
                  ordered({a for v in encode.values() for a in v}), lambda v: "{:.2f}".format(v), False)
        ratio_table(med, corpus, "train_text", "Training from text")
        ratio_table(med, corpus, "encode", "Encoding")
    skipped = [r for r in results.measurements(data) if r.get("error", "").startswith("skipped")]
    print("checks: {}".format(data["context"].get("bpebench_checks", "unknown")))
    print("skipped over the time budget: {} (each with its reason in results.csv and the JSON)".format(
        len(skipped)))
    others = [r for r in results.measurements(data)
              if "error" in r and not r["error"].startswith(("skipped", "interrupted"))]
    for r in others:
        print("not measured: {}: {}".format(r["benchmark"], r["error"]))
    interrupted = {(r["kind"], r["algorithm"], r.get("vocab"), r.get("threads"), r.get("bytes")) for r in results.measurements(data) if r.get("error", "").startswith("interrupted")}
    if interrupted:
        print("INTERRUPTED: {} benchmarks have repetitions that were not measured (the sweep was "
              "stopped by a signal); medians above use the repetitions that were".format(len(interrupted)))


if __name__ == "__main__":
    main()
