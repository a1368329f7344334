"""Reading bpebench results files (Google Benchmark JSON written by bpebench_harness).

Benchmark names look like
    count/<pretokenizer>/<corpus>/threads:<t>
    train/<trainer>/<corpus>/vocab:<n>/threads:<t>         from word counts
    train_text/<trainer>/<corpus>/vocab:<n>/threads:<t>    end to end from text (peers train this way)
    encode/<encoder>/<corpus>/vocab:<n>/threads:<t>
    adversarial/<encoder>/<pattern>/bytes:<n>               pattern: repeat_a, repeat_ab, and with
                                                            cl100k_base: repeat_a@cl100k_base, ...
    piece/<encoder>/letters/bytes:<n>
Peers (other libraries, measured in the same run) use the same names with their own algorithm name:
sentencepiece and the plug-ins (the results' context lists them: bpebench_peer_names), a batch call
as <peer>.batch.
followed by Google Benchmark's own suffixes (min_time:, iterations:, repeats:, real_time), which are
dropped so that runs with different settings still line up.
"""
import csv
import json
import re
import statistics

GB_SUFFIXES = ("min_time:", "iterations:", "repeats:", "real_time")

# Okabe-Ito, the colour-blind-safe palette; one fixed colour per algorithm in every figure.
# Pre-tokenizers (word counting lines) get black, greys, brown and olive, apart from the algorithms' colours.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442"]
FIXED = {"naive": "#0072B2", "pq": "#D55E00", "rank": "#009E73", "heap": "#CC79A7", "linked": "#E69F00",
         "backtrack": "#56B4E9", "hybrid": "#E69F00", "cached": "#882255",  # cached: Paul Tol's wine
         "cached:warm": "#EE3377",  # Paul Tol's vibrant magenta: the same encoder, one instance across calls
         "sharded": "#44AA99",  # Paul Tol's teal
         "gpt2": "#000000", "whitespace": "#777777", "none": "#BBBBBB", "cl100k": "#8C564B", "o200k": "#BCBD22"}


# Peer libraries: drawn dashed with hollow markers, and labelled as peers. load() adds the ones each
# results file names (bpebench_peer_names), so plug-ins need no change here.
PEERS = {"sentencepiece", "hf_tokenizers", "tiktoken"}
BUILDS = {"sentencepiece": "native"}  # peer -> native, wasm, pure-js, python (bpebench_peer_builds)
FIXED.update({"sentencepiece": "#332288", "hf_tokenizers": "#117733", "tiktoken": "#AA4499",  # Paul Tol
              "tiktoken-node": "#88CCEE", "tiktoken-node.batch": "#88CCEE", "anysphere-tiktoken-node": "#DDCC77",
              "gpt-tokenizer": "#999933", "js-tiktoken": "#CC6677", "python-bpe": "#661100"})


def is_peer(name):
    return name in PEERS or name.split(".")[0] in PEERS


def build_of(name):
    return BUILDS.get(name.split(".")[0], "")


def display_name(name):
    if not is_peer(name):
        return name
    build = build_of(name)
    return "{} ({}peer)".format(name, build + " " if build else "")


def colour(name):
    return FIXED.get(name) or PALETTE[sum(map(ord, name)) % len(PALETTE)]


def base_name(name):
    """The benchmark's own name, without Google Benchmark's suffixes (threads: is ours, kept)."""
    parts = name.split("/")
    keep = [p for p in parts if not p.startswith(GB_SUFFIXES)]
    return "/".join(keep)


def parse_name(name):
    parts = base_name(name).split("/")
    row = {"benchmark": "/".join(parts), "kind": parts[0], "algorithm": parts[1] if len(parts) > 1 else ""}
    if row["kind"] in ("adversarial", "piece"):
        row["pattern"] = parts[2]
    elif len(parts) > 2:
        row["corpus"] = parts[2]
    for p in parts[3:]:
        if ":" in p:
            k, v = p.split(":", 1)
            row[k] = int(v)
    return row


UNIT = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def load(path):
    with open(path) as f:
        data = json.load(f)
    context = data.get("context", {})
    if context.get("bpebench_peer_names"):
        PEERS.update(context["bpebench_peer_names"].split(","))
    # Older files: the build is in bpebench_peers' text, "name version (build, ...".
    for name, build in re.findall(r"(?:^|; )(\S+) \S+ \((native|wasm|pure-js|python|other),", context.get("bpebench_peers", "")):
        BUILDS[name] = build
    for item in context.get("bpebench_peer_builds", "").split(","):
        if "=" in item:
            name, build = item.split("=", 1)
            BUILDS[name] = build
    return data


def corpora_in_order(data, rows):
    """The corpora of the run, in the order the sweep took them (its settings), then any others."""
    settings = data.get("context", {}).get("bpebench_settings", "")
    order = []
    for part in settings.split():
        if part.startswith(("corpora=", "user_corpora=")):
            order += part.split("=", 1)[1].split(",")
    present = {r.get("corpus") for r in rows if r.get("corpus")}
    named = [c for c in order if c in present]
    users = sorted(c for c in present if c.startswith("user_"))
    return named + [c for c in users if c not in named] + sorted(present - set(named) - set(users))


def train_bytes(data):
    """corpus -> bytes of its training text, from the results' context ("N bytes (T train, ...")."""
    out = {}
    for key, value in data.get("context", {}).items():
        m = re.search(r"(\d+) train, \d+ held out", value) if key.startswith("bpebench_corpus_") else None
        if m:
            out[key[len("bpebench_corpus_"):]] = int(m.group(1))
    return out


def measurements(data):
    """One dict per repetition (and one per skipped benchmark, with `error`). A training row that has
    no bytes per second (sentencepiece's) gets them from its corpus's training text, so that rows on
    prefixes of the text (slow peers) and rows on the whole of it compare per byte."""
    sizes = train_bytes(data)
    rows = []
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate":
            continue
        row = parse_name(b["name"])
        row["repetition"] = b.get("repetition_index", 0)
        if b.get("error_occurred"):
            row["error"] = b.get("error_message", "")
        else:
            row["seconds"] = b["real_time"] * UNIT[b["time_unit"]]
            row["iterations"] = b["iterations"]
            for key in ("bytes_per_second", "tokens_per_second", "bytes_per_token", "merges",
                        "merges_per_second", "distinct_pieces", "cache_hit_rate", "pieces"):
                if key in b:
                    row[key] = b[key]
            if "bytes_per_second" not in row and row["kind"] == "train_text" and row.get("corpus") in sizes:
                row["bytes_per_second"] = sizes[row["corpus"]] / row["seconds"]
            row["label"] = b.get("label", "")
            for part in row["label"].split("; "):
                if part.startswith("vocabulary="):  # tiktoken's gpt2, cl100k_base, o200k_base
                    row["vocabulary"] = part.split("=", 1)[1]
        rows.append(row)
    return rows


def medians(rows):
    """benchmark -> {median seconds, median bytes/s, ..., n} over its repetitions."""
    groups = {}
    for r in rows:
        if "error" in r:
            continue
        groups.setdefault(r["benchmark"], []).append(r)
    out = {}
    for name, rs in groups.items():
        m = dict(rs[0])
        for key in ("seconds", "bytes_per_second", "tokens_per_second", "merges_per_second"):
            vals = [r[key] for r in rs if key in r]
            if vals:
                m[key] = statistics.median(vals)
        m["n"] = len(rs)
        m["samples"] = [r["seconds"] for r in rs]
        out[name] = m
    return out


COLUMNS = ["benchmark", "kind", "algorithm", "corpus", "pattern", "vocab", "threads", "bytes",
           "repetition", "iterations", "seconds", "bytes_per_second", "tokens_per_second",
           "bytes_per_token", "merges", "merges_per_second", "distinct_pieces", "cache_hit_rate", "pieces", "vocabulary",
           "label",
           "error"]


def write_csv(rows, path):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)


def context_line(data):
    c = data["context"]
    commit = c.get("bpebench_git_commit", "unknown")[:10]
    if c.get("bpebench_git_dirty") == "true":
        commit += "+dirty"
    return "{} ({} threads), commit {}, {}".format(
        c.get("bpebench_cpu_model", "unknown CPU"), c.get("bpebench_hardware_threads", "?"), commit,
        c.get("bpebench_date_utc", c.get("date", ""))[:10])
