#!/usr/bin/python3
"""Figures and a flat CSV from a bpebench results file.

usage: scripts/plot.py RESULTS.json [--out DIR]

Writes into DIR (default: the results file's folder), each as PNG and SVG:
  encode_classes.*      encoder MB/s per text class with tiktoken's vocabularies, 1 thread: ours
                        and every peer, one panel per class, the fastest of ours and of the peers named
  encode_throughput.*   encoder MB/s versus vocabulary size, a row of panels per text class, a panel
                        per thread count
  train_time.*          training time versus vocabulary size, one line per trainer: from word counts,
                        and end to end from text per thread count (where the peers are)
  thread_scaling.*      speedup over 1 thread versus threads, per algorithm, with the ideal line
  adversarial.*         encode time versus length of one long piece, log-log
and results.csv, one row per measurement. Figures only read the results file.
Peer libraries (sentencepiece and the plug-ins) are dashed lines with hollow markers (hatched bars),
labelled "(peer)" with their build. The training and thread-scaling figures show the first corpus
(the one swept over every vocab size).
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import results  # noqa: E402

plt.rcParams.update({"font.size": 10, "axes.grid": True, "grid.alpha": 0.3, "savefig.dpi": 150,
                     "figure.constrained_layout.use": True})


def save(fig, out, name):
    for ext in ("png", "svg"):
        fig.savefig(os.path.join(out, "{}.{}".format(name, ext)))
    plt.close(fig)
    return name


def title(fig, what, data, corpus=None, note=""):
    sub = results.context_line(data)
    text = "{}{}\n{}".format(what, " on " + corpus if corpus else "", sub)
    if note:
        text += "\n" + note
    fig.suptitle(text, fontsize=10)


def skipped_note(rows, kind, axis):
    """A line naming the runs of this figure that were skipped over the time budget."""
    first = {}
    for r in rows:
        if r["kind"] == kind and "error" in r and r["error"].startswith("skipped"):
            first[r["algorithm"]] = min(first.get(r["algorithm"], 1 << 62), r.get(axis, 0))
    if first:
        return "(skipped over the time budget: {})".format(
            "; ".join("{} from {} {} on".format(a, axis, v) for a, v in sorted(first.items())))
    return ""


def line_style(algorithm):
    style = dict(color=results.colour(algorithm), marker="o", markersize=4, linewidth=1.6,
                 label=results.display_name(algorithm))
    if results.is_peer(algorithm):
        style.update(linestyle="--", markerfacecolor="white", marker="s")
    return style


def algorithms_in(rows):
    """Our algorithms first, then the peers, each group sorted."""
    names = {m["algorithm"] for m in rows}
    return sorted(n for n in names if not results.is_peer(n)) + sorted(n for n in names if results.is_peer(n))


TIKTOKEN_VOCABS = {50256: "gpt2", 100256: "cl100k_base", 199998: "o200k_base"}


def encode_classes(data, rows, med, out):
    """One panel per text class: horizontal bars of MB/s (log scale), 1 thread, a bar per encoder and
    vocabulary (gpt2, cl100k_base, o200k_base); ours solid, peers hatched."""
    rows = [m for m in med.values() if m["kind"] == "encode" and m["threads"] == 1 and m["vocab"] in TIKTOKEN_VOCABS]
    if not rows:
        return None
    corpora = results.corpora_in_order(data, rows)
    algs = algorithms_in(rows)
    vocabs = [v for v in TIKTOKEN_VOCABS if any(m["vocab"] == v for m in rows)]
    fig, axes = plt.subplots(1, len(corpora), figsize=(max(8.0, 3.3 * len(corpora) + 2.5), 0.32 * len(algs) * len(vocabs) + 1.8),
                             sharey=True, sharex=True, squeeze=False)
    shades = {v: a for v, a in zip(vocabs, (1.0, 0.7, 0.45))}
    height = 0.8 / len(vocabs)
    for ax, corpus in zip(axes[0], corpora):
        notes = []
        for i, alg in enumerate(algs):
            for j, v in enumerate(vocabs):
                m = next((m for m in rows if m["algorithm"] == alg and m["corpus"] == corpus and m["vocab"] == v), None)
                if not m:
                    continue
                ax.barh(i + (j - (len(vocabs) - 1) / 2) * height, m["bytes_per_second"] / 1e6, height=height,
                        color=results.colour(alg), alpha=shades[v], hatch="//" if results.is_peer(alg) else None,
                        edgecolor="black", linewidth=0.3)
        for v in vocabs:
            here = [m for m in rows if m["corpus"] == corpus and m["vocab"] == v]
            ours = [m for m in here if not results.is_peer(m["algorithm"])]
            peers = [m for m in here if results.is_peer(m["algorithm"])]
            if ours and peers:
                a = max(ours, key=lambda m: m["bytes_per_second"])
                b = max(peers, key=lambda m: m["bytes_per_second"])
                notes.append("{}: {} {:.3g}x {}".format(TIKTOKEN_VOCABS[v].split("_")[0], a["algorithm"],
                                                         a["bytes_per_second"] / b["bytes_per_second"], b["algorithm"]))
        ax.set_xscale("log")
        ax.set_title(corpus + ("\n" + "\n".join(notes) if notes else ""), fontsize=8)
        ax.set_xlabel("MB/s (median, log)")
    axes[0][0].set_yticks(range(len(algs)))
    axes[0][0].set_yticklabels([results.display_name(a) for a in algs], fontsize=8)
    axes[0][0].invert_yaxis()
    from matplotlib.patches import Patch
    handles = [Patch(facecolor="grey", alpha=shades[v], edgecolor="black", label=TIKTOKEN_VOCABS[v]) for v in vocabs]
    handles.append(Patch(facecolor="white", hatch="//", edgecolor="black", label="peer"))
    axes[0][-1].legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1))
    title(fig, "Encoding each text class with tiktoken's vocabularies, 1 thread", data,
          note="under each class: fastest of ours / fastest peer, per vocabulary; every bar checked id for id")
    return save(fig, out, "encode_classes")


def encode_throughput(data, rows, med, out):
    rows = [m for m in med.values() if m["kind"] == "encode"]
    if not rows:
        return None
    corpora = results.corpora_in_order(data, rows)
    threads = sorted({m["threads"] for m in rows})
    fig, axes = plt.subplots(len(corpora), len(threads), figsize=(4.2 * len(threads) + 2.5, 3.4 * len(corpora) + 0.8),
                             sharey=True, squeeze=False)
    for row_axes, corpus in zip(axes, corpora):
        for ax, t in zip(row_axes, threads):
            if not any(m["threads"] == t and m["corpus"] == corpus for m in rows):
                ax.set_visible(False)  # the text classes run on fewer threads (--class-threads)
                continue
            for alg in algorithms_in(rows):
                mine = [m for m in rows if m["algorithm"] == alg and m["threads"] == t and m["corpus"] == corpus]
                # Models trained here, then tiktoken's vocabularies, a separate dash-dot segment.
                trained = sorted((m["vocab"], m["bytes_per_second"] / 1e6) for m in mine if m["vocab"] not in TIKTOKEN_VOCABS)
                production = sorted((m["vocab"], m["bytes_per_second"] / 1e6) for m in mine if m["vocab"] in TIKTOKEN_VOCABS)
                style = line_style(alg)
                if trained:
                    ax.plot(*zip(*trained), **style)
                    style["label"] = None
                if production:
                    style.update(linestyle="-." if not results.is_peer(alg) else ":", marker="D")
                    ax.plot(*zip(*production), **style)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title("{}, {} thread{}".format(corpus, t, "" if t == 1 else "s"))
            ax.set_xlabel("vocabulary size (tokens)")
        row_axes[0].set_ylabel("MB/s (median)")
    handles = {}
    for ax in axes.flat:  # every panel's lines: some peers run on 1 thread only
        for h, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, h)
    axes[0][-1].legend(handles.values(), handles.keys(), title="encoder", fontsize=8, loc="upper left",
                       bbox_to_anchor=(1.02, 1))
    note = skipped_note(rows, "encode", "vocab")
    note = ("diamonds: tiktoken's gpt2, cl100k_base, o200k_base vocabularies (50256, 100256, 199998 tokens); "
            "dashed, hollow: peers. " + note).strip()
    title(fig, "Encoding held-out text, per text class", data, None, note)
    return save(fig, out, "encode_throughput")


def first_corpus(data, med):
    order = results.corpora_in_order(data, list(med.values()))
    return order[0] if order else None


def train_time(data, rows, med, out):
    """Left: from word counts (our trainers; the trainer alone). Then one panel per thread count: end
    to end from text (word counting + training), where the peers are, since they train from text."""
    corpus = first_corpus(data, med)
    counts = [m for m in med.values() if m["kind"] == "train" and m.get("corpus") == corpus]
    text = [m for m in med.values() if m["kind"] == "train_text" and m.get("corpus") == corpus]
    if not counts and not text:
        return None
    threads = sorted({m["threads"] for m in text})
    panels = ([("from word counts, 1 thread", counts)] if counts else []) + [
        ("end to end from text, {} thread{}".format(t, "" if t == 1 else "s"),
         [m for m in text if m["threads"] == t]) for t in threads]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.4 * len(panels) + 1, 4.2), sharey=True, squeeze=False)
    for ax, (name, panel) in zip(axes[0], panels):
        for alg in algorithms_in(panel):
            pts = sorted((m["vocab"], m["seconds"]) for m in panel if m["algorithm"] == alg and m["corpus"] == corpus)
            if pts:
                ax.plot(*zip(*pts), **line_style(alg))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("vocabulary size (tokens)")
        ax.set_title(name)
        ax.legend(title="trainer", fontsize=8)
    axes[0][0].set_ylabel("training time (s, median)")
    note = " ".join(n for n in (skipped_note(counts, "train", "vocab"), skipped_note(text, "train_text", "vocab")) if n)
    title(fig, "Training", data, corpus, note)
    return save(fig, out, "train_time")


def thread_scaling(data, rows, med, out):
    series = {}
    corpus = first_corpus(data, med)
    mine = [m for m in med.values() if m.get("corpus") == corpus]
    encode = [m for m in mine if m["kind"] == "encode"]
    vocab = max((m["vocab"] for m in encode if m["vocab"] <= 10000), default=None)
    for m in mine:
        if m["kind"] == "encode" and m["vocab"] == vocab:
            series.setdefault(("encode " + m["algorithm"], m["algorithm"]), {})[m["threads"]] = m["seconds"]
        elif m["kind"] == "train_text" and m["vocab"] == vocab:
            series.setdefault(("train " + m["algorithm"], m["algorithm"]), {})[m["threads"]] = m["seconds"]
        elif m["kind"] == "count":
            series.setdefault(("count " + m["algorithm"], m["algorithm"]), {})[m["threads"]] = m["seconds"]
    series = {k: v for k, v in series.items() if 1 in v and len(v) > 1}
    if not series:
        return None
    fig, ax = plt.subplots(figsize=(8, 4.2))
    top = max(max(v) for v in series.values())
    ax.plot([1, top], [1, top], color="grey", linestyle=":", label="ideal")
    for (label, alg), pts in sorted(series.items(), key=lambda kv: (results.is_peer(kv[0][1]), kv[0][0])):
        xs = sorted(pts)
        style = line_style(alg)
        style["label"] = label + (" (peer)" if results.is_peer(alg) else "")
        if not results.is_peer(alg):
            style["linestyle"] = {"count": ":", "train": "-."}.get(label.split()[0], "-")
        ax.plot(xs, [pts[1] / pts[x] for x in xs], **style)
    ax.set_xlabel("threads")
    ax.set_ylabel("speedup over 1 thread (median times)")
    ax.set_xticks(sorted({t for v in series.values() for t in v}))
    ax.legend(fontsize=7, title="vocab {}".format(vocab), loc="upper left", bbox_to_anchor=(1.01, 1))
    title(fig, "Thread scaling", data, corpus)
    return save(fig, out, "thread_scaling")


def adversarial(data, rows, med, out):
    rows = [m for m in med.values() if m["kind"] == "adversarial"]
    if not rows:
        return None
    patterns = sorted({m["pattern"] for m in rows})
    fig, axes = plt.subplots(1, len(patterns), figsize=(4.5 * len(patterns) + 1, 4), sharey=True, squeeze=False)
    for ax, pattern in zip(axes[0], patterns):
        for alg in sorted({m["algorithm"] for m in rows}):
            pts = sorted((m["bytes"], m["seconds"] * 1e3) for m in rows
                         if m["algorithm"] == alg and m["pattern"] == pattern)
            if pts:
                ax.plot(*zip(*pts), **line_style(alg))
        xs = sorted({m["bytes"] for m in rows})
        if len(xs) > 1:  # slope guides through the smallest size's median time of all encoders
            y0 = min(m["seconds"] * 1e3 for m in rows if m["bytes"] == xs[0])
            ax.plot(xs, [y0 * x / xs[0] for x in xs], color="grey", linestyle=":", linewidth=1, label="linear")
            ax.plot(xs, [y0 * (x / xs[0]) ** 2 for x in xs], color="grey", linestyle="--", linewidth=1,
                    label="quadratic")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("length of one piece (bytes)")
        unit, _, vocabulary = pattern.replace("repeat_", "").partition("@")
        ax.set_title("'{}' repeated, {}".format(unit, vocabulary or "the sweep's model"))
    axes[0][0].set_ylabel("encode time (ms, median)")
    axes[0][-1].legend(title="encoder", fontsize=8)
    title(fig, "Worst case: one long piece (`none` pre-tokenizer)", data,
          note=skipped_note(rows, "adversarial", "bytes"))
    return save(fig, out, "adversarial")


def piece_length(data, rows, med, out):
    """Time per byte against the length of one piece of random letters: where `rank`'s O(n^2) scan
    stops beating `heap`'s O(n log n), the threshold of `hybrid`."""
    rows = [m for m in med.values() if m["kind"] == "piece"]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for alg in sorted({m["algorithm"] for m in rows}):
        if alg in ("naive", "cached"):  # naive: off the scale; cached: serves the repeated piece from its cache
            continue
        pts = sorted((m["bytes"], m["seconds"] * 1e9 / m["bytes"]) for m in rows if m["algorithm"] == alg)
        if pts:
            ax.plot(*zip(*pts), **line_style(alg))
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("length of one piece of random letters (bytes)")
    ax.set_ylabel("encode time per byte (ns, median)")
    ax.legend(title="encoder", fontsize=8)
    title(fig, "Piece length: where the rank scan and the heap cross", data,
          note="(naive and cached left out: cached serves the one repeated piece from its cache)")
    return save(fig, out, "piece_length")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("--out", help="folder for figures and CSV (default: beside the results file)")
    args = ap.parse_args()
    try:
        data = results.load(args.results)
    except (OSError, ValueError) as e:
        sys.exit("plot.py: error: cannot read {}: {}".format(args.results, e))
    out = args.out or os.path.dirname(os.path.abspath(args.results))
    os.makedirs(out, exist_ok=True)
    rows = results.measurements(data)
    results.write_csv(rows, os.path.join(out, "results.csv"))
    med = results.medians(rows)
    made = [f(data, rows, med, out) for f in (encode_classes, encode_throughput, train_time, thread_scaling, adversarial,
                                            piece_length)]
    made = [m for m in made if m]
    print("wrote {}/results.csv and figures: {}".format(out, ", ".join(m + ".png/.svg" for m in made)))


if __name__ == "__main__":
    main()
