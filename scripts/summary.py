#!/usr/bin/python3
"""Prints the summary tables of a bpebench results file. First the headline: per task and text class
(corpus), our fastest algorithm against the fastest peer measured in the same run, with the peer's
build (native, wasm, pure-js, python). Then encoding with tiktoken's vocabularies, one table per
vocabulary with a column per text class; then, per corpus, each trainer's time (from word counts,
and end to end from text) and each encoder's throughput with the models trained in the run, per
vocabulary size (medians), the fastest and its speedup over the naive one; then our algorithms
against each peer at the same vocab size and thread count, as ratios.

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
    median time at the same vocab size (a model trained in the run) and thread count. tiktoken's
    vocabularies are compared in the tables per vocabulary above."""
    rows = [m for m in med.values() if m.get("corpus") == corpus and m["kind"] == kind]
    peers = ordered({m["algorithm"] for m in rows if results.is_peer(m["algorithm"])})
    ours = ordered({m["algorithm"] for m in rows if not results.is_peer(m["algorithm"])})
    if not peers or not ours:
        return
    # Time per byte: a slow peer may run on a prefix of the text (its label says so).
    by = {(m["algorithm"], m["vocab"], m["threads"]): 1 / m["bytes_per_second"] if m.get("bytes_per_second") else m["seconds"]
          for m in rows}
    vocabs = sorted({m["vocab"] for m in rows if not results.is_peer(m["algorithm"])})
    with_peer = [v for v in vocabs if any(vv == v for (a, vv, _) in by if results.is_peer(a))]
    chosen = [v for v in with_peer if v in RATIO_VOCABS and v not in TIKTOKEN_VOCABS]
    chosen = chosen or [v for v in with_peer if v not in TIKTOKEN_VOCABS][-1:]
    threads = sorted({m["threads"] for m in rows})
    for vocab in chosen:
        # Peers measured at this vocab size, and tiktoken (at its nearest vocabulary if not at this one).
        shown = [p for p in peers if any(a == p and v == vocab for (a, v, _) in by)]
        lines = []
        for alg in ours:
            for t in threads:
                if (alg, vocab, t) not in by:
                    continue
                cells = []
                for p in shown:
                    if (p, vocab, t) in by:
                        cell = "{:.1f}x".format(by[(p, vocab, t)] / by[(alg, vocab, t)])
                    else:
                        cell = "-"
                    cells.append(cell)
                if any(c != "-" for c in cells):
                    lines.append("  {:>10} {:>8}".format(alg, t) + "".join("{:>22}".format(c) for c in cells))
        if not lines:
            continue
        print("{} on {}, vocab {}: ours vs each peer (peer time per byte / ours; above 1: ours is faster)".format(
            what, corpus, vocab))
        print("  {:>10} {:>8}".format("ours", "threads") + "".join("{:>22}".format(p) for p in shown))
        print("\n".join(lines))
        print()


TIKTOKEN_VOCABS = {50256: "gpt2", 100256: "cl100k_base", 199998: "o200k_base"}


def peer_label(name):
    build = results.build_of(name)
    return "{} ({})".format(name, build) if build else name


def fastest_table(med, corpora):
    """Per task and text class, 1 thread: our fastest against the fastest peer (id for id checked
    peers and the rest alike; each row's label in the JSON says which)."""
    tasks = []
    for vocab, name in TIKTOKEN_VOCABS.items():
        tasks.append(("encode " + name, "encode", vocab, "bytes_per_second", False))
    own = sorted({m["vocab"] for m in med.values() if m["kind"] == "encode" and m["vocab"] not in TIKTOKEN_VOCABS})
    lines = []
    for corpus in corpora:
        rows = [m for m in med.values() if m.get("corpus") == corpus and m.get("threads") == 1]
        vocabs = sorted({m["vocab"] for m in rows if m["kind"] == "encode" and m["vocab"] not in TIKTOKEN_VOCABS})
        text_vocabs = sorted({m["vocab"] for m in rows if m["kind"] == "train_text"})
        corpus_tasks = list(tasks)
        # Our own models: the largest vocab size at which a peer encoded too, else the largest.
        # Training compares throughput: a slow peer may train on a prefix of the text (its label says so).
        for kind, vs, metric, what in (("encode", vocabs, "bytes_per_second", "encode, own model"),
                                       ("train_text", text_vocabs, "bytes_per_second", "train from text")):
            with_peer = [v for v in vs if any(m["kind"] == kind and m["vocab"] == v and results.is_peer(m["algorithm"]) for m in rows)]
            for v in (with_peer or vs)[-1:]:
                corpus_tasks.append(("{} {}".format(what, v), kind, v, metric, False))
        for label, kind, vocab, metric, low in corpus_tasks:
            cands = [m for m in rows if m["kind"] == kind and m["vocab"] == vocab and metric in m]
            ours = [m for m in cands if not results.is_peer(m["algorithm"])]
            peers = [m for m in cands if results.is_peer(m["algorithm"])]
            if not ours:
                continue
            pick = min if low else max
            best = pick(ours, key=lambda m: m[metric])
            show = (lambda v: "{:.3f} s".format(v)) if low else (lambda v: "{:.3g} MB/s".format(v / 1e6))
            cells = [corpus, label, "{} {}".format(best["algorithm"], show(best[metric]))]
            if peers:
                top = pick(peers, key=lambda m: m[metric])
                ratio = top[metric] / best[metric] if low else best[metric] / top[metric]
                cells += ["{} {}".format(peer_label(top["algorithm"]), show(top[metric])), "{:.2f}x".format(ratio)]
            else:
                cells += ["-", "-"]
            lines.append(cells)
    if not lines:
        return
    print("Fastest per task and text class, 1 thread (medians; ratio above 1: ours is faster):")
    widths = [max(len(l[i]) for l in lines + [["corpus", "task", "fastest of ours", "fastest peer (build)", "ratio"]]) for i in range(5)]
    head = ["corpus", "task", "fastest of ours", "fastest peer (build)", "ratio"]
    print("  " + "  ".join("{:<{}}".format(h, w) for h, w in zip(head, widths)))
    for l in lines:
        print("  " + "  ".join("{:<{}}".format(x, w) for x, w in zip(l, widths)))
    print()


def vocabulary_tables(med, corpora):
    """Encoding with each tiktoken vocabulary, 1 thread: a row per encoder (ours, then the peers), a
    column per text class; MB/s, the fastest of ours and the fastest peer marked."""
    for vocab, name in TIKTOKEN_VOCABS.items():
        rows = [m for m in med.values() if m["kind"] == "encode" and m["vocab"] == vocab and m["threads"] == 1]
        if not rows:
            continue
        cols = [c for c in corpora if any(m["corpus"] == c for m in rows)]
        algs = ordered({m["algorithm"] for m in rows})
        by = {(m["algorithm"], m["corpus"]): m["bytes_per_second"] / 1e6 for m in rows}
        print("Encoding with {} ({} tokens), 1 thread, MB/s (median; * fastest of ours, + fastest peer):".format(name, vocab))
        w = max(len(peer_label(a)) for a in algs) + 2
        print("  {:<{}}".format("encoder", w) + "".join("{:>15}".format(c) for c in cols))
        marks = {}
        for c in cols:
            ours = {a: by[(a, c)] for a in algs if (a, c) in by and not results.is_peer(a)}
            theirs = {a: by[(a, c)] for a in algs if (a, c) in by and results.is_peer(a)}
            if ours:
                marks[(max(ours, key=ours.get), c)] = "*"
            if theirs:
                marks[(max(theirs, key=theirs.get), c)] = "+"
        for a in algs:
            cells = "".join("{:>15}".format("{:.2f}{}".format(by[(a, c)], marks.get((a, c), " ")) if (a, c) in by else "- ")
                            for c in cols)
            print("  {:<{}}".format(peer_label(a) if results.is_peer(a) else a, w) + cells)
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
    overhead = data["context"].get("bpebench_peer_call_overhead")
    if overhead:
        print("peer boundary cost: {}".format(overhead))
    print()
    corpora = results.corpora_in_order(data, list(med.values()))
    fastest_table(med, corpora)
    vocabulary_tables(med, corpora)
    for corpus in corpora:
        train, text, encode = {}, {}, {}
        for m in med.values():
            if m.get("corpus") != corpus:
                continue
            if m["kind"] == "train":
                train.setdefault(m["vocab"], {})[m["algorithm"]] = m["seconds"]
            elif m["kind"] == "train_text" and m["threads"] == 1:
                text.setdefault(m["vocab"], {})[m["algorithm"]] = m["seconds"]
            elif m["kind"] == "encode" and m["threads"] == 1 and m["vocab"] not in TIKTOKEN_VOCABS:
                encode.setdefault(m["vocab"], {})[m["algorithm"]] = m["bytes_per_second"] / 1e6
        # Peers that ran on a prefix of the text (their manifests' limit): their times are not for
        # the whole text; the ratio tables compare per byte.
        prefixed = sorted({m["algorithm"] for m in med.values()
                           if m.get("corpus") == corpus and "on the first" in m.get("label", "")})
        if train:
            table("Training on {} from word counts (seconds, median):".format(corpus), train,
                  ordered({a for v in train.values() for a in v}), lambda s: "{:.3f} s".format(s), True)
        if text:
            table("Training on {} end to end from text, 1 thread (seconds, median):".format(corpus), text,
                  ordered({a for v in text.values() for a in v}), lambda s: "{:.3f} s".format(s), True)
        if encode:
            table("Encoding {} held-out text with models trained here, 1 thread (MB/s, median):".format(corpus), encode,
                  ordered({a for v in encode.values() for a in v}), lambda v: "{:.2f}".format(v), False)
        if prefixed:
            print("  ({} ran on a prefix of {}'s text, as its label says: compare per byte, below)\n".format(
                ", ".join(prefixed), corpus))
        ratio_table(med, corpus, "train_text", "Training from text")
        ratio_table(med, corpus, "encode", "Encoding")
    skipped = [r for r in results.measurements(data) if r.get("error", "").startswith("skipped")]
    notes = data["context"].get("bpebench_notes", "none")
    if notes != "none":
        print("notes:")
        for note in notes.split("; "):
            print("  " + note)
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
