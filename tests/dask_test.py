"""Training on Dask (python3 -m bpebench.dask) against the CLI: on a LocalCluster of two worker
processes, the model is byte-identical to `bpebench train` on the same shards, and the summed count
table to `bpebench count` on them; a bad shard is an error that names it, and nothing is written.

Run by CTest in the release build (scripts/test step 4), as python_test.py is:
    PYTHONPATH=build/release/python BPEBENCH_CLI=build/release/bpebench python3 -m pytest tests/dask_test.py
"""
import json
import logging
import os
import subprocess
import sys

import pytest

CLI = os.environ.get("BPEBENCH_CLI", "build/release/bpebench")
IN_CI = os.environ.get("CI", "") not in ("", "false")


def corpus(name):
    r = subprocess.run([CLI, "corpus", name], capture_output=True)
    if r.returncode != 0:
        why = f"corpus {name} is not available: {r.stderr.decode().strip()}"
        if IN_CI:
            pytest.fail("missing in CI, where every test must run: " + why)
        pytest.skip(why)
    return r.stdout


def dask_train(*args):
    return subprocess.run([sys.executable, "-m", "bpebench.dask", *map(str, args)], capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """Eleven shards of four text classes in a folder (the last in a subfolder), each cut where a
    piece ends: after a newline between a line of text and a line that starts with a letter (not
    after a blank line: docs/formats.md)."""
    folder = tmp_path_factory.mktemp("shards")
    n = 0
    for name, parts in (("gutenberg5", 4), ("udhr59", 3), ("zh_sanguo", 2), ("python_stdlib", 2)):
        # Whole lines, starting and ending (before the last newline) with a character that is not
        # white space: the corpora join at piece boundaries too.
        text = corpus(name)
        text = text[:text.rindex(b"\n", 0, 600_000)].strip() + b"\n"
        cuts = [0]
        for k in range(1, parts + 1):
            at = len(text) * k // parts
            while at < len(text) and not (text[at - 1:at] == b"\n" and not text[at - 2:at - 1].isspace() and
                                          text[at:at + 1].isalpha()):
                at += 1
            cuts.append(min(at, len(text)))
        for a, b in zip(cuts, cuts[1:]):
            if b > a:
                sub = folder / "more" if n == 10 else folder
                sub.mkdir(exist_ok=True)
                (sub / f"shard{n:02d}.txt").write_bytes(text[a:b])
                n += 1
    return folder


def files_in_order(folder):
    found = [os.path.join(r, f) for r, _, fs in os.walk(folder) for f in fs]
    return sorted(found)


@pytest.fixture(scope="module")
def cluster():
    from dask.distributed import LocalCluster
    c = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                     silence_logs=logging.ERROR)
    yield c
    c.close()


def test_the_model_on_two_workers_is_the_clis_byte_for_byte(shards, cluster, tmp_path):
    files = files_in_order(shards)
    assert len(files) >= 8
    cli_model, cli_table = tmp_path / "cli.model", tmp_path / "cli.tsv"
    subprocess.run([CLI, "train", "--vocab-size", "3000", "--output", str(cli_model), *files], check=True,
                   capture_output=True)
    subprocess.run([CLI, "count", "--output", str(cli_table), *files], check=True, capture_output=True)
    model, table, report = tmp_path / "dask.model", tmp_path / "dask.tsv", tmp_path / "report.json"
    r = dask_train("--scheduler", cluster.scheduler_address, "--vocab-size", 3000, "--output", model,
                   "--counts-output", table, "--report", report, shards)
    assert r.returncode == 0, r.stderr
    assert model.read_bytes() == cli_model.read_bytes()
    assert table.read_bytes() == cli_table.read_bytes()
    figures = json.loads(report.read_text())
    assert figures["shards"] == len(files)
    assert figures["input_bytes"] == sum(os.path.getsize(f) for f in files)
    assert len(figures["worker_peak_rss_mb"]) == 2 and all(v > 0 for v in figures["worker_peak_rss_mb"].values())
    assert f"{len(files)}/{len(files)} shards counted" in r.stderr
    assert "trained 2744 merges" in r.stderr


def test_its_own_local_cluster_gives_the_same_model_with_another_trainer(shards, tmp_path):
    files = files_in_order(shards)
    cli_model = tmp_path / "cli.model"
    subprocess.run([CLI, "train", "--vocab-size", "1200", "--algorithm", "pq", "--pretokenizer", "o200k",
                    "--output", str(cli_model), *files], check=True, capture_output=True)
    model, report = tmp_path / "dask.model", tmp_path / "report.json"
    r = dask_train("--workers", 2, "--algorithm", "pq", "--pretokenizer", "o200k", "--vocab-size", 1200,
                   "--output", model, "--report", report, *files)
    assert r.returncode == 0, r.stderr
    assert model.read_bytes() == cli_model.read_bytes()
    # The command restarted with malloc's huge pages, and its own workers inherited them (unless the
    # environment already set malloc's tunables, which then win).
    import bpebench
    user = os.environ.get("GLIBC_TUNABLES", "")
    wanted = user if "glibc.malloc." in user else (user + ":" if user else "") + bpebench._bpebench.HUGE_PAGE_TUNABLES
    assert json.loads(report.read_text())["worker_allocator"] == [f"glibc malloc as GLIBC_TUNABLES sets it: {wanted}"]


def test_a_bad_shard_is_an_error_that_names_it_and_nothing_is_written(shards, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.txt").write_text("fine text\n")
    (bad / "b.txt").write_bytes(b"caf\xe9\n")
    model = tmp_path / "never.model"
    r = dask_train("--vocab-size", 300, "--output", model, bad)
    assert r.returncode == 1
    assert f"bpebench.dask: error: {bad / 'b.txt'}: invalid UTF-8 at byte offset 3; use --binary" in r.stderr
    assert not model.exists()
    r = dask_train("--vocab-size", 300, "--output", tmp_path / "no" / "folder.model", bad)
    assert r.returncode == 1 and "does not exist" in r.stderr
    r = dask_train("--vocab-size", 300, "--output", model, tmp_path / "missing")
    assert r.returncode == 1 and "no such file or folder" in r.stderr
    r = dask_train("--output", model, bad)
    assert r.returncode == 2 and "--vocab-size" in r.stderr


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
