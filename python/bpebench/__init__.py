"""bpebench from Python: the project's BPE trainers and encoders, with the interface of tiktoken and
HF tokenizers.

    import bpebench
    enc = bpebench.get_encoding("cl100k_base")        # tiktoken's ids, token for token
    ids = enc.encode("hello world")                    # list[int]; enc.encode_to_numpy(text): uint32 array
    model = bpebench.train(["corpus.txt"], vocab_size=10000)
    model.save("corpus.model")                         # the file `bpebench train` writes, byte for byte

Every function takes the CLI's options under the same names (vocab_size for --vocab-size, ...) and
checks them the same way; errors are raised as bpebench.Error (a ValueError) with the CLI's message.
The GIL is released while text is encoded, counted or trained on, so Python threads run alongside.
See docs/python.md.
"""

from __future__ import annotations

import os
from typing import Iterable, Sequence, Union

from . import _bpebench
from ._bpebench import Counts, Encoding, Error, Model, tune_allocator

__all__ = [
    "Counts", "Encoding", "Error", "Model", "algorithms", "count", "get_encoding", "list_encoding_names",
    "load", "load_counts", "load_model", "sum_counts", "train", "tune_allocator",
]

# The encoder used unless one is named: backtrack with a piece cache, as `bpebench encode`.
DEFAULT_ENCODER = "cached"
# The trainer used unless one is named, as `bpebench train`.
DEFAULT_TRAINER = "linked"
DEFAULT_PRETOKENIZER = "gpt2"
# An iterable given to train() or count() is consumed in blocks of about this many characters.
BLOCK_CHARS = 8 << 20

_TIKTOKEN_NAMES = ("gpt2", "r50k_base", "cl100k_base", "o200k_base")

PathLike = Union[str, "os.PathLike[str]"]


def algorithms() -> dict:
    """The registry, as `bpebench list` prints it: {"trainers": {name: description}, "encoders": {...},
    "pretokenizers": {...}}. Every trainer gives the same merges and every encoder the same ids."""
    return _bpebench._registry()


def list_encoding_names() -> list:
    """The tiktoken vocabularies get_encoding() knows (their rank files come from the npm tiktoken
    package that scripts/setup installs, or from $BPEBENCH_TIKTOKEN_DIR)."""
    return list(_TIKTOKEN_NAMES)


def get_encoding(name: str, *, algorithm: str = DEFAULT_ENCODER) -> Encoding:
    """A tiktoken vocabulary by name (gpt2, r50k_base, cl100k_base, o200k_base), encoding to tiktoken's
    own ids (encode_ordinary: special tokens are plain text). Prepared once and kept in the cache file
    of `bpebench encode` ($BPEBENCH_CACHE), so later loads take milliseconds."""
    if name not in _TIKTOKEN_NAMES:
        raise Error(f"unknown encoding {name!r} (known: {', '.join(_TIKTOKEN_NAMES)}); "
                    "bpebench.load(path) reads model files")
    return _bpebench._load(name, "", algorithm, True)


def load(path: PathLike, *, algorithm: str = DEFAULT_ENCODER, pretokenizer: str = "",
         use_cache: bool = True) -> Encoding:
    """An Encoding from a model file: a bpebench model (bpebench train, Model.save), an HF
    tokenizer.json (byte-level BPE), a tiktoken JSON rank file, or a .tiktoken file (its pattern from
    `pretokenizer`, else from its file name), exactly as `bpebench encode --model PATH`."""
    return _bpebench._load(os.fspath(path), pretokenizer, algorithm, use_cache)


def load_model(path: PathLike) -> Model:
    """A bpebench model file as a Model (to save elsewhere, export, or make encodings from)."""
    return _bpebench._load_model(os.fspath(path))


def _threads(num_threads):
    return 0 if num_threads is None else int(num_threads)


def _paths(data):
    """The paths of data when it names files (a path, or a list or tuple of paths), else None."""
    if isinstance(data, (str, os.PathLike)):
        return [os.fspath(data)]
    if isinstance(data, (list, tuple)) and data and all(isinstance(d, (str, os.PathLike)) for d in data):
        paths = [os.fspath(d) for d in data]
        for p in paths:
            if not os.path.exists(p) and p != "-" and any(c.isspace() for c in p):
                raise Error(f"'{p[:40]}' is not a file: a list of str is read as file paths; give documents "
                            "as an iterator (iter(texts)) or as bytes")
        return paths
    return None


def count(data, *, pretokenizer: str = DEFAULT_PRETOKENIZER, num_threads: int | None = None,
          binary: bool = False) -> Counts:
    """Counts the distinct pieces of text, as `bpebench count` does.

    data: a path, or a list or tuple of paths (files joined in order, read in 16 MiB blocks, checked to be
    UTF-8 without NUL bytes unless binary=True: the CLI's rules and messages), or any other iterable
    of str or bytes (a generator, iter(list_of_texts), a list of bytes), each item one document
    (pieces end where an item ends, as HF's train_from_iterator treats its items), consumed in blocks of about 8 MiB, so a generator over a
    dataset is never held whole. num_threads: None uses every hardware thread."""
    counter = _bpebench._Counter(pretokenizer, _threads(num_threads))
    paths = _paths(data)
    if paths is not None:
        counter.add_files(paths, binary)
        if counter.bytes == 0:
            raise Error("the input is empty: nothing to count")
        return counter.finish()
    if isinstance(data, (bytes, bytearray)):
        raise TypeError("count takes paths or an iterable of documents; wrap one document in a list")
    block, size = [], 0
    for item in data:
        if isinstance(item, bytearray):
            item = bytes(item)
        if not isinstance(item, (str, bytes)):
            raise TypeError(f"the iterable must yield str or bytes, not {type(item).__name__}")
        block.append(item)
        size += len(item)
        if size >= BLOCK_CHARS:
            counter.add_documents(block)
            block, size = [], 0
    if block:
        counter.add_documents(block)
    if counter.bytes == 0:
        raise Error("the input is empty: nothing to count")
    return counter.finish()


def load_counts(path: PathLike) -> Counts:
    """A count table written by `bpebench count` or Counts.save."""
    return _bpebench._load_counts(os.fspath(path))


def sum_counts(tables: Sequence[Counts]) -> Counts:
    """The tables summed piece by piece (as `bpebench train --counts T1 T2 ...` sums them); they must
    have been counted with the same pre-tokenizer."""
    return _bpebench._sum_counts(list(tables))


def train(data, *, vocab_size: int, algorithm: str = DEFAULT_TRAINER, pretokenizer: str | None = None,
          min_frequency: int = 1, num_threads: int | None = None, binary: bool = False) -> Model:
    """Learns merges until the vocabulary has vocab_size tokens (256 bytes + merges), or the best pair
    occurs fewer than min_frequency times, or no pair is left (Model.stop_reason says which).

    data: what count() takes (paths, or an iterable of documents), or Counts (from count(),
    load_counts(), sum_counts(): the pre-tokenizer is theirs). pretokenizer: gpt2 unless given.
    The model equals, byte for byte, `bpebench train` on the same files (Model.save writes it)."""
    if isinstance(data, Counts):
        if pretokenizer is not None and pretokenizer != data.pretokenizer:
            raise Error(f"pretokenizer {pretokenizer} contradicts the counts, which were counted with "
                        f"{data.pretokenizer}")
        counts = data
    else:
        counts = count(data, pretokenizer=pretokenizer or DEFAULT_PRETOKENIZER, num_threads=num_threads,
                       binary=binary)
    return _bpebench._train(counts, int(vocab_size), algorithm, int(min_frequency), _threads(num_threads))


def _decode(self, ids, errors: str = "replace") -> str:
    """The text the ids stand for: decode_bytes(ids) decoded as UTF-8 with `errors` (as tiktoken's
    decode: "replace" shows a token that ends inside a character as U+FFFD)."""
    return self.decode_bytes(ids).decode("utf-8", errors)


Encoding.decode = _decode
