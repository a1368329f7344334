"""What the Python layer costs: encoding a ~20 MB str through the module against the library's own
encoding of the same bytes in the same process (the ids kept in C++), per text class.

    python3 -m bpebench.bench [--model cl100k_base] [--mb 20] [--rounds 7] [--out python.json]

Rows: `native` (the library: Encoding._native_seconds, one warm encoder, no Python objects),
`encode_to_numpy` (a uint32 array that owns the encoder's buffer) and `encode` (a list of int). The
three are measured in turn, round after round, on one Encoding (the same warm piece cache), and the
medians compared: encode_to_numpy / native is the module's overhead on the path dataset preparation
uses. Each text is the corpus repeated to --mb megabytes (scripts/bench --python runs this).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import bpebench

CORPORA = ("gutenberg5", "udhr59", "zh_sanguo", "python_stdlib")


def _cli() -> str:
    # The build puts the package in <build>/python/bpebench and the CLI in <build>/bpebench.
    here = os.path.dirname(os.path.abspath(bpebench.__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "bpebench"))


def corpus_text(name: str, megabytes: float, cli: str) -> str:
    raw = subprocess.run([cli, "corpus", name], check=True, capture_output=True).stdout
    text = raw.decode("utf-8")
    want = int(megabytes * 1e6)
    if len(raw) < want:
        # Whole copies, joined by a newline: every copy pre-tokenizes as the corpus does.
        text = "\n".join([text] * (want // len(raw) + 1))
    return text.encode("utf-8")[:want].decode("utf-8", "ignore")


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def measure(enc: bpebench.Encoding, text: str, rounds: int) -> dict:
    size = len(text.encode("utf-8"))
    enc.encode_to_numpy(text)  # warm: the piece cache and the pages of the buffers
    times = {"native": [], "encode_to_numpy": [], "encode": []}
    for _ in range(rounds):
        times["native"] += enc._native_seconds(text, 1)
        t = time.perf_counter()
        arr = enc.encode_to_numpy(text)
        times["encode_to_numpy"].append(time.perf_counter() - t)
        del arr
        t = time.perf_counter()
        ids = enc.encode(text)
        times["encode"].append(time.perf_counter() - t)
        del ids
    rows = {}
    for name, seconds in times.items():
        median = statistics.median(seconds)
        rows[name] = {"median_s": median, "mb_per_s": size / median / 1e6, "seconds": seconds}
    rows["numpy_vs_native"] = rows["native"]["median_s"] / rows["encode_to_numpy"]["median_s"]
    rows["list_vs_native"] = rows["native"]["median_s"] / rows["encode"]["median_s"]
    rows["bytes"] = size
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m bpebench.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="cl100k_base", help="get_encoding name or model path (default: cl100k_base)")
    parser.add_argument("--algorithm", default=bpebench.DEFAULT_ENCODER, help="encoder (default: cached)")
    parser.add_argument("--corpora", default=",".join(CORPORA), help="comma-separated corpus names")
    parser.add_argument("--mb", type=float, default=20, help="megabytes of text per corpus (default: 20)")
    parser.add_argument("--rounds", type=int, default=7, help="measurements of each row (default: 7; medians)")
    parser.add_argument("--cli", default=_cli(), help="the bpebench binary that writes the corpora")
    parser.add_argument("--out", help="write the results as JSON there")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.mb <= 0:
        parser.error("--rounds and --mb must be positive")
    if args.model in bpebench.list_encoding_names():
        enc = bpebench.get_encoding(args.model, algorithm=args.algorithm)
    else:
        enc = bpebench.load(args.model, algorithm=args.algorithm)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
    results = {"context": {"cpu": _cpu(), "cores": os.cpu_count(), "commit": commit or "unknown",
                           "python": sys.version.split()[0], "model": args.model, "algorithm": args.algorithm,
                           "megabytes": args.mb, "rounds": args.rounds,
                           "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
               "corpora": {}}
    print(f"{'corpus':<15} {'native MB/s':>12} {'numpy MB/s':>12} {'list MB/s':>11} {'numpy/native':>13}")
    for name in args.corpora.split(","):
        text = corpus_text(name, args.mb, args.cli)
        r = measure(enc, text, args.rounds)
        results["corpora"][name] = r
        print(f"{name:<15} {r['native']['mb_per_s']:12.1f} {r['encode_to_numpy']['mb_per_s']:12.1f} "
              f"{r['encode']['mb_per_s']:11.1f} {r['numpy_vs_native']:13.3f}", flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    from bpebench.bench import main as _main
    sys.exit(_main())
