#!/usr/bin/python3
"""The peers, for real: every plug-in in harness/peers answers the protocol of docs/peers.md and gives
tiktoken's ids with each vocabulary it has; a model trained by bpebench and exported with `bpebench
export --format hf` encodes to bpebench's ids in HuggingFace tokenizers (npm), on every shared corpus
and on strings that stress the pre-tokenizer; the pure-Python peer trains bpebench's merges; the
harness measures the peers beside our algorithms, and without Node it still runs and says why the
peers were skipped. (The harness with plug-ins that misbehave: plugins_test.py.)

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
PEERS = os.path.join(ROOT, "harness", "peers")
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


class Peer:
    """A plug-in as the harness drives it (docs/peers.md): its manifest's command, run in its folder,
    JSON requests on stdin, JSON replies on the manifest's reply descriptor."""

    def __init__(self, name, threads=1):
        self.folder = os.path.join(PEERS, name)
        with open(os.path.join(self.folder, "peer.json")) as f:
            self.manifest = json.load(f)
        fd = self.manifest.get("reply_fd", 1)
        env = dict(os.environ, BPEBENCH_PEER_REPLY_FD=str(fd))
        thread_env = self.manifest.get("threads")
        if isinstance(thread_env, dict):
            env[thread_env["env"]] = str(threads)
        if fd == 1:
            self.proc = subprocess.Popen(self.manifest["command"], cwd=self.folder, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
            self.replies = self.proc.stdout
        else:
            self.r, w = os.pipe()
            self.proc = subprocess.Popen(self.manifest["command"], cwd=self.folder, stdin=subprocess.PIPE,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(w, fd),
                                         env=env, text=True, preexec_fn=lambda: os.dup2(w, fd))
            os.close(w)
            self.replies = os.fdopen(self.r)

    def ask(self, **request):
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.replies.readline())

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        self.replies.close()


def read_u32(path):
    with open(path, "rb") as f:
        data = f.read()
    return list(struct.unpack("<{}I".format(len(data) // 4), data))


def tiktoken_ids(test, peer, vocabulary, path, tmp):
    """tiktoken's ids for a file, as `bpebench encode` prints ids: one line, one space apart."""
    ids = os.path.join(tmp, "tiktoken.ids")
    reply = peer.ask(op="encode", vocabulary=vocabulary, input=path, offsets=[], min_time=0, ids_out=ids)
    test.assertTrue(reply["ok"], reply)
    return " ".join(map(str, read_u32(ids))) + "\n"


def run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, **kw)


def shipped_peers():
    return sorted(d for d in os.listdir(PEERS) if os.path.isfile(os.path.join(PEERS, d, "peer.json")))


@needs_node
class PluginProtocol(unittest.TestCase):
    def test_every_shipped_peer_answers_and_gives_tiktokens_ids(self):
        names = shipped_peers()
        for want in ("tiktoken", "tiktoken-node", "anysphere-tiktoken-node", "gpt-tokenizer", "js-tiktoken",
                     "hf_tokenizers", "python-bpe"):
            self.assertIn(want, names)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "tricky.txt")
            with open(path, "w", encoding="utf-8") as f:
                f.write(TRICKY)
            reference = Peer("tiktoken")
            try:
                for name in names:
                    peer = Peer(name)
                    try:
                        with self.subTest(peer=name):
                            hello = peer.ask(op="hello")
                            self.assertTrue(hello["ok"], hello)
                            version = peer.manifest.get("version") or hello["versions"][peer.manifest["version_of"]]
                            self.assertRegex(version, r"^\d+\.\d+")
                            bad = peer.ask(op="frobnicate")
                            self.assertFalse(bad["ok"])
                            self.assertIn("frobnicate", bad["error"])
                            missing = peer.ask(op="encode", vocabulary="cl100k_base", model="/nonexistent.model",
                                               model_format="merges_u32", input="/nonexistent.txt", offsets=[],
                                               min_time=0, ids_out=None)
                            self.assertFalse(missing["ok"])
                        for vocab in peer.manifest.get("encode", {}).get("vocabularies", []):
                            with self.subTest(peer=name, vocabulary=vocab):
                                want = tiktoken_ids(self, reference, vocab, path, tmp)
                                # Documents cut at byte 100 too: the ids are the documents' ids joined.
                                ids = os.path.join(tmp, name + ".ids")
                                for batch in ([False, True] if peer.manifest["encode"].get("batch") else [False]):
                                    reply = peer.ask(op="encode", vocabulary=vocab, input=path, offsets=[], min_time=0.01,
                                                     ids_out=ids, batch=batch)
                                    self.assertTrue(reply["ok"], reply)
                                    self.assertGreater(reply["iterations"], 0)
                                    self.assertEqual(" ".join(map(str, read_u32(ids))) + "\n", want)
                                    self.assertEqual(reply["tokens"], len(want.split()))
                    finally:
                        peer.close()
            finally:
                reference.close()


class PythonPeer(unittest.TestCase):
    """python-bpe, the textbook pure-Python BPE: bpebench's merges and ids, from the standard library."""

    def test_trains_our_merges_and_encodes_to_our_ids(self):
        with tempfile.TemporaryDirectory() as tmp:
            text = os.path.join(tmp, "text.txt")
            with open(text, "wb") as f:
                f.write(run(CLI, "corpus", "gutenberg5").stdout[:120000].decode("utf-8", "ignore").encode() + TRICKY.encode())
            model = os.path.join(tmp, "ours.model")
            r = run(CLI, "train", "--vocab-size", "600", "--output", model, text)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(model) as f:
                lines = f.read().split("\n")
            ours = [tuple(map(int, l.split())) for l in lines[3:] if l.strip() and l[0].isdigit()]
            self.assertEqual(len(ours), 344)
            peer = Peer("python-bpe")
            try:
                merges = os.path.join(tmp, "py.merges")
                reply = peer.ask(op="train", input=text, vocab_size=600, model_out=merges)
                self.assertTrue(reply["ok"], reply)
                self.assertEqual(reply["vocab_size"], 600)
                got = read_u32(merges)
                self.assertEqual(list(zip(got[0::2], got[1::2])), ours)
                ids = os.path.join(tmp, "py.ids")
                reply = peer.ask(op="encode", model=merges, model_format="merges_u32", input=text, offsets=[5000],
                                 min_time=0, ids_out=ids)
                self.assertTrue(reply["ok"], reply)
                want = run(CLI, "encode", "--model", model, text, text=True)
                self.assertEqual(read_u32(ids), [int(x) for x in want.stdout.split()])
            finally:
                peer.close()


@needs_node
class HfExport(unittest.TestCase):
    """bpebench export --format hf: HF encodes to bpebench's ids, token for token."""

    def check(self, peer, tmp, name, model, text):
        path = os.path.join(tmp, name + ".txt")
        with open(path, "wb") as f:
            f.write(text)
        ours = run(CLI, "encode", "--model", model, path)
        self.assertEqual(ours.returncode, 0, ours.stderr)
        ours = [int(x) for x in ours.stdout.split()]
        ids = os.path.join(tmp, name + ".ids")
        reply = peer.ask(op="encode", model=model + ".json", model_format="hf_json", input=path, offsets=[],
                         min_time=0, ids_out=ids, batch=True)  # HF's peer has only the batch call
        self.assertTrue(reply["ok"], reply)
        theirs = read_u32(ids)
        first = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b), None)
        self.assertEqual(len(theirs), len(ours), "{}: token counts differ; first difference at {}".format(name, first))
        self.assertIsNone(first, "{}: ids differ at token {}".format(name, first))
        return len(ours)

    def test_every_shared_corpus_and_tricky_text(self):
        corpora = [l.split("\t")[1] for l in run(CLI, "list", text=True).stdout.splitlines()
                   if l.startswith("corpus\t")]
        self.assertGreater(len(corpora), 2)
        runner = Peer("hf_tokenizers")
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
    caps each corpus (whole code points) to keep CI short: .ci/run checks the first 600 KB
    of each, scripts/test by hand checks them whole. Each encoder encodes
    all the files of a vocabulary in one `bpebench encode` call (one line of ids per file), so the
    vocabulary is loaded once per encoder, not once per file. tiktoken here is the npm tiktoken peer
    (harness/peers/tiktoken): tiktoken's Rust core, compiled to WebAssembly."""

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
        runner = Peer("tiktoken")
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
        runner = Peer("tiktoken")
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
    # A budget of 60 s: the rows must be measured on a loaded machine too (at 10 s python-bpe's
    # training can be skipped when another build runs beside the tests).
    ARGS = ["--corpora", "tinyshakespeare", "--vocab-sizes", "1000", "--threads", "1", "--repetitions", "1",
            "--min-time", "0.01", "--adversarial-max", "0", "--budget", "60"]

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
        errors = {n: b["error_message"] for n, b in runs.items() if b.get("error_occurred")}
        for name in ("hf_tokenizers", "python-bpe"):
            row = runs["encode/{}/tinyshakespeare/vocab:1000/threads:1".format(name)]
            self.assertFalse(row.get("error_occurred"), row)
            self.assertIn("token-exact", row["label"])
            self.assertGreater(row["bytes_per_second"], 0)
            self.assertGreater(row["call_overhead_us"], 0)
        self.assertIn("merge-exact", runs["train_text/python-bpe/tinyshakespeare/vocab:1000/threads:1"]["label"])
        rows = {"tiktoken": (50256, 100256, 199998), "js-tiktoken": (50256, 100256, 199998),
                "gpt-tokenizer": (50256, 100256, 199998), "tiktoken-node": (50256, 100256),
                "tiktoken-node.batch": (50256, 100256), "anysphere-tiktoken-node": (100256, 199998)}
        for peer, vocabs in rows.items():
            for vocab in vocabs:
                row = runs.get("encode/{}/tinyshakespeare/vocab:{}/threads:1".format(peer, vocab))
                self.assertIsNotNone(row, (peer, vocab, errors))
                self.assertFalse(row.get("error_occurred"), row)
                self.assertIn("token-exact", row["label"])
                self.assertGreater(row["bytes_per_token"], 1)
        # Our rows with tiktoken's vocabularies say which peers gave the same ids.
        cached = runs["encode/cached/tinyshakespeare/vocab:100256/threads:1"]
        self.assertIn("token-exact with", cached["label"])
        self.assertIn("tiktoken-node", cached["label"])
        for name in ("tokenizers", "tiktoken 1.", "gpt-tokenizer", "python-bpe 1.0 (python"):
            self.assertIn(name, data["context"]["bpebench_peers"])
        self.assertIn("tiktoken-node", data["context"]["bpebench_peer_names"])
        self.assertIn("us", data["context"]["bpebench_peer_call_overhead"])
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
        self.assertIn("cannot run 'node' for peer tiktoken: not found on PATH", data["context"]["bpebench_peers"])
        # The release harness sets malloc's thresholds (algorithms/runtime/memory.h) and says so.
        self.assertEqual(data["context"]["bpebench_allocator"],
                         "glibc malloc, mmap threshold 64 MiB, trim threshold 128 MiB")
        errors = {b["name"]: b.get("error_message", "") for b in data["benchmarks"] if b.get("error_occurred")}
        hf = [m for n, m in errors.items() if n.startswith("encode/hf_tokenizers/")]
        self.assertTrue(hf and "not found on PATH" in hf[0], errors)
        measured = [b for b in data["benchmarks"] if b["name"].startswith("encode/cached/") and not b.get("error_occurred")]
        self.assertTrue(measured)


if __name__ == "__main__":
    unittest.main()
