"""The Python module against the CLI: the same ids (every encoder, every text class, tiktoken's
vocabularies and our models), the byte-identical model and count table (every trainer), the CLI's
error messages as bpebench.Error, the GIL released while encoding, and the module's own contracts
(encode_to_numpy's array, encode_batch, decode, pickled Counts, documents from an iterable).

Run by CTest in the release build (scripts/test step 4):
    PYTHONPATH=build/release/python BPEBENCH_CLI=build/release/bpebench python3 -m pytest tests/python_test.py
A shared corpus that is missing skips the tests that need it, with the reason; under CI (CI=true)
they fail instead. (Speed is measured by python3 -m bpebench.bench, not here.)"""
import os
import pickle
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import bpebench

CLI = os.environ.get("BPEBENCH_CLI", "build/release/bpebench")
IN_CI = os.environ.get("CI", "") not in ("", "false")
# The text classes: English prose, many languages, Chinese, code.
CLASSES = ("gutenberg5", "udhr59", "zh_sanguo", "python_stdlib")
SAMPLE = 200_000  # bytes of each corpus the id checks use


def run(*args, input=None, check=True):
    r = subprocess.run([CLI, *args], input=input, capture_output=True)
    if check and r.returncode != 0:
        raise AssertionError(f"bpebench {' '.join(args)} failed: {r.stderr.decode()}")
    return r


_corpora = {}


def corpus(name, limit=None):
    """A corpus's text (str), from `bpebench corpus`; cut at a character boundary."""
    if name not in _corpora:
        r = run("corpus", name, check=False)
        if r.returncode != 0:
            why = f"corpus {name} is not available: {r.stderr.decode().strip()}"
            if IN_CI:
                pytest.fail("missing in CI, where every test must run: " + why)
            pytest.skip(why)
        _corpora[name] = r.stdout.decode("utf-8")
    text = _corpora[name]
    return text if limit is None else text.encode()[:limit].decode("utf-8", "ignore")


def cli_error(*args):
    r = run(*args, check=False)
    assert r.returncode == 1, r
    line = r.stderr.decode().strip().splitlines()[-1]
    assert line.startswith("bpebench: error: ")
    return line[len("bpebench: error: "):]


@pytest.fixture(scope="module")
def tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("python_test")


@pytest.fixture(scope="module")
def own_model(tmp):
    """A 3000-token model trained by the CLI on gutenberg5, and its path."""
    path = tmp / "g5.model"
    run("train", "--corpus", "gutenberg5", "--vocab-size", "3000", "--output", str(path))
    return path


def cli_ids(model, text, tmp, *extra):
    f = tmp / "input.txt"
    f.write_bytes(text.encode() if isinstance(text, str) else text)
    out = run("encode", "--model", str(model), *extra, str(f)).stdout.decode().split()
    return [int(x) for x in out]


# ---- registry -------------------------------------------------------------------------------------

def test_algorithms_lists_the_registry_as_bpebench_list_does():
    listed = {}
    for line in run("list").stdout.decode().splitlines():
        kind, name, description = line.split("\t", 2)
        listed.setdefault(kind, {})[name] = description
    reg = bpebench.algorithms()
    assert reg["trainers"] == listed["trainer"]
    assert reg["encoders"] == listed["encoder"]
    assert reg["pretokenizers"] == listed["pretokenizer"]
    assert "cached" in reg["encoders"] and "linked" in reg["trainers"]


# ---- encoding ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", CLASSES)
@pytest.mark.parametrize("vocabulary", ["cl100k_base", "o200k_base"])
def test_tiktoken_vocabularies_give_the_clis_ids(name, vocabulary, tmp):
    text = corpus(name, SAMPLE)
    enc = bpebench.get_encoding(vocabulary)
    expected = cli_ids(vocabulary, text, tmp)
    assert enc.encode(text) == expected
    assert enc.encode_to_numpy(text).tolist() == expected
    assert enc.encode(text, num_threads=2) == expected
    assert enc.decode(expected) == text
    assert max(expected) < enc.n_vocab


@pytest.mark.parametrize("algorithm", list(bpebench.algorithms()["encoders"]))
def test_every_encoder_gives_the_same_ids_as_the_cli(algorithm, own_model, tmp):
    text = corpus("gutenberg5", 60_000) + corpus("udhr59", 30_000) + corpus("zh_sanguo", 20_000)
    expected = cli_ids(own_model, text, tmp)
    enc = bpebench.load(own_model, algorithm=algorithm)
    assert enc.algorithm == algorithm
    assert enc.encode(text) == expected
    assert enc.encode(text.encode()) == expected  # bytes are taken as they are
    assert enc.encode_batch([text, "", "a b"], num_threads=2) == [expected, [], enc.encode("a b")]
    assert enc.decode_bytes(expected) == text.encode()


def test_encode_to_numpy_is_a_uint32_array_that_owns_its_ids(own_model):
    enc = bpebench.load(own_model)
    text = corpus("gutenberg5", 100_000)
    a = enc.encode_to_numpy(text)
    assert a.dtype == np.uint32 and a.ndim == 1 and a.flags["C_CONTIGUOUS"]
    assert a.tolist() == enc.encode(text)
    b = enc.encode_to_numpy(text)
    a[:] = 0  # its own buffer: another call's array does not change
    assert b.tolist() == enc.encode(text)
    assert enc.encode_to_numpy("").shape == (0,)
    assert enc.decode(b) == text  # decode takes arrays too


def test_encode_batch_gives_each_texts_ids_in_order_on_any_thread_count():
    enc = bpebench.get_encoding("cl100k_base")
    texts = [corpus("udhr59")[i * 997:(i + 1) * 997 + i] for i in range(40)] + ["", "x"]
    expected = [enc.encode(t) for t in texts]
    for threads in (1, 2, 3, 8):
        assert enc.encode_batch(texts, num_threads=threads) == expected
    assert enc.encode_batch([]) == []


def test_models_in_other_formats_load_as_the_cli_reads_them(own_model, tmp):
    text = corpus("gutenberg5", 50_000)
    hf = tmp / "tokenizer.json"
    run("export", "--model", str(own_model), "--format", "hf", "--output", str(hf))
    assert bpebench.load(hf).encode(text) == cli_ids(hf, text, tmp) == cli_ids(own_model, text, tmp)
    model = bpebench.load_model(own_model)
    assert model.to_bytes() == own_model.read_bytes()
    assert model.encoding().encode(text) == cli_ids(own_model, text, tmp)
    assert model.export_hf() == hf.read_text()


def test_decode_refuses_ids_the_model_does_not_have_with_the_clis_words():
    enc = bpebench.get_encoding("cl100k_base")
    with pytest.raises(bpebench.Error, match=r"token id 100257 \(at position 1\) is not in the model"):
        enc.decode([1, 100257])  # <|endoftext|>: a special token
    with pytest.raises(bpebench.Error, match="is not in the model"):
        enc.decode([-1])
    with pytest.raises(bpebench.Error, match="is not in the model"):
        enc.decode(np.array([2**40], dtype=np.uint64))
    with pytest.raises(TypeError):
        enc.decode(["1"])
    with pytest.raises(bpebench.Error, match="integer ids"):
        enc.decode(np.array([1.0]))
    assert enc.decode([]) == ""
    assert isinstance(bpebench.Error("x"), ValueError)


def test_text_that_is_not_str_or_bytes_and_unencodable_str_are_refused():
    enc = bpebench.get_encoding("gpt2")
    with pytest.raises(TypeError, match="expected str or bytes"):
        enc.encode(123)
    with pytest.raises(UnicodeEncodeError):
        enc.encode("lone surrogate \ud800")


def test_unknown_names_are_errors_that_list_the_known_ones(own_model):
    with pytest.raises(bpebench.Error, match="unknown encoding 'cl100k'"):
        bpebench.get_encoding("cl100k")
    with pytest.raises(bpebench.Error) as e:
        bpebench.load(own_model, algorithm="fastest")
    assert str(e.value) == cli_error("encode", "--model", str(own_model), "--algorithm", "fastest", "/dev/null")
    with pytest.raises(bpebench.Error) as e:
        bpebench.load("/nonexistent/model")
    assert str(e.value) == cli_error("encode", "--model", "/nonexistent/model", "/dev/null")


def test_the_gil_is_released_while_encoding():
    """A Python thread keeps running while another encodes: were the GIL held, this thread would stop
    for the whole call (about 0.1-0.3 s here) and its loop would leave a gap that long in the call."""
    enc = bpebench.get_encoding("cl100k_base")
    text = corpus("gutenberg5") * 4
    enc.encode_to_numpy(text[:100_000])
    state = {"running": False, "start": 0.0, "end": 0.0}

    def work():
        state["running"] = True
        state["start"] = time.perf_counter()
        enc.encode_to_numpy(text)
        state["end"] = time.perf_counter()
        state["running"] = False

    worker = threading.Thread(target=work)
    worker.start()
    while not state["running"]:
        time.sleep(0)
    stamps = []
    while state["running"]:
        stamps.append(time.perf_counter())
    worker.join()
    start, end = state["start"], state["end"]
    inside = [start] + [t for t in stamps if start < t < end] + [end]
    assert max(np.diff(inside)) < (end - start) / 2, (max(np.diff(inside)), end - start)


def test_encodings_are_safe_to_share_between_threads(own_model):
    enc = bpebench.load(own_model)
    texts = [corpus("gutenberg5")[i * 50_000:(i + 1) * 50_000] for i in range(6)]
    expected = [enc.encode(t) for t in texts]
    results = [None] * len(texts)

    def work(i):
        for _ in range(3):
            results[i] = enc.encode(texts[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == expected


# ---- counting and training ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shards(tmp):
    """Text files of three classes, each ending where a piece ends (a newline before a letter)."""
    paths = []
    for name, size in (("gutenberg5", 400_000), ("udhr59", 150_000), ("python_stdlib", 150_000)):
        text = corpus(name, size)
        text = text[:text.rindex("\n") + 1] + "Next\n"
        path = tmp / f"{name}.txt"
        path.write_text(text)
        paths.append(path)
    return paths


@pytest.mark.parametrize("algorithm", list(bpebench.algorithms()["trainers"]))
def test_every_trainer_writes_the_clis_model_byte_for_byte(algorithm, shards, tmp):
    cli_model = tmp / f"cli-{algorithm}.model"
    run("train", "--vocab-size", "1500", "--algorithm", algorithm, "--threads", "2", "--output", str(cli_model),
        *map(str, shards))
    model = bpebench.train([str(s) for s in shards], vocab_size=1500, algorithm=algorithm, num_threads=2)
    assert model.to_bytes() == cli_model.read_bytes()
    saved = tmp / f"py-{algorithm}.model"
    model.save(str(saved))
    assert saved.read_bytes() == cli_model.read_bytes()
    assert model.vocab_size == 1500 and model.stop_reason == "reached the vocabulary size"
    assert len(model.merges) == 1244


def test_options_mean_what_the_clis_do(shards, tmp):
    for extra, kwargs in ((["--pretokenizer", "o200k"], {"pretokenizer": "o200k"}),
                          (["--min-frequency", "50"], {"min_frequency": 50}),
                          (["--threads", "1"], {"num_threads": 1})):
        cli_model = tmp / "options.model"
        run("train", "--vocab-size", "4000", "--output", str(cli_model), *extra, str(shards[0]))
        model = bpebench.train(shards[0], vocab_size=4000, **kwargs)
        assert model.to_bytes() == cli_model.read_bytes(), extra
    assert bpebench.train(shards[0], vocab_size=100000, min_frequency=50).stop_reason == \
        "the best pair occurs fewer times than min_frequency"


def test_count_writes_the_clis_table_and_tables_sum_as_train_counts_does(shards, tmp):
    tables = []
    for i, shard in enumerate(shards):
        cli_table = tmp / f"shard{i}.tsv"
        run("count", "--output", str(cli_table), str(shard))
        counts = bpebench.count(shard)
        assert counts.to_tsv() == cli_table.read_bytes()
        assert counts.total() == sum(c for _, c in counts.items())
        tables.append(counts)
    summed = bpebench.sum_counts(tables)
    assert summed.to_tsv() == bpebench.count([str(s) for s in shards]).to_tsv()
    cli_model = tmp / "from-tables.model"
    run("train", "--counts", "--vocab-size", "2000", "--output", str(cli_model),
        *[str(tmp / f"shard{i}.tsv") for i in range(len(shards))])
    assert bpebench.train(summed, vocab_size=2000).to_bytes() == cli_model.read_bytes()
    saved = tmp / "saved.tsv"
    summed.save(str(saved))
    assert bpebench.load_counts(saved).to_tsv() == summed.to_tsv()
    assert pickle.loads(pickle.dumps(summed)).to_tsv() == summed.to_tsv()
    with pytest.raises(bpebench.Error, match="contradicts the counts"):
        bpebench.train(summed, vocab_size=300, pretokenizer="o200k")
    with pytest.raises(bpebench.Error, match="must agree"):
        bpebench.sum_counts([summed, bpebench.count(shards[0], pretokenizer="o200k")])


def test_an_iterable_is_read_as_documents_in_blocks(tmp, monkeypatch):
    """Each item is a document of its own: the model equals the CLI's on the documents' count tables
    summed (a table per document), also when the items arrive in many blocks."""
    docs = [corpus("udhr59")[i * 3001:(i + 1) * 3001] for i in range(30)]
    paths = []
    for i, d in enumerate(docs):
        (tmp / f"doc{i}.txt").write_text(d)
        run("count", "--output", str(tmp / f"doc{i}.tsv"), str(tmp / f"doc{i}.txt"))
        paths.append(str(tmp / f"doc{i}.tsv"))
    cli_model = tmp / "docs.model"
    run("train", "--counts", "--vocab-size", "800", "--output", str(cli_model), *paths)
    monkeypatch.setattr(bpebench, "BLOCK_CHARS", 10_000)  # about three documents per block
    generated = (d for d in docs)
    assert bpebench.train(generated, vocab_size=800, num_threads=2).to_bytes() == cli_model.read_bytes()
    assert bpebench.train(iter(d.encode() for d in docs), vocab_size=800).to_bytes() == cli_model.read_bytes()


def test_training_errors_are_the_clis(tmp, shards):
    bad = tmp / "binary.txt"
    bad.write_bytes(b"caf\xe9 au lait\n")
    with pytest.raises(bpebench.Error) as e:
        bpebench.train(bad, vocab_size=300)
    assert str(e.value) == cli_error("train", "--vocab-size", "300", "--output", str(tmp / "x.model"),
                                     str(bad)).replace("--binary", "binary=True")
    assert bpebench.train(bad, vocab_size=260, binary=True).vocab_size == 260
    with pytest.raises(bpebench.Error, match="no such file|No such file"):
        bpebench.train(tmp / "missing.txt", vocab_size=300)
    with pytest.raises(bpebench.Error, match="vocab_size 100 is below the 256-byte alphabet"):
        bpebench.train(shards[0], vocab_size=100)
    with pytest.raises(bpebench.Error) as e:
        bpebench.train(shards[0], vocab_size=300, algorithm="quick")
    assert str(e.value) == cli_error("train", "--vocab-size", "300", "--algorithm", "quick", "--output",
                                     str(tmp / "x.model"), str(shards[0]))
    with pytest.raises(bpebench.Error, match="num_threads 0|num_threads 999"):
        bpebench.train(shards[0], vocab_size=300, num_threads=999)
    with pytest.raises(bpebench.Error, match="the input is empty"):
        bpebench.train(iter([]), vocab_size=300)
    with pytest.raises(bpebench.Error, match="a list of str is read as file paths"):
        bpebench.train(["some text, meant as a document"], vocab_size=300)
    with pytest.raises(TypeError):
        bpebench.train(iter([1, 2]), vocab_size=300)
    with pytest.raises(bpebench.Error, match="cannot be written|No such file|does not exist"):
        bpebench.train(shards[0], vocab_size=300).save(str(tmp / "no" / "such" / "folder.model"))


def test_trainers_run_from_several_python_threads_at_once(shards):
    """Two Python threads train at once and get the same model as one alone."""
    alone = bpebench.train(shards[0], vocab_size=2000, num_threads=1).to_bytes()
    out = [None, None]

    def work(i):
        out[i] = bpebench.train(shards[0], vocab_size=2000, num_threads=1).to_bytes()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == [alone, alone]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
