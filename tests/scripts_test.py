#!/usr/bin/python3
"""Tests of the scripts: scripts/compare flags a real slowdown and nothing else, scripts/plot.py
draws the figures and the CSV from the committed baseline, and scripts/semantics_search.py tells
tiktoken's semantics from pair semantics."""
import json
import os
import random
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(ROOT, "scripts")
BASELINE = os.path.join(ROOT, "results", "baseline", "results.json")


def fake_results(times_ms, seed):
    """A results file with 9 repetitions per benchmark around the given median times."""
    rng = random.Random(seed)
    benchmarks = []
    for name, ms in times_ms.items():
        for rep in range(9):
            benchmarks.append({
                "name": name + "/min_time:0.200/repeats:9/real_time", "run_type": "iteration",
                "repetition_index": rep, "iterations": 10, "time_unit": "ms",
                "real_time": ms * rng.uniform(0.98, 1.02), "cpu_time": ms,
                "bytes_per_second": 1e6 / (ms / 1e3)})  # as if each run processed 1 MB
    return {"context": {"bpebench_git_commit": "0" * 40, "bpebench_cpu_model": "test CPU"},
            "benchmarks": benchmarks}


class Compare(unittest.TestCase):
    def run_compare(self, *files, extra=()):
        with tempfile.TemporaryDirectory() as d:
            paths = []
            for i, data in enumerate(files):
                paths.append(os.path.join(d, "r{}.json".format(i)))
                with open(paths[-1], "w") as f:
                    json.dump(data, f)
            return subprocess.run([sys.executable, os.path.join(SCRIPTS, "compare"), *paths, *extra],
                                  capture_output=True, text=True)

    TIMES = {"encode/naive/c/vocab:1000/threads:1": 50.0, "encode/heap/c/vocab:1000/threads:1": 10.0,
             "encode/rank/c/vocab:1000/threads:1": 5.0, "train/pq/c/vocab:1000/threads:1": 20.0}

    def test_unchanged_tree_has_no_regression(self):
        r = self.run_compare(fake_results(self.TIMES, 1), fake_results(self.TIMES, 2))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("0 regression(s)", r.stdout)

    def test_a_significant_slowdown_is_a_regression(self):
        slower = dict(self.TIMES)
        slower["encode/heap/c/vocab:1000/threads:1"] = 13.0  # +30%
        r = self.run_compare(fake_results(self.TIMES, 1), fake_results(slower, 2))
        self.assertEqual(r.returncode, 1, r.stdout)
        lines = [l for l in r.stdout.splitlines() if "REGRESSION" in l]
        self.assertEqual(len(lines), 1, r.stdout)
        self.assertIn("encode/heap/", lines[0])
        self.assertEqual(self.run_compare(fake_results(self.TIMES, 1), fake_results(slower, 2),
                                          extra=["--report-only"]).returncode, 0)

    def test_a_whole_machine_slowdown_is_not_a_regression(self):
        # Everything 30% slower, the same-run reference too: noise on a shared machine, not code.
        slower = {k: v * 1.3 for k, v in self.TIMES.items()}
        r = self.run_compare(fake_results(self.TIMES, 1), fake_results(slower, 2))
        self.assertEqual(r.returncode, 0, r.stdout)

    def test_a_shift_inside_the_baseline_runs_noise_is_not_a_regression(self):
        # Two baseline runs whose heap medians differ by 25% (run-to-run noise); a new run as slow as
        # the slower one is inside that envelope. 40% beyond the slower one is still caught.
        noisy = dict(self.TIMES)
        noisy["encode/heap/c/vocab:1000/threads:1"] = 12.5
        runs = [fake_results(self.TIMES, 1), fake_results(noisy, 3)]
        r = self.run_compare(*runs, fake_results(noisy, 2))
        self.assertEqual(r.returncode, 0, r.stdout)
        much = dict(self.TIMES)
        much["encode/heap/c/vocab:1000/threads:1"] = 17.5
        r = self.run_compare(*runs, fake_results(much, 2))
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("REGRESSION", r.stdout)

    def test_a_slower_peer_is_reported_but_not_judged(self):
        times = dict(self.TIMES)
        times["encode/hf_tokenizers/c/vocab:1000/threads:1"] = 100.0
        slower = dict(times)
        slower["encode/hf_tokenizers/c/vocab:1000/threads:1"] = 200.0  # 2x slower: not our code
        r = self.run_compare(fake_results(times, 1), fake_results(slower, 2))
        self.assertEqual(r.returncode, 0, r.stdout)
        line = [l for l in r.stdout.splitlines() if "hf_tokenizers" in l][0]
        self.assertIn("peer, not judged", line)

    def test_files_with_nothing_in_common_are_an_error(self):
        r = self.run_compare(fake_results({"a/x/c/vocab:1/threads:1": 1.0}, 1),
                             fake_results({"b/y/c/vocab:1/threads:1": 1.0}, 1))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no benchmark in common", r.stderr)


PEER_TIMES = {
    "train_text/linked/c/vocab:10000/threads:1": 50.0, "train_text/linked/c/vocab:10000/threads:2": 40.0,
    "train_text/sentencepiece/c/vocab:10000/threads:1": 2000.0,
    "train_text/sentencepiece/c/vocab:10000/threads:2": 1500.0,
    "encode/cached/c/vocab:10000/threads:1": 5.0, "encode/hf_tokenizers/c/vocab:10000/threads:1": 100.0,
    "encode/tiktoken/c/vocab:50256/threads:1": 40.0, "encode/tiktoken/c/vocab:100256/threads:1": 60.0,
    "encode/cached/c/vocab:100256/threads:1": 6.0,
}


def fake_counts(counts, **context):
    """A counting sweep's results: name -> (instructions, l1_misses, ll_misses)."""
    benchmarks = []
    for name, (ir, l1, ll) in counts.items():
        benchmarks.append({"name": name + "/iterations:2/repeats:1", "run_type": "iteration", "iterations": 2,
                           "real_time": 1.0, "time_unit": "ms", "instructions": ir, "l1_misses": l1,
                           "ll_misses": ll, "est_cycles": ir + 10 * l1 + 100 * ll})
    ctx = {"bpebench_measure": "instructions", "bpebench_git_commit": "0" * 40, "bpebench_cpu_model": "test CPU"}
    ctx.update(context)
    return {"context": ctx, "benchmarks": benchmarks}


class CompareInstructions(unittest.TestCase):
    COUNTS = {"encode/heap/c/vocab:1000/threads:1": (10_000_000, 50_000, 100),
              "encode/rank/c/vocab:1000/threads:1": (8_000_000, 40_000, 0),
              "piece/rank/letters/bytes:64": (12_000, 20, 0)}

    def gate(self, old, new, extra=()):
        return Compare.run_compare(self, old, new, extra=["--instructions", *extra])

    def changed(self, name, ir=1.0, l1=1.0, ll=1.0):
        counts = dict(self.COUNTS)
        a, b, c = counts[name]
        counts[name] = (round(a * ir), round(b * l1), round(c * ll))
        return counts

    def test_unchanged_counts_pass(self):
        r = self.gate(fake_counts(self.COUNTS), fake_counts(self.COUNTS))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("gate passed", r.stdout)

    def test_three_percent_more_instructions_fail_naming_the_benchmark_and_counts(self):
        r = self.gate(fake_counts(self.COUNTS), fake_counts(self.changed("encode/heap/c/vocab:1000/threads:1", ir=1.03)))
        self.assertEqual(r.returncode, 1, r.stdout)
        failed = r.stdout.split("gate FAILED", 1)[1]
        self.assertIn("encode/heap/c/vocab:1000/threads:1: est_cycles", failed)
        self.assertIn("instructions 10,000,000 -> 10,300,000 (+3.00%)", failed)
        self.assertNotIn("encode/rank", failed)
        self.assertEqual(self.gate(fake_counts(self.COUNTS), fake_counts(self.changed(
            "encode/heap/c/vocab:1000/threads:1", ir=1.03)), extra=["--report-only"]).returncode, 0)

    def test_growth_under_the_threshold_passes(self):
        r = self.gate(fake_counts(self.COUNTS), fake_counts(self.changed("encode/heap/c/vocab:1000/threads:1", ir=1.015)))
        self.assertEqual(r.returncode, 0, r.stdout)
        r = self.gate(fake_counts(self.COUNTS), fake_counts(self.changed("encode/heap/c/vocab:1000/threads:1", ir=1.015)),
                      extra=["--threshold", "0.01"])
        self.assertEqual(r.returncode, 1, r.stdout)

    def test_cache_misses_alone_fail_through_est_cycles_where_there_are_enough_of_them(self):
        # 50,000 -> 75,000 L1 misses: est_cycles +2.2%, the same instructions.
        r = self.gate(fake_counts(self.COUNTS), fake_counts(self.changed("encode/heap/c/vocab:1000/threads:1", l1=1.5)))
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("REGRESSION (est_cycles)", r.stdout)
        # 20 -> 60 L1 misses on a tiny benchmark: +3.3% est_cycles, judged on instructions only.
        r = self.gate(fake_counts(self.COUNTS), fake_counts(self.changed("piece/rank/letters/bytes:64", l1=3.0)))
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("(instructions only)", r.stdout)

    def test_a_benchmark_missing_or_failed_in_new_fails_the_gate(self):
        fewer = dict(self.COUNTS)
        del fewer["encode/rank/c/vocab:1000/threads:1"]
        r = self.gate(fake_counts(self.COUNTS), fake_counts(fewer))
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("encode/rank/c/vocab:1000/threads:1: not counted in NEW", r.stdout)
        broken = fake_counts(self.COUNTS)
        broken["benchmarks"][1] = {"name": broken["benchmarks"][1]["name"], "error_occurred": True,
                                   "error_message": "Callgrind wrote no dump"}
        r = self.gate(fake_counts(self.COUNTS), broken)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("failed to count in NEW", r.stdout)
        # A benchmark only in NEW is listed, not judged.
        more = dict(self.COUNTS, **{"encode/cached/c/vocab:1000/threads:1": (1, 1, 1)})
        r = self.gate(fake_counts(self.COUNTS), fake_counts(more))
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("new (no baseline)", r.stdout)

    def test_timed_and_counted_files_are_not_mixed(self):
        timed = fake_results({"encode/heap/c/vocab:1000/threads:1": 10.0}, 1)
        r = self.gate(timed, fake_counts(self.COUNTS))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not from the counting sweep", r.stderr)
        r = Compare.run_compare(self, fake_counts(self.COUNTS), fake_counts(self.COUNTS))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("use --instructions", r.stderr)


FAKE_HARNESS = """#!/usr/bin/python3
# Writes a results file (--out) for the benchmarks --benchmark_filter names, at the times in TIMES.
import json, re, sys
sys.path.insert(0, {tests!r})
from scripts_test import fake_results
args = sys.argv[1:]
regex = next(a.split("=", 1)[1] for a in args if a.startswith("--benchmark_filter="))
out = args[args.index("--out") + 1]
times = {times!r}
with open(out, "w") as f:
    json.dump(fake_results({{k: v for k, v in times.items() if re.search(regex, k)}}, 7), f)
"""


class CompareRerun(unittest.TestCase):
    TIMES = Compare.TIMES
    HEAP = "encode/heap/c/vocab:1000/threads:1"

    def run_with_rerun(self, new_times, rerun_times):
        with tempfile.TemporaryDirectory() as d:
            harness = os.path.join(d, "fake_harness")
            with open(harness, "w") as f:
                f.write(FAKE_HARNESS.format(tests=os.path.dirname(os.path.abspath(__file__)), times=rerun_times))
            os.chmod(harness, 0o755)
            return Compare.run_compare(self, fake_results(self.TIMES, 1), fake_results(new_times, 2),
                                       extra=["--rerun", harness + " --quick"])

    def test_a_flag_the_second_run_does_not_confirm_is_not_a_regression(self):
        slower = dict(self.TIMES, **{self.HEAP: 13.0})
        r = self.run_with_rerun(slower, self.TIMES)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("not confirmed", r.stdout)
        self.assertIn("1 flagged, measured again: 0 confirmed", r.stdout)

    def test_a_flag_the_second_run_confirms_is_a_regression(self):
        slower = dict(self.TIMES, **{self.HEAP: 13.0})
        r = self.run_with_rerun(slower, slower)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        lines = [l for l in r.stdout.splitlines() if "REGRESSION" in l]
        self.assertEqual(len(lines), 1, r.stdout)
        self.assertIn(self.HEAP, lines[0])


def run_script(script, data, folder):
    """Writes `data` as folder/r.json and runs scripts/<script> on it."""
    path = os.path.join(folder, "r.json")
    with open(path, "w") as f:
        json.dump(data, f)
    return subprocess.run([sys.executable, os.path.join(SCRIPTS, script), path], capture_output=True, text=True)


class Summary(unittest.TestCase):
    def summary(self, data):
        with tempfile.TemporaryDirectory() as d:
            r = run_script("summary.py", data, d)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_ratio_table_divides_each_peer_by_each_of_ours(self):
        out = self.summary(fake_results(PEER_TIMES, 1))
        self.assertIn("Training from text on c, vocab 10000: ours vs each peer", out)
        section = out.split("Encoding on c, vocab 10000")[1]
        rows = {tuple(l.split()[:2]): l.split()[2:] for l in out.splitlines() if l.strip().startswith(("linked", "cached"))}
        # 2000 / 50 = 40x on 1 thread, 1500 / 40 = 37.5x on 2 (fake repetitions vary by +-2%).
        self.assertAlmostEqual(float(rows[("linked", "1")][0].rstrip("x")), 40, delta=2)
        self.assertAlmostEqual(float(rows[("linked", "2")][0].rstrip("x")), 37.5, delta=2)
        # Encoding with our model: HF at the same vocab, 100 / 5 = 20x.
        line = [l.split() for l in section.splitlines() if l.strip().startswith("cached")][0]
        self.assertAlmostEqual(float(line[2].rstrip("x")), 20, delta=1)

    def test_the_headline_names_the_fastest_peer_per_task_and_class_with_its_build(self):
        times = dict(PEER_TIMES)
        times["encode/tiktoken-node/c/vocab:100256/threads:1"] = 30.0  # faster than tiktoken (60)
        times["encode/gpt-tokenizer/c/vocab:100256/threads:1"] = 45.0
        times["encode/cached/d/vocab:100256/threads:1"] = 12.0  # a second text class
        times["encode/tiktoken/d/vocab:100256/threads:1"] = 24.0
        data = fake_results(times, 1)
        data["context"]["bpebench_peer_names"] = "sentencepiece,hf_tokenizers,tiktoken,tiktoken-node,gpt-tokenizer"
        data["context"]["bpebench_peer_builds"] = "sentencepiece=native,hf_tokenizers=native,tiktoken=wasm,tiktoken-node=native,gpt-tokenizer=pure-js"
        data["context"]["bpebench_settings"] = "corpora=d,c vocab_sizes=10000"
        out = self.summary(data)
        head = out.split("Fastest per task and text class")[1].split("\n\n")[0]
        lines = [l.split() for l in head.splitlines()[2:]]
        c_cl100k = [l for l in lines if l[:3] == ["c", "encode", "cl100k_base"]][0]
        # cached at 6 ms against tiktoken-node, the fastest peer, at 30 ms: 5x.
        self.assertEqual(c_cl100k[3], "cached")
        self.assertEqual(c_cl100k[6:8], ["tiktoken-node", "(native)"])
        self.assertAlmostEqual(float(c_cl100k[-1].rstrip("x")), 5, delta=0.3)
        d_cl100k = [l for l in lines if l[:3] == ["d", "encode", "cl100k_base"]][0]
        self.assertEqual(d_cl100k[6:8], ["tiktoken", "(wasm)"])
        self.assertAlmostEqual(float(d_cl100k[-1].rstrip("x")), 2, delta=0.2)
        self.assertLess(head.index("\n  d "), head.index("\n  c "))  # the sweep's order of classes
        # The table per vocabulary: a column per class, the fastest of ours and of the peers marked.
        table = out.split("Encoding with cl100k_base (100256 tokens)")[1].split("\n\n")[0]
        self.assertEqual(table.splitlines()[1].split(), ["encoder", "d", "c"])
        self.assertIn("*", [l for l in table.splitlines() if l.strip().startswith("cached")][0])
        self.assertIn("+", [l for l in table.splitlines() if l.strip().startswith("tiktoken-node")][0])
        self.assertIn("gpt-tokenizer (pure-js)", table)


class Plot(unittest.TestCase):
    def test_peers_are_drawn_dashed_and_labelled(self):
        with tempfile.TemporaryDirectory() as d:
            r = run_script("plot.py", fake_results(PEER_TIMES, 1), d)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(os.path.join(d, "train_time.svg")) as f:
                svg = f.read()
        self.assertIn("sentencepiece (native peer)", svg)
        self.assertIn("stroke-dasharray", svg)


    def test_baseline_gives_four_figures_and_a_csv(self):
        with tempfile.TemporaryDirectory() as d:
            r = subprocess.run([sys.executable, os.path.join(SCRIPTS, "plot.py"), BASELINE, "--out", d],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            for name in ("encode_classes", "encode_throughput", "train_time", "thread_scaling", "adversarial"):
                for ext in ("png", "svg"):
                    path = os.path.join(d, "{}.{}".format(name, ext))
                    self.assertGreater(os.path.getsize(path), 10000, path)
            with open(os.path.join(d, "results.csv")) as f:
                header = f.readline()
                rows = f.readlines()
            self.assertTrue(header.startswith("benchmark,kind,algorithm"))
            self.assertGreater(len(rows), 300)
            self.assertTrue(any("skipped" in row for row in rows))

    def test_unreadable_results_are_a_clear_error(self):
        r = subprocess.run([sys.executable, os.path.join(SCRIPTS, "plot.py"), "/nonexistent.json"],
                           capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("cannot read", r.stderr)


class SemanticsSearch(unittest.TestCase):
    """scripts/semantics_search.py: tiktoken's concatenation semantics against pair semantics with
    merges derived from the ranks (what bpebench does with rank files)."""

    def setUp(self):
        sys.path.insert(0, SCRIPTS)
        import semantics_search
        self.s = semantics_search

    def test_the_two_semantics_differ_on_a_merge_list_written_by_hand(self):
        # Ranks ab < bc < abc: concatenation reaches abc; with the listed pairs a+b, b+c and a+bc,
        # abc is [ab, c] (the example of EncoderTest.PairSemanticsNotConcatenation).
        ranks = {"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4, "abc": 5}
        self.assertEqual(self.s.concat_encode("abc", ranks), ["abc"])
        self.assertEqual(self.s.pair_encode("abc", {("a", "b"): 3, ("b", "c"): 4, ("a", "bc"): 5}),
                         ["ab", "c"])

    def test_merges_derived_from_the_ranks_agree(self):
        ranks = {"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4, "abc": 5}
        merges = self.s.derive(ranks)
        self.assertEqual(merges, {("a", "b"): 3, ("b", "c"): 4, ("ab", "c"): 5})
        for text in ("abc", "abcabc", "cba", "bcab"):
            self.assertEqual(self.s.pair_encode(text, merges), self.s.concat_encode(text, ranks), text)

    def test_a_token_no_merge_makes_is_refused(self):
        # abc with no two-letter token below it ends in three parts [a, b, c]: no one merge makes it.
        self.assertIsNone(self.s.derive({"a": 0, "b": 1, "c": 2, "abc": 3}))

    def test_the_search_finds_no_counter_example(self):
        r = subprocess.run([sys.executable, os.path.join(SCRIPTS, "semantics_search.py"), "--trials", "200"],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("no counter-example", r.stdout)


if __name__ == "__main__":
    unittest.main()
