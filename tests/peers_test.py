#!/usr/bin/python3
"""The peers, for real: harness/peers/runner.mjs answers its protocol; a model trained by bpebench and
exported with `bpebench export --format hf` encodes to bpebench's ids in HuggingFace tokenizers (npm),
on every shared corpus and on strings that stress the pre-tokenizer; the harness measures the peers
beside our algorithms, and without Node it still runs and says why the peers were skipped.

Tests that need Node and the npm packages are skipped, with the reason, when they are missing
(scripts/setup installs them); under CI (CI=true) they fail instead, naming what is missing.

usage: peers_test.py PATH/TO/bpebench PATH/TO/bpebench_harness"""
import functools
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

HARNESS = sys.argv.pop(2) if len(sys.argv) > 2 else "build/dev/bpebench_harness"
CLI = sys.argv.pop(1) if len(sys.argv) > 1 else "build/dev/bpebench"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNNER = os.path.join(ROOT, "harness", "peers", "runner.mjs")
NODE = shutil.which("node")
WHY_NOT = None
if not NODE:
    WHY_NOT = "node is not on PATH"
elif not os.path.isdir(os.path.join(ROOT, "harness", "peers", "node_modules", "tokenizers")):
    WHY_NOT = "harness/peers/node_modules is missing (scripts/setup runs npm ci there)"
IN_CI = os.environ.get("CI", "") not in ("", "false")


def needs_node(obj):
    """A test (or class of tests) that needs Node and the npm packages: skipped with the reason when
    they are missing, but failed under CI, where a green run must mean every test ran."""
    if not WHY_NOT:
        return obj
    if not IN_CI:
        return unittest.skip(WHY_NOT)(obj)

    def fail(self):
        self.fail("missing in CI, where every test must run: " + WHY_NOT)
    if isinstance(obj, type):
        for name in list(vars(obj)):
            if name.startswith("test"):
                setattr(obj, name, fail)
        return obj
    return functools.wraps(obj)(fail)

# Strings where regex engines and Unicode tables disagree, if they do: runs of spaces before words
# and at the end, CRLF, contractions in every case, digits, punctuation runs, mixed scripts, marks.
TRICKY = ("Hello  world   \r\n\r\n  x\n\n\n"
          "I'm, you're, HE'S, she'Ll, WE'VE, they'D, it'S 'tis ''s '\n"
          "1234567890 12,345.67 ٣٤٥ ¼ Ⅻ\n"
          "!!!??? ... --- *** ((( ))) \"quoted\" 'single'\n"
          "naïve café Ωmega Здравствуйте 你好世界 こんにちは 안녕하세요 مرحبا שלום\n"
          "e\u0301 a\u0308 \u0915\u094d\u0937 🙂🙂 🇫🇷 \u200b\u00a0\u2003tab\there\n"
          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
          + " " * 200 + "end\n" + "9" * 300 + "\n")


class Runner:
    """runner.mjs as the harness drives it: requests on stdin, replies on descriptor 3."""

    def __init__(self, threads=1):
        # The reply pipe becomes descriptor 3 in the child (kept open: pass_fds lists 3).
        self.r, w = os.pipe()
        env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
        self.proc = subprocess.Popen([NODE, RUNNER], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, pass_fds=(w, 3), env=env, text=True,
                                     preexec_fn=lambda: os.dup2(w, 3))
        os.close(w)
        self.replies = os.fdopen(self.r)

    def ask(self, *fields):
        self.proc.stdin.write("\t".join(fields) + "\n")
        self.proc.stdin.flush()
        line = self.replies.readline().rstrip("\n")
        status, *rest = line.split("\t")
        return status, dict(f.split("=", 1) for f in rest if "=" in f), rest

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        self.replies.close()


def tiktoken_ids(test, runner, vocabulary, path, tmp):
    """tiktoken's ids for a file, as `bpebench encode` prints ids: one line, one space apart."""
    ids = os.path.join(tmp, "tiktoken.ids")
    status, _, rest = runner.ask("encode_tiktoken", vocabulary, path, "", "0", ids)
    test.assertEqual(status, "ok", rest)
    with open(ids, "rb") as f:
        data = f.read()
    return " ".join(map(str, struct.unpack("<{}I".format(len(data) // 4), data))) + "\n"


def run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, **kw)


@needs_node
class RunnerProtocol(unittest.TestCase):
    def test_hello_names_the_versions_and_bad_requests_get_error_replies(self):
        runner = Runner()
        try:
            status, fields, _ = runner.ask("hello")
            self.assertEqual(status, "ok")
            self.assertTrue(fields["node"].startswith("v"))
            self.assertRegex(fields["tokenizers"], r"^\d+\.\d+")
            self.assertRegex(fields["tiktoken"], r"^\d+\.\d+")
            status, _, rest = runner.ask("frobnicate")
            self.assertEqual((status, rest), ("error", ["unknown request 'frobnicate'"]))
            status, _, rest = runner.ask("encode_tiktoken", "gpt2", "/nonexistent.txt", "", "0", "-")
            self.assertEqual(status, "error")
            self.assertIn("no such file", rest[0])
            with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:  # still serving after errors
                f.write("hello world")
                f.flush()
                status, fields, _ = runner.ask("encode_tiktoken", "gpt2", f.name, "", "0", "-")
            self.assertEqual((status, fields["tokens"]), ("ok", "2"))  # "hello", " world" in gpt2
        finally:
            runner.close()


@needs_node
class HfExport(unittest.TestCase):
    """bpebench export --format hf: HF encodes to bpebench's ids, token for token."""

    def check(self, runner, tmp, name, model, text):
        path = os.path.join(tmp, name + ".txt")
        with open(path, "wb") as f:
            f.write(text)
        ours = run(CLI, "encode", "--model", model, path)
        self.assertEqual(ours.returncode, 0, ours.stderr)
        ours = [int(x) for x in ours.stdout.split()]
        ids = os.path.join(tmp, name + ".ids")
        status, fields, rest = runner.ask("encode_hf", model + ".json", path, "", "0", ids)
        self.assertEqual(status, "ok", rest)
        with open(ids, "rb") as f:
            data = f.read()
        theirs = list(struct.unpack("<{}I".format(len(data) // 4), data))
        first = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b), None)
        self.assertEqual(len(theirs), len(ours), "{}: token counts differ; first difference at {}".format(name, first))
        self.assertIsNone(first, "{}: ids differ at token {}".format(name, first))
        return len(ours)

    def test_every_shared_corpus_and_tricky_text(self):
        corpora = [l.split("\t")[1] for l in run(CLI, "list", text=True).stdout.splitlines()
                   if l.startswith("corpus\t")]
        self.assertGreater(len(corpora), 2)
        runner = Runner()
        try:
            with tempfile.TemporaryDirectory() as tmp:
                for corpus in corpora:
                    model = os.path.join(tmp, corpus + ".model")
                    r = run(CLI, "train", "--vocab-size", "5000", "--corpus", corpus, "--output", model)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    r = run(CLI, "export", "--format", "hf", "--model", model, "--output", model + ".json")
                    self.assertEqual(r.returncode, 0, r.stderr)
                    text = run(CLI, "corpus", corpus).stdout[:1 << 20]
                    while text and (text[-1] & 0xC0) == 0x80:  # whole code points only
                        text = text[:-1]
                    if text and text[-1] >= 0xC0:
                        text = text[:-1]
                    with self.subTest(corpus=corpus):
                        self.assertGreater(self.check(runner, tmp, corpus, model, text), 1000)
                    with self.subTest(corpus=corpus, text="tricky"):
                        self.check(runner, tmp, corpus + "-tricky", model, TRICKY.encode())
        finally:
            runner.close()


def first_difference(a, b):
    """Index of the first token where two id lines differ (the shorter length if one is a prefix)."""
    a, b = a.split(), b.split()
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b))), a, b


@needs_node
class TiktokenExact(unittest.TestCase):
    """bpebench encode --model <tiktoken vocabulary> gives tiktoken's own ids (encode_ordinary, npm
    tiktoken run by Node) on every shared corpus, whole, with every encoder but naive; naive (the
    definition, O(merges x length)) on the first 5 KB of each corpus. BPEBENCH_TIKTOKEN_EXACT_MAX_BYTES
    caps each corpus (whole code points) to keep CI short: .ci/run checks the first 1.2 MB of each
    (tinyshakespeare and udhr59 whole), scripts/test by hand checks them whole. Each encoder encodes
    all the files of a vocabulary in one `bpebench encode` call (one line of ids per file), so the
    vocabulary is loaded once per encoder, not once per file."""

    def check_files(self, vocab, encoder, files, labels, wants, what):
        """One `bpebench encode` call on all the files; each line against tiktoken's ids (a subtest
        per file, named by its label as `what`)."""
        got = run(CLI, "encode", "--model", vocab, "--algorithm", encoder, "--threads", "2", *files, text=True)
        self.assertEqual(got.returncode, 0, got.stderr)
        lines = got.stdout.splitlines(keepends=True)
        self.assertEqual(len(lines), len(files), "one line of ids per file")
        for label, line, want in zip(labels, lines, wants):
            with self.subTest(vocabulary=vocab, encoder=encoder, **{what: label}):
                if line != want:
                    first, a, b = first_difference(line, want)
                    self.fail("{} tokens, tiktoken {}; first difference at token {}: {} vs {}".format(
                        len(a), len(b), first, a[first:first + 5], b[first:first + 5]))

    def test_every_vocabulary_every_corpus_every_encoder(self):
        listing = run(CLI, "list", text=True).stdout.splitlines()
        corpora = [l.split("\t")[1] for l in listing if l.startswith("corpus\t")]
        encoders = [l.split("\t")[1] for l in listing if l.startswith("encoder\t")]
        self.assertGreater(len(corpora), 2)
        runner = Runner()
        try:
            with tempfile.TemporaryDirectory() as tmp:
                paths, labels, smalls, small_labels = [], [], [], []
                cap = int(os.environ.get("BPEBENCH_TIKTOKEN_EXACT_MAX_BYTES", "0"))
                for corpus in corpora:
                    text = run(CLI, "corpus", corpus).stdout
                    label = corpus
                    if cap and len(text) > cap:
                        text = text[:cap].decode("utf-8", "ignore").encode()
                        label = "{} (first {} bytes)".format(corpus, len(text))
                    paths.append(os.path.join(tmp, corpus + ".txt"))
                    labels.append(label)
                    with open(paths[-1], "wb") as f:
                        f.write(text)
                    smalls.append(os.path.join(tmp, corpus + "-small.txt"))
                    small_labels.append(corpus + " (first 5 KB)")
                    with open(smalls[-1], "wb") as g:
                        g.write(text[:5000].decode("utf-8", "ignore").encode())
                for vocab in ("gpt2", "cl100k_base", "o200k_base"):
                    wants = [tiktoken_ids(self, runner, vocab, p, tmp) for p in paths]
                    for enc in encoders:
                        if enc != "naive":
                            self.check_files(vocab, enc, paths, labels, wants, "corpus")
                    small_wants = [tiktoken_ids(self, runner, vocab, p, tmp) for p in smalls]
                    self.check_files(vocab, "naive", smalls, small_labels, small_wants, "corpus")
        finally:
            runner.close()

    def test_adversarial_strings(self):
        """tiktoken's known troublemakers, each as one file: long runs of one letter, spaces, digits and
        punctuation (20 KB: tiktoken's WASM build is quadratic on them), mixed scripts, contractions in
        every case, CRLF runs, U+FFFD (what a lone surrogate becomes before tiktoken sees it: tiktoken
        takes a JS string, bpebench takes bytes and refuses invalid UTF-8 without --binary)."""
        cases = {
            "letters": "a" * 20000, "spaces": " " * 20000 + "x", "digits": "1234567890" * 2000,
            "punctuation": "!?." * 7000, "tabs-newlines": "\t \n" * 5000 + "end",
            "mixed": "héllo Привет 你好 مرحبا 😀 ǅx ʰ e\u0301 " * 500,
            "contractions": "it's IT'S It'S 'll 'LL 'lL 've 'VE 're 'RE 'd 'D 'm 'M 't 'T 'ſ x's\n" * 300,
            "crlf": "line\r\n" * 3000 + "\r\r\n\n \r\n", "replacement": "a\ufffdb \ufffd\ufffd" * 1000,
        }
        encoders = [l.split("\t")[1] for l in run(CLI, "list", text=True).stdout.splitlines()
                    if l.startswith("encoder\t") and l.split("\t")[1] != "naive"]
        runner = Runner()
        try:
            with tempfile.TemporaryDirectory() as tmp:
                paths = []
                for case, text in cases.items():
                    paths.append(os.path.join(tmp, case + ".txt"))
                    with open(paths[-1], "w", encoding="utf-8") as f:
                        f.write(text)
                for vocab in ("gpt2", "cl100k_base", "o200k_base"):
                    wants = [tiktoken_ids(self, runner, vocab, p, tmp) for p in paths]
                    for enc in encoders:
                        self.check_files(vocab, enc, paths, list(cases), wants, "case")
        finally:
            runner.close()


class HarnessPeers(unittest.TestCase):
    ARGS = ["--corpora", "tinyshakespeare", "--vocab-sizes", "1000", "--threads", "1", "--repetitions", "1",
            "--min-time", "0.01", "--adversarial-max", "0"]

    def sweep(self, env=None):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "r.json")
            r = run(HARNESS, *self.ARGS, "--out", out, text=True, env=env)
            self.assertEqual(r.returncode, 0, r.stderr[-3000:])
            with open(out) as f:
                return json.load(f)

    @needs_node
    def test_peer_rows_are_measured_in_the_same_run(self):
        data = self.sweep()
        runs = {b["name"].split("/iterations")[0].split("/min_time")[0]: b for b in data["benchmarks"]
                if b.get("run_type") != "aggregate"}
        hf = runs["encode/hf_tokenizers/tinyshakespeare/vocab:1000/threads:1"]
        self.assertFalse(hf.get("error_occurred"), hf)
        self.assertIn("token-exact", hf["label"])
        self.assertGreater(hf["bytes_per_second"], 0)
        for vocab in (50256, 100256, 199998):
            tk = runs["encode/tiktoken/tinyshakespeare/vocab:{}/threads:1".format(vocab)]
            self.assertFalse(tk.get("error_occurred"), tk)
            self.assertGreater(tk["bytes_per_token"], 1)
        self.assertIn("tokenizers", data["context"]["bpebench_peers"])
        self.assertIn("getIds()", data["context"]["bpebench_peers_boundary"])
        sp = [k for k in runs if k.startswith("train_text/sentencepiece/")]
        self.assertEqual(len(sp), 1, list(runs))
        if "skipped: not built" not in data["context"]["bpebench_peers"]:
            self.assertFalse(runs[sp[0]].get("error_occurred"), runs[sp[0]])
            self.assertIn("encode/sentencepiece/tinyshakespeare/vocab:1000/threads:1", runs)
        # Ours, end to end from text, beside them.
        self.assertIn("train_text/linked/tinyshakespeare/vocab:1000/threads:1", runs)

    def test_without_node_the_sweep_runs_and_says_why(self):
        with tempfile.TemporaryDirectory() as bin_dir:
            os.symlink(shutil.which("git"), os.path.join(bin_dir, "git"))  # git yes, node no
            env = dict(os.environ, PATH=bin_dir)
            env.pop("GLIBC_TUNABLES", None)
            data = self.sweep(env=env)
        self.assertIn("node is not on PATH", data["context"]["bpebench_peers"])
        # The release harness sets malloc's thresholds (algorithms/runtime/memory.h) and says so.
        self.assertEqual(data["context"]["bpebench_allocator"],
                         "glibc malloc, mmap threshold 64 MiB, trim threshold 128 MiB")
        errors = {b["name"]: b.get("error_message", "") for b in data["benchmarks"] if b.get("error_occurred")}
        hf = [m for n, m in errors.items() if n.startswith("encode/hf_tokenizers/")]
        self.assertTrue(hf and "node is not on PATH" in hf[0], errors)
        measured = [b for b in data["benchmarks"] if b["name"].startswith("encode/cached/") and not b.get("error_occurred")]
        self.assertTrue(measured)


if __name__ == "__main__":
    unittest.main()
