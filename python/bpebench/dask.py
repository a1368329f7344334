"""Training on a Dask cluster: count text shards on the workers, reduce the count tables on the
cluster, run the merge loop on the client.

    python3 -m bpebench.dask --vocab-size 50000 --output web.model shards/      # a LocalCluster
    python3 -m bpebench.dask --scheduler tcp://10.0.0.1:8786 ...                 # a real cluster

Counting is embarrassingly parallel and is where the time goes on large text; the merge loop runs on
the summed counts (the distinct pieces, small next to the text). Each shard is one task that counts
one file with the module's counting (bpebench.count: the GIL released, the CLI's checks), and the
tables are summed in a tree of tasks, eight at a time, on the workers; the client receives one table
and trains on it. The model is byte-identical to `bpebench train` on the same files whenever each
shard ends where a piece ends (a newline between a line of text and a line that starts with a letter,
say; not a newline after a blank line, see docs/formats.md): the counts of the shards then
add up to the counts of the joined text. `bpebench count` + `bpebench train --counts` gives the same
model on any shards.

On a real cluster every worker must see the shard paths (a shared file system), and the workers need
the module (PYTHONPATH, or the same build on each machine). See docs/python.md for figures.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import sys
import time

import bpebench

# How many tables one reduce task sums (a tree of fan-in 8: 1000 shards take three levels).
FAN_IN = 8


def _count_shard(path: str, pretokenizer: str, threads: int, binary: bool) -> bpebench.Counts:
    # Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 for its workers: counting then gives its memory
    # back and faults it in again for every block (a third slower). The CLI's settings instead.
    bpebench.tune_allocator()
    return bpebench.count(path, pretokenizer=pretokenizer, num_threads=threads, binary=binary)


def _sum(*tables: bpebench.Counts) -> bpebench.Counts:
    bpebench.tune_allocator()
    return bpebench.sum_counts(tables)


def _allocator() -> str:
    return bpebench.tune_allocator()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def shard_files(paths) -> list:
    """The files of `paths`: each file as given, each folder's regular files (recursively) sorted by
    path; hidden files (a leading dot) are left out. The order is the order of `bpebench train`'s
    FILEs that gives the same model."""
    out = []
    for p in paths:
        p = os.fspath(p)
        if os.path.isdir(p):
            found = []
            for root, dirs, files in os.walk(p):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                found += [os.path.join(root, f) for f in files if not f.startswith(".")]
            out += sorted(f for f in found if os.path.isfile(f))
        elif os.path.isfile(p):
            out.append(p)
        else:
            raise bpebench.Error(f"'{p}': no such file or folder")
    if not out:
        raise bpebench.Error("no shard files found: give text files or folders that hold them")
    return [os.path.abspath(f) for f in out]


def _check_output(path: str) -> None:
    # As the CLI does before any work: a path that cannot be written fails now, not after counting.
    if os.path.isdir(path):
        raise bpebench.Error(f"--output '{path}' is a directory")
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(folder):
        raise bpebench.Error(f"--output '{path}': the folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise bpebench.Error(f"--output '{path}' cannot be written")


def train(shards, *, vocab_size: int, client=None, algorithm: str = bpebench.DEFAULT_TRAINER,
          pretokenizer: str = bpebench.DEFAULT_PRETOKENIZER, min_frequency: int = 1, threads_per_task: int = 1,
          train_threads: int | None = None, binary: bool = False, progress=None, report: dict | None = None):
    """Counts the shards (files or folders, see shard_files) on the Dask cluster of `client` (a
    dask.distributed.Client), sums the tables on the cluster and trains on the client. Returns
    (Model, Counts). `report`, when given, is filled with the phases' times, the input's size and
    the distinct pieces."""
    from dask.distributed import as_completed

    files = shard_files(shards)
    report = report if report is not None else {}
    report.update(shards=len(files), input_bytes=sum(os.path.getsize(f) for f in files))
    start = time.monotonic()
    futures = client.map(_count_shard, files, pretokenizer=pretokenizer, threads=threads_per_task, binary=binary,
                         pure=False)
    done = 0
    for future in as_completed(futures):
        if future.status == "error":
            future.result()  # raises the shard's error here, with its message (tables stay on the workers)
        done += 1
        if progress:
            progress(f"count: {done}/{len(files)} shards counted, {time.monotonic() - start:.1f} s")
    level = futures
    while len(level) > 1:
        level = [client.submit(_sum, *level[i:i + FAN_IN], pure=False) for i in range(0, len(level), FAN_IN)]
    counts = level[0].result()
    report["count_and_reduce_s"] = time.monotonic() - start
    report["distinct_pieces"] = len(counts)
    t = time.monotonic()
    model = bpebench.train(counts, vocab_size=vocab_size, algorithm=algorithm, min_frequency=min_frequency,
                           num_threads=train_threads)
    report["train_s"] = time.monotonic() - t
    return model, counts


def _restart_with_huge_pages() -> None:
    """As `bpebench train` does (algorithms/runtime/memory.h): glibc reads GLIBC_TUNABLES only at
    start, so the command restarts once with malloc's transparent huge pages, unless GLIBC_TUNABLES
    already sets malloc's own. The LocalCluster's workers inherit it (Dask's own
    MALLOC_TRIM_THRESHOLD_ gives way to GLIBC_TUNABLES)."""
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    if "glibc.malloc." in tunables or not sys.platform.startswith("linux"):
        return
    os.environ["GLIBC_TUNABLES"] = (tunables + ":" if tunables else "") + bpebench._bpebench.HUGE_PAGE_TUNABLES
    try:
        os.execv(sys.executable, [sys.executable, "-m", "bpebench.dask", *sys.argv[1:]])
    except OSError:
        if tunables:
            os.environ["GLIBC_TUNABLES"] = tunables
        else:
            del os.environ["GLIBC_TUNABLES"]


def main(argv=None) -> int:
    if argv is None:
        _restart_with_huge_pages()
    parser = argparse.ArgumentParser(
        prog="python3 -m bpebench.dask",
        description="Train a BPE model on a Dask cluster: the shards are counted on the workers (one task "
                    "per file), the count tables summed on the cluster, and the merge loop run here. The "
                    "model is the one `bpebench train` writes for the same files, byte for byte, when each "
                    "shard ends where a piece ends (docs/python.md).")
    parser.add_argument("shards", nargs="+", metavar="SHARD", help="text files, or folders of them (all "
                        "regular files inside, sorted by path)")
    parser.add_argument("--vocab-size", type=int, required=True, help="target vocabulary size, 256..16777216")
    parser.add_argument("--output", required=True, help="model file to write (atomically: a temporary file "
                        "renamed into place)")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler (tcp://host:8786); by "
                        "default a LocalCluster of --workers processes is started and stopped")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes (default: 2)")
    parser.add_argument("--threads-per-task", type=int, default=1, help="counting threads within each shard's "
                        "task (default: 1; the workers' processes are the parallelism)")
    parser.add_argument("--train-threads", type=int, default=None, help="threads for the merge loop on the "
                        "client, for the trainers that use them (default: hardware threads)")
    parser.add_argument("--algorithm", default=bpebench.DEFAULT_TRAINER, help="trainer (default: linked)")
    parser.add_argument("--pretokenizer", default=bpebench.DEFAULT_PRETOKENIZER, help="gpt2, cl100k, o200k, "
                        "whitespace or none (default: gpt2)")
    parser.add_argument("--min-frequency", type=int, default=1, help="stop when the best pair occurs fewer "
                        "times (default: 1)")
    parser.add_argument("--counts-output", metavar="FILE", help="also write the summed count table there "
                        "(what bpebench train --counts reads)")
    parser.add_argument("--binary", action="store_true", help="accept input that is not UTF-8 or holds NUL bytes")
    parser.add_argument("--report", metavar="FILE", help="write the figures (phases' times, peak RSS per "
                        "worker) as JSON there")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")

    def say(line):
        print(line, file=sys.stderr, flush=True)

    from dask.distributed import Client, LocalCluster

    start = time.monotonic()
    cluster = None
    try:
        _check_output(args.output)
        if args.counts_output:
            _check_output(args.counts_output)
        report = {"workers": args.workers if not args.scheduler else None, "scheduler": args.scheduler or "local"}
        if args.scheduler:
            client = Client(args.scheduler)
        else:
            # Worker processes import bpebench from where this process did.
            package_root = os.path.dirname(os.path.dirname(os.path.abspath(bpebench.__file__)))
            os.environ["PYTHONPATH"] = os.pathsep.join(
                [package_root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
            cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
            client = Client(cluster)
        report["cluster_start_s"] = time.monotonic() - start
        with client:
            model, counts = train(args.shards, vocab_size=args.vocab_size, client=client, algorithm=args.algorithm,
                                  pretokenizer=args.pretokenizer, min_frequency=args.min_frequency,
                                  threads_per_task=args.threads_per_task, train_threads=args.train_threads,
                                  binary=args.binary, progress=say, report=report)
            report["worker_peak_rss_mb"] = dict(sorted(client.run(_peak_rss_mb).items()))
            report["worker_allocator"] = sorted(set(client.run(_allocator).values()))
        model.save(args.output)
        if args.counts_output:
            counts.save(args.counts_output)
    except bpebench.Error as e:
        # The module's messages name its keyword (binary=True); this command's option is --binary.
        say(f"bpebench.dask: error: {str(e).replace('binary=True', '--binary')}")
        return 1
    finally:
        if cluster is not None:
            cluster.close()
    report["client_peak_rss_mb"] = _peak_rss_mb()
    report["total_s"] = time.monotonic() - start
    peaks = report["worker_peak_rss_mb"].values()
    say(f"trained {model.vocab_size - 256} merges (vocabulary {model.vocab_size}) with {args.algorithm} from "
        f"{report['input_bytes']} bytes in {report['shards']} shards on {len(peaks)} Dask workers in "
        f"{report['total_s']:.2f} s (cluster start {report['cluster_start_s']:.2f} s, counting and reducing "
        f"{report['count_and_reduce_s']:.2f} s, merge loop {report['train_s']:.2f} s), {report['distinct_pieces']} "
        f"distinct pieces, peak RSS {max(peaks):.0f} MB per worker at most, {report['client_peak_rss_mb']:.0f} MB "
        f"on the client; stopped: {model.stop_reason}; wrote {args.output}")
    if args.report:
        with open(args.report, "w") as f:
            json.dump(report, f, indent=1)
    return 0


if __name__ == "__main__":
    # The tasks are named as bpebench.dask's functions (not __main__'s), so that workers import them.
    from bpebench.dask import main as _main
    sys.exit(_main())
