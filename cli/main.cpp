// bpebench: train, encode and decode with any registered BPE algorithm, and list what is registered.
// Every error is one line on stderr ("bpebench: error: ...") and exit status 1; usage errors are 2.
#include <fmt/core.h>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <bit>
#include <cctype>
#include <charconv>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "algorithms/core/error.h"
#include "algorithms/runtime/file_io.h"
#include "algorithms/formats/counts.h"
#include "algorithms/formats/hf_json.h"
#include "algorithms/runtime/memory.h"
#include "algorithms/formats/tiktoken.h"
#include "algorithms/formats/prepared.h"
#include "algorithms/formats/model_file.h"
#include "algorithms/registry.h"
#include "algorithms/runtime/text.h"
#include "algorithms/pretokenizers/unicode.h"
#include "cli/args.h"
#include "cli/input.h"
#include "cli/search_paths.h"
#include "corpora/corpus.h"
#include "corpora/synthetic.h"

namespace bpe::cli {

// Bytes from files and names as a terminal should show them: control characters, DEL and bytes that
// are not UTF-8 become \xNN, so a message is one line and cannot send escape sequences.
std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    const unicode::Decoded d = b < 0x80 ? unicode::Decoded{b, 1} : unicode::Decode(text, i);
    if (b < 0x20 || b == 0x7F || d.cp == unicode::kInvalid) {
      out += fmt::format("\\x{:02X}", b);
      ++i;
      continue;
    }
    out.append(text.substr(i, d.length));
    i += d.length;
  }
  return out;
}

// What TuneAllocator said at start (for --verbose).
std::string allocator;

namespace {

constexpr uint64_t kMaxVocab = uint64_t{1} << 24;
constexpr uint64_t kMaxThreads = 256;

int DefaultThreads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

constexpr const char* kMainHelp = R"(bpebench: compare byte pair encoding (BPE) trainers and encoders.

usage: bpebench COMMAND [options]     (bpebench COMMAND --help for details)

commands:
  list      what is registered: trainers, encoders, pre-tokenizers, corpora
  train     learn a merge list from text (or from count tables) and write a model file
  count     count the distinct pieces of text into a table that train --counts reads
  encode    turn text into token ids with a model
  decode    turn token ids back into the original bytes
  export    write a model in another tool's format (HuggingFace tokenizer.json)
  corpus    write a corpus's text (checked against its sha256), or synthetic web-like text

Every trainer produces the identical merge list and every encoder the identical ids (canonical
BPE: ties go to the smallest (left id, right id) pair; byte-level, ids 0..255 are the bytes).
The benchmark sweep is a separate program: scripts/bench (see docs/benchmarking.md).
)";

constexpr const char* kListHelp = R"(usage: bpebench list

Prints one tab-separated line per registered item: KIND NAME DESCRIPTION,
where KIND is trainer, encoder, pretokenizer, corpus or vocabulary (tiktoken's, for --model).
)";

constexpr const char* kTrainHelp = R"(usage: bpebench train --vocab-size N --output MODEL [options] (FILE... | --corpus NAME | --counts)

Learns merges until the vocabulary has N tokens (256 bytes + N-256 merges), or until the best pair
occurs fewer than --min-frequency times, or until no pair is left (said on stderr).

options:
  --vocab-size N       target vocabulary size, 256..16777216 (required)
  --output MODEL       model file to write, checked before training: written to a temporary file
                       and renamed into place; - is standard output, a device or FIFO is written
                       to, a symlink is written through; an input file is never overwritten
  --algorithm NAME     trainer (default: linked, linear in the longest piece; see bpebench list)
  --pretokenizer P     gpt2, cl100k, o200k, whitespace or none (default: gpt2)
  --min-frequency F    stop when the best pair occurs fewer than F times (default: 1)
  --threads T          threads for counting words, 1..256 (default: hardware threads)
  --corpus NAME        train on a corpus from corpora/manifest.tsv instead of FILEs
  --counts             the FILEs are count tables written by bpebench count (on shards of the
                       text, on other machines): their counts are summed and trained on, with the
                       pre-tokenizer they were counted with
  --binary             accept input that is not valid UTF-8 or holds NUL bytes
  --verbose            also say how memory is allocated: glibc malloc with transparent huge pages
                       (train and count restart themselves once with GLIBC_TUNABLES set for that,
                       unless it already sets malloc's tunables; docs/performance.md); and where
                       it went: the peak RSS by the end of each phase, and the largest structures
                       (counting tables, word counts, the trainer's) with their bytes per piece
  FILE                 text files, joined in order; - is standard input

Input files (and standard input) are read in 16 MiB blocks and counted as they stream in, so
memory holds the distinct pieces, not the text; a piece longer than a block (a line without
newlines under `none`, say) is held whole. Progress goes to stderr when training takes longer than
a second, then a final summary line with the time, input size, distinct pieces and peak RSS.
Ctrl-C leaves no partial model file behind (nor a temporary one). The summary gives the time of
each phase (counting, the trainer building its tables, the merge loop) and the peak RSS per distinct
piece.
)";

constexpr const char* kCountHelp = R"(usage: bpebench count --output TABLE [options] (FILE... | --corpus NAME)

Counts the distinct pieces of the text (the pre-tokenizer's pieces, as training counts them) and
writes them as a table: a header line, then one line per piece, "piece<TAB>count", sorted by the
pieces' bytes (control bytes, '\' and bytes that are not UTF-8 escaped; see docs/formats.md).
`bpebench train --counts T1 T2 ...` sums tables and trains on them: the same model, byte for byte,
as training on the text whose shards they count, when each shard ends where a piece ends (at a
newline between a line of text and one that starts with a letter, say; not after a blank line:
docs/formats.md). Input streams in 16 MiB blocks, so memory holds the table.

options:
  --output TABLE       where to write it (written to a temporary file and renamed; - is standard
                       output)
  --pretokenizer P     gpt2, cl100k, o200k, whitespace or none (default: gpt2)
  --threads T          counting threads, 1..256 (default: hardware threads)
  --corpus NAME        count a corpus from corpora/manifest.tsv instead of FILEs
  --binary             accept input that is not valid UTF-8 or holds NUL bytes
  --verbose            also say how memory is allocated (as train --verbose)
)";

constexpr const char* kEncodeHelp = R"(usage: bpebench encode --model MODEL [options] [FILE...]

Writes the token ids of each FILE (none, or -: standard input), in the order given, to standard
output or to --output FILE. As text (the default): decimal numbers one space apart, one line per
FILE. As u16 or u32: flat little-endian token files, as training loops memory-map them; as npy: a
NumPy array of uint32. The model is loaded once for all the files. A FILE that cannot be read, or
is not valid UTF-8, stops the run with an error that names it: on standard output after the
output of the files before it; an --output file is then not written at all.

Input is read in 1 MiB blocks and encoded as it arrives (cut at safe boundaries, so the ids are
those of the whole text): memory stays bounded on any input size. To standard output, a regular
FILE is first checked whole (UTF-8, NUL), then its ids stream; standard input is held until read.

A model of 8192 merges or more (every tiktoken vocabulary) is prepared once: its vocabulary and the
encoder's tables are kept in a cache file that later runs map and use as they are (cl100k_base
loads in milliseconds instead of about 0.3 s). The folder is $BPEBENCH_CACHE, else
$XDG_CACHE_HOME/bpebench, else ~/.cache/bpebench; BPEBENCH_CACHE=off uses none. A changed model
file gets a new cache file; a damaged one is rebuilt (docs/formats.md).

options:
  --model MODEL        model file written by bpebench train, or a tiktoken vocabulary: gpt2,
                       r50k_base, cl100k_base, o200k_base (from the npm tiktoken package that
                       scripts/setup installs), a tiktoken JSON rank file, or a .tiktoken file;
                       ids are then tiktoken's and match tiktoken's encode_ordinary
  --pretokenizer P     the pattern of a .tiktoken file (gpt2, cl100k, o200k), when its file name
                       does not say; for any other model, an error unless it is the model's own
  --algorithm NAME     encoder (default: cached, i.e. backtrack with a piece cache; see bpebench
                       list); all give identical ids
  --threads T          encode in T chunks split at piece boundaries, 1..256 (default: 1)
  --format F           text (default), u16 (refused when the model has ids above 65535), u32, npy
  --output FILE        write there instead of standard output: written to a temporary file and
                       renamed into place when complete (see train --help for what FILE may be;
                       npy to a FIFO or device is held in memory, as its header needs the length)
  --separator ID       u16, u32, npy: put token ID between the files' ids (an end-of-text token)
  --binary             accept input that is not valid UTF-8 or holds NUL bytes
)";

constexpr const char* kDecodeHelp = R"(usage: bpebench decode --model MODEL [--pretokenizer P] [FILE]

Reads token ids (decimal, separated by whitespace) from FILE or standard input and writes the bytes
they stand for. An id that is not in the model is an error, and then nothing is written. MODEL is
what encode --model accepts (tiktoken vocabularies included; their special tokens do not decode),
prepared through the same cache as encode's.
)";

constexpr const char* kCorpusHelp = R"(usage: bpebench corpus NAME
       bpebench corpus --synthetic --bytes SIZE [options]

Writes the text of corpus NAME from corpora/manifest.tsv (its files joined, each checked against
its sha256; packed ones unpacked once into the cache) to standard output, for tools and scripts
that want the file itself.

With --synthetic, writes text with the statistics of web text at any size instead: Zipf-distributed
word frequencies over many word types, so distinct words keep growing with the size (Heaps' law),
and words whose letters follow the default corpus's letter statistics. The same options give the
same bytes on any machine and thread count. For measuring training at scale (scripts/train-scale);
the model is in docs/benchmarking.md#synthetic-text.

options (--synthetic):
  --bytes SIZE         how much text: a number of bytes, or with K, M, G or T (10^3 .. 10^12);
                       cut at a character boundary (up to 3 bytes fewer)
  --seed N             the random seed (default: 1)
  --types N            word types to draw from (default: 50000000)
  --zipf S             Zipf exponent of the word frequencies, 1.0001..4 (default: 1.07)
  --scripts LIST       latin, cyrillic, greek, comma-separated: each word type in one of them
                       (default: latin)
  --threads T          threads making the text (default: hardware threads)
  --output FILE        write there instead of standard output (atomically: a temporary file renamed
                       into place when complete)
)";

constexpr const char* kExportHelp = R"(usage: bpebench export --model MODEL --format hf [--output FILE]

Writes a model in another tool's format, to FILE (written to a temporary name, then renamed; see
train --help for what --output accepts) or to standard output (no --output, or --output -).

  --format hf   HuggingFace tokenizers' tokenizer.json: byte-level BPE with GPT-2's byte-to-unicode
                alphabet, the ByteLevel pre-tokenizer (GPT-2's pattern, no prefix space) and the
                ByteLevel decoder. The ids are bpebench's own (bytes 0..255, merge k = 256 + k), so HF
                encodes to the same ids as bpebench (checked by the harness and the tests with the npm
                tokenizers package). Only gpt2 models can be exported, and not a model in which two
                tokens have the same bytes (HF maps a token string to one id); both are errors.
)";

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

int List() {
  for (const auto& t : Trainers()) fmt::print("trainer\t{}\t{}\n", t.name, t.description);
  for (const auto& e : Encoders()) fmt::print("encoder\t{}\t{}\n", e.name, e.description);
  for (const auto& p : PreTokenizers()) fmt::print("pretokenizer\t{}\t{}\n", p.name, p.description);
  try {
    for (const auto& c : LoadManifest()) {
      fmt::print("corpus\t{}\t{} ({} files, {} bytes{})\n", c.name, c.files[0].origin, c.files.size(),
                 c.bytes(), c.files[0].unpacked_sha256.empty() ? "" : " packed");
    }
  } catch (const Error& e) {
    fmt::print(stderr, "bpebench: warning: no corpora listed: {}\n", e.what());
  }
  for (const char* v : {"gpt2", "r50k_base", "cl100k_base", "o200k_base"}) {
    const std::string file = FindTiktokenFile(v);
    fmt::print("vocabulary\t{}\ttiktoken's ranks, for encode/decode --model {} ({})\n", v, v,
               !file.empty() ? file : "missing: scripts/setup installs the npm tiktoken package");
  }
  return 0;
}

// Counts the distinct pieces of FILEs (or --corpus) as they stream in: memory holds the counts and
// one block, not the text. Progress on stderr every 2 s.
// `sorted`: by bytes (for a count table), or in any order (for a trainer: WordCounter::Finish).
WordCounts CountInput(const Args& args, const PreTokenizer& pre, int threads, uint64_t* input_bytes,
                      std::string_view purpose, bool sorted, uint64_t* table_bytes = nullptr) {
  const auto start = std::chrono::steady_clock::now();
  const bool has_corpus = args.Has("--corpus");
  if (has_corpus == !args.positional().empty()) Fail("give either input FILEs or --corpus NAME");
  WordCounter counter(pre, threads);
  if (has_corpus) {
    counter.Add(LoadCorpusText(args.Get("--corpus")));  // checked against its sha256
  } else {
    double last_report = 0;
    CountFiles(args.positional(), args.Has("--binary"), counter, [&] {
      if (const double t = Seconds(start); t - last_report >= 2) {
        last_report = t;
        fmt::print(stderr, "count: {:.0f} MB read, {:.1f} s\n", counter.bytes_seen() / 1e6, t);
      }
    });
  }
  *input_bytes = counter.bytes_seen();
  if (*input_bytes == 0) Fail("the input is empty: nothing to {}", purpose);
  if (table_bytes != nullptr) *table_bytes = counter.table_bytes();
  return counter.Finish(sorted);
}

// The count tables of train --counts, summed; their pre-tokenizer (they must agree).
WordCounts SumCountTables(const std::vector<std::string>& files, std::string* pretokenizer, uint64_t* table_bytes) {
  if (files.empty()) Fail("--counts needs count table FILEs (written by bpebench count)");
  std::vector<CountTable> tables;
  for (const std::string& f : files) {
    const std::string text = ReadFile(f, uint64_t{64} << 30, "a count table");
    *table_bytes += text.size();
    tables.push_back(ParseCounts(text, f));
    if (tables.size() > 1 && tables.back().pretokenizer != tables.front().pretokenizer) {
      Fail("{} was counted with the {} pre-tokenizer and {} with {}: tables to be summed must agree", f,
           tables.back().pretokenizer, files.front(), tables.front().pretokenizer);
    }
  }
  *pretokenizer = tables.front().pretokenizer;
  FindPreTokenizer(*pretokenizer);  // a known one, or an error naming the known ones
  std::vector<const WordCounts*> parts;
  for (const CountTable& t : tables) parts.push_back(&t.counts);
  return SumCounts(parts);
}

int Count(const Args& args) {
  if (args.Has("--verbose")) fmt::print(stderr, "count: allocator: {}\n", allocator);
  const OutputFile output(args.Required("--output"), args.positional(), true);
  const PreTokenizerInfo& pre = FindPreTokenizer(args.Get("--pretokenizer", "gpt2"));
  const int threads = static_cast<int>(args.Uint("--threads", DefaultThreads(), 1, kMaxThreads));
  const auto start = std::chrono::steady_clock::now();
  uint64_t input_bytes = 0;
  const WordCounts counts = CountInput(args, pre.get(), threads, &input_bytes, "count", true);
  output.Write(SerializeCounts(counts, pre.name));
  fmt::print(stderr, "counted {} distinct pieces in {} bytes in {:.3f} s, peak RSS {:.0f} MB; wrote {}\n", counts.size(),
             input_bytes, Seconds(start), PeakRssBytes() / 1e6, output.is_stdout() ? "the table to standard output" : output.path());
  return 0;
}

int Train(const Args& args) {
  if (args.Has("--verbose")) fmt::print(stderr, "train: allocator: {}\n", allocator);
  if (!args.Has("--vocab-size")) Fail("option --vocab-size is required (see --help)");
  const auto vocab =
      static_cast<uint32_t>(args.Uint("--vocab-size", 0, kByteAlphabet, kMaxVocab, "the 256-byte alphabet"));
  // Checked before any work: a path that cannot be written fails now, not after the training.
  const OutputFile output(args.Required("--output"), args.positional(), true);
  const TrainerInfo& trainer = FindTrainer(args.Get("--algorithm", "linked"));
  TrainOptions options;
  options.vocab_size = vocab;
  options.min_frequency = args.Uint("--min-frequency", 1, 1, UINT64_MAX);
  options.threads = static_cast<int>(args.Uint("--threads", DefaultThreads(), 1, kMaxThreads));

  // 1. The counts: from the text as it streams in, or summed from count tables.
  const auto start = std::chrono::steady_clock::now();
  uint64_t input_bytes = 0;
  std::string pretokenizer = args.Get("--pretokenizer", "gpt2");
  WordCounts counts;
  uint64_t table_bytes = 0;  // the counting tables' (not with --counts)
  if (args.Has("--counts")) {
    if (args.Has("--corpus") || args.Has("--binary")) Fail("--counts reads count tables: --corpus and --binary do not apply");
    std::string counted;
    counts = SumCountTables(args.positional(), &counted, &input_bytes);
    if (args.Has("--pretokenizer") && counted != pretokenizer) {
      Fail("--pretokenizer {} contradicts the tables, which were counted with {}", pretokenizer, counted);
    }
    pretokenizer = counted;
  } else {
    counts = CountInput(args, FindPreTokenizer(pretokenizer).get(), options.threads, &input_bytes, "train on",
                        false, &table_bytes);
  }

  const double counting_s = Seconds(start);
  double last_report = 0;
  options.progress = [&](const TrainProgress& p) {
    const double t = Seconds(start);
    if (t < 1.0 || t - last_report < 0.5) return;
    last_report = t;
    fmt::print(stderr, "train: {}/{} merges, last pair count {}, {:.1f} s\n", p.merges_done,
               p.merges_target, p.last_count, t);
  };
  const size_t distinct = counts.size();
  const uint64_t peak_counting = PeakRssBytes();
  uint64_t peak_built = 0, counts_bytes = 0;
  if (args.Has("--verbose")) {
    counts_bytes = counts.capacity() * sizeof(WordCount);
    for (const WordCount& wc : counts) counts_bytes += wc.word.capacity() > 15 ? wc.word.capacity() + 1 : 0;
  }
  // The trainer says when it no longer reads the counts: they are freed before its merge loop.
  options.input_done = [&] {
    peak_built = PeakRssBytes();
    WordCounts().swap(counts);
  };
  TrainResult result = trainer.make()->Train(counts, options);
  output.Write(SerializeModel({pretokenizer, result.merges}));
  // Phases: counting (or reading the tables), the trainer building its tables, the merge loop; and
  // the peak memory per distinct piece, which is what grows with web-scale text (docs/performance.md).
  const double total_s = Seconds(start);
  const uint64_t peak = PeakRssBytes();
  fmt::print(stderr, "trained {} merges (vocabulary {}) with {} in {:.3f} s ({} {:.3f} s, building {:.3f} s, merge loop "
             "{:.3f} s) from {} bytes{}, {} distinct pieces, peak RSS {:.0f} MB ({:.0f} bytes per distinct piece); "
             "stopped: {}; wrote {}\n",
             result.merges.size(), kByteAlphabet + result.merges.size(), trainer.name, total_s,
             args.Has("--counts") ? "reading the tables" : "counting", counting_s, result.build_seconds,
             std::max(0.0, total_s - counting_s - result.build_seconds), input_bytes,
             args.Has("--counts") ? " of count tables" : "", distinct, peak / 1e6,
             distinct == 0 ? 0.0 : static_cast<double>(peak) / static_cast<double>(distinct),
             StopReasonText(result.stop), output.is_stdout() ? "the model to standard output" : output.path());
  if (args.Has("--verbose")) {
    // Where the memory went: the peak by the end of each phase, and the largest structures.
    auto per_piece = [&](uint64_t bytes) { return distinct == 0 ? 0.0 : static_cast<double>(bytes) / static_cast<double>(distinct); };
    std::string parts;
    if (table_bytes > 0) parts += fmt::format("counting tables {:.0f} MB ({:.0f} B a piece); ", table_bytes / 1e6, per_piece(table_bytes));
    parts += fmt::format("word counts {:.0f} MB ({:.0f} B a piece)", counts_bytes / 1e6, per_piece(counts_bytes));
    for (const MemoryUse& m : result.memory) parts += fmt::format("; {} {:.0f} MB ({:.0f} B a piece)", m.what, m.bytes / 1e6, per_piece(m.bytes));
    fmt::print(stderr, "train: peak RSS by the end of {} {:.0f} MB{}, of the merge loop {:.0f} MB\n",
               args.Has("--counts") ? "reading the tables" : "counting", peak_counting / 1e6,
               peak_built > 0 ? fmt::format(", of building {:.0f} MB", peak_built / 1e6) : std::string(), peak / 1e6);
    fmt::print(stderr, "train: memory: {}\n", parts);
  }
  if (result.stop != StopReason::kVocabSize) {
    fmt::print(stderr, "note: the vocabulary size {} was not reached\n", vocab);
  }
  return 0;
}

std::string OneInput(const Args& args) {
  if (args.positional().size() > 1) Fail("give at most one input FILE");
  return args.positional().empty() ? "-" : args.positional()[0];
}

// The model of --model with its vocabulary, through the prepared-model cache ($BPEBENCH_CACHE,
// prepared.h), with a note when a file in the way hides a tiktoken vocabulary of the same name.
PreparedModel LoadModelArg(const Args& args) {
  const std::string spec = args.Required("--model");
  std::error_code ec;
  if (IsTiktokenName(spec) && std::filesystem::exists(spec, ec)) {
    fmt::print(stderr, "bpebench: note: reading the file '{}' in this folder, not tiktoken's {} vocabulary "
               "(give a path, such as ./{}, to silence this)\n", Printable(spec), spec, Printable(spec));
  }
  PreparedModel p = LoadPreparedModel(spec, args.Get("--pretokenizer"), PreparedCacheDir());
  if (!p.note.empty()) fmt::print(stderr, "bpebench: note: {}\n", Printable(p.note));
  return p;
}

// The ids of `encode`, written as they come in the chosen format: text lines, flat little-endian
// u16/u32, or a NumPy .npy file (uint32) whose header is filled in when the length is known.
static_assert(std::endian::native == std::endian::little, "u16, u32 and npy are written in native byte order");

// The decimal digits of v at p; returns the end. Two digits per step from a table.
char* WriteDecimal(char* p, uint32_t v) {
  static constexpr char kPairs[] =
      "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
      "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
      "8081828384858687888990919293949596979899";
  char tmp[10];
  char* end = tmp + sizeof tmp;
  char* q = end;
  while (v >= 100) {
    const uint32_t r = v % 100;
    v /= 100;
    q -= 2;
    std::memcpy(q, kPairs + 2 * r, 2);
  }
  if (v >= 10) {
    q -= 2;
    std::memcpy(q, kPairs + 2 * v, 2);
  } else {
    *--q = static_cast<char>('0' + v);
  }
  const size_t n = static_cast<size_t>(end - q);
  std::memcpy(p, q, n);
  return p + n;
}

class IdWriter {
 public:
  enum class Format { kText, kU16, kU32, kNpy };

  IdWriter(const OutputFile& file, Format format) : stream_(file), format_(format) {
    if (format_ == Format::kNpy) {
      hold_npy_ = !file.seekable();
      if (!hold_npy_) stream_.Write(NpyHeader(0));
    }
  }
  // Appends ids to the current document (one FILE), buffered; Flush() writes them out. Converted in
  // one pass per call into room made once (at most 11 characters per id as text).
  void Add(const std::vector<TokenId>& ids, const PreparedModel& model) {
    const size_t at = buffer_.size();
    switch (format_) {
      case Format::kText: {
        buffer_.resize(at + 11 * ids.size());
        char* p = buffer_.data() + at;
        for (TokenId id : ids) {
          if (!line_start_) *p++ = ' ';
          line_start_ = false;
          p = WriteDecimal(p, model.ExternalId(id));
        }
        buffer_.resize(static_cast<size_t>(p - buffer_.data()));
        break;
      }
      case Format::kU16: {
        buffer_.resize(at + 2 * ids.size());
        char* p = buffer_.data() + at;
        for (TokenId id : ids) {
          const uint16_t v = static_cast<uint16_t>(model.ExternalId(id));  // checked to fit before
          std::memcpy(p, &v, 2);
          p += 2;
        }
        break;
      }
      case Format::kU32:
      case Format::kNpy: {
        buffer_.resize(at + 4 * ids.size());
        char* p = buffer_.data() + at;
        for (TokenId id : ids) {
          const uint32_t v = model.ExternalId(id);
          std::memcpy(p, &v, 4);
          p += 4;
        }
        break;
      }
    }
    count_ += ids.size();
    if (buffer_.size() >= (1 << 20) && !hold_) Flush();
  }
  // One id on its own (a --separator).
  void Put(uint32_t id) {
    const char b[4] = {static_cast<char>(id & 0xFF), static_cast<char>((id >> 8) & 0xFF),
                       static_cast<char>((id >> 16) & 0xFF), static_cast<char>(id >> 24)};
    buffer_.append(b, format_ == Format::kU16 ? 2 : 4);
    ++count_;
  }
  void EndDocument() {
    if (format_ == Format::kText) {
      buffer_ += '\n';
      line_start_ = true;
    }
  }
  // While held (standard output, until a FILE is complete), nothing is written.
  void Hold(bool hold) { hold_ = hold; }
  void Flush() {
    if (hold_npy_) {
      held_npy_ += buffer_;
    } else {
      stream_.Write(buffer_);
    }
    buffer_.clear();
  }
  void Finish() {
    Flush();
    if (format_ == Format::kNpy) {
      if (hold_npy_) {
        stream_.Write(NpyHeader(count_));
        stream_.Write(held_npy_);
      } else {
        stream_.WriteAt(0, NpyHeader(count_));
      }
    }
    stream_.Commit();
  }

 private:
  // NumPy format 1.0: magic, version, header length, then a dict padded with spaces to 128 bytes in
  // all (a multiple of 64, room for any length), ending in a newline.
  static std::string NpyHeader(uint64_t count) {
    std::string dict = fmt::format("{{'descr': '<u4', 'fortran_order': False, 'shape': ({},), }}", count);
    std::string header = std::string("\x93NUMPY\x01\x00", 8) + std::string(2, '\0') + dict;
    header.resize(127, ' ');
    header += '\n';
    const uint16_t len = static_cast<uint16_t>(header.size() - 10);
    header[8] = static_cast<char>(len & 0xFF);
    header[9] = static_cast<char>(len >> 8);
    return header;
  }

  OutputStream stream_;
  Format format_;
  std::string buffer_, held_npy_;
  bool line_start_ = true, hold_ = false, hold_npy_ = false;
  uint64_t count_ = 0;
};

int Encode(const Args& args) {
  const PreparedModel model = LoadModelArg(args);
  const Vocabulary& vocab = *model.vocab;
  const EncoderInfo& encoder = FindEncoder(args.Get("--algorithm", "cached"));
  const int threads = static_cast<int>(args.Uint("--threads", 1, 1, kMaxThreads));
  std::vector<std::string> files = args.positional();
  if (files.empty()) files.push_back("-");
  if (std::count(files.begin(), files.end(), "-") > 1) Fail("standard input (-) can be given once");
  const std::string format_name = args.Get("--format", "text");
  const std::map<std::string, IdWriter::Format> formats = {{"text", IdWriter::Format::kText},
                                                           {"u16", IdWriter::Format::kU16},
                                                           {"u32", IdWriter::Format::kU32},
                                                           {"npy", IdWriter::Format::kNpy}};
  if (!formats.count(format_name)) Fail("unknown --format '{}' (text, u16, u32, npy)", Printable(format_name));
  const IdWriter::Format format = formats.at(format_name);
  uint32_t max_id = vocab.size() - 1;
  for (uint32_t id : model.external_ids) max_id = std::max(max_id, id);
  std::optional<uint32_t> separator;
  if (args.Has("--separator")) {
    if (format == IdWriter::Format::kText) Fail("--separator is for --format u16, u32 or npy (text puts each file on its own line)");
    separator = static_cast<uint32_t>(args.Uint("--separator", 0, 0, UINT32_MAX));
  }
  if (format == IdWriter::Format::kU16) {
    if (max_id > 0xFFFF) {
      Fail("--format u16 holds ids up to 65535, and this model's ids go up to {}: use --format u32", max_id);
    }
    if (separator && *separator > 0xFFFF) Fail("--separator {} does not fit --format u16 (up to 65535)", *separator);
  }
  const std::string output_path = args.Get("--output", "-");
  const OutputFile output(output_path, files, true);
  if (output.is_stdout() && format != IdWriter::Format::kText && ::isatty(STDOUT_FILENO)) {
    Fail("--format {} is binary: give --output FILE or redirect standard output", format_name);
  }
  const PreTokenizer& pre = FindPreTokenizer(model.pretokenizer).get();
  IdWriter writer(output, format);
  // On standard output a FILE's ids are written once it has been read whole (an error in it then
  // leaves the lines before it complete); to a file they stream (the file appears only on success).
  writer.Hold(output.is_stdout());
  StreamEncoder stream(pre, encoder.make, vocab, threads, [&](const std::vector<TokenId>& ids) { writer.Add(ids, model); });
  for (size_t i = 0; i < files.size(); ++i) {
    if (i > 0 && separator) writer.Put(*separator);
    const std::string& file = files[i];
    // To standard output, a regular FILE is checked in a first pass (a page-cache read) and then
    // written as it is encoded; other inputs (standard input, a FIFO) are held until read whole.
    std::error_code ec;
    if (output.is_stdout() && file != "-" && std::filesystem::is_regular_file(file, ec)) {
      StreamCheck first(file, args.Has("--binary"));
      ReadFileInBlocks(file, 1 << 20, [&](std::string_view block) { first.Add(block); });
      first.Finish();
      writer.Hold(false);
    } else {
      writer.Hold(output.is_stdout());
    }
    StreamCheck check(file == "-" ? "standard input" : file, args.Has("--binary"));
    // Blocks of 1 MiB: the stream reuses the same buffers for each (fresh memory costs more than
    // the per-block work on a virtual machine: docs/performance.md).
    ReadFileInBlocks(file, 1 << 20, [&](std::string_view block) {
      check.Add(block);
      stream.Add(block);
    });
    check.Finish();
    stream.Finish();
    writer.EndDocument();
    if (output.is_stdout()) writer.Flush();
  }
  writer.Finish();
  return 0;
}

int Decode(const Args& args) {
  const PreparedModel model = LoadModelArg(args);
  const std::vector<TokenId> internal = model.InternalIds();
  // Read until the first byte that cannot be part of the ids (the parse below names it), so that a
  // file that is not ids (/dev/zero, say) is refused at its first block.
  std::string input;
  struct NotIds {};
  try {
    ReadFileInBlocks(OneInput(args), 1 << 20, [&](std::string_view block) {
      input += block;
      for (char c : block) {
        if (!IsAsciiSpace(c) && (c < '0' || c > '9')) throw NotIds{};
      }
    });
  } catch (const NotIds&) {
  }
  std::vector<TokenId> ids;
  for (size_t i = 0; i < input.size();) {
    if (IsAsciiSpace(input[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    uint64_t v = 0;
    while (j < input.size() && input[j] >= '0' && input[j] <= '9') {
      v = std::min<uint64_t>(v * 10 + (input[j++] - '0'), uint64_t{UINT32_MAX} + 1);  // saturate
    }
    if (j == i || (j < input.size() && !IsAsciiSpace(input[j]))) {
      Fail("decode input: '{}' at byte {} is not a token id",
           input.substr(i, std::min<size_t>(20, input.find_first_of(" \t\n\r", i) - i)), i);
    }
    if (v > UINT32_MAX) Fail("decode input: the number at byte {} is too large for a token id", i);
    if (v >= internal.size() || internal[v] == Model::kNoToken) {
      Fail("decode input: token id {} (at byte {}) is not in the model{}", v, i,
           model.external_ids.empty() ? "" : " (special tokens are not decoded)");
    }
    ids.push_back(internal[v]);
    i = j;
  }
  std::string out;
  model.vocab->Decode(ids, out);  // throws before anything is written
  WriteStdout(out, "the decoded bytes");
  return 0;
}

int Export(const Args& args) {
  if (!args.positional().empty()) Fail("export takes no file arguments (see --help)");
  const std::string format = args.Required("--format");
  if (format != "hf") Fail("--format: unknown format '{}' (known: hf)", format);
  const std::string model = args.Required("--model");
  const OutputFile output(args.Get("--output", "-"), {model}, true);
  output.Write(ExportHfTokenizerJson(LoadModel(model)));
  return 0;
}

// "100M", "1G", "12345": bytes, with a decimal suffix.
uint64_t ParseSize(const std::string& name, const std::string& text) {
  static const std::map<char, uint64_t> kSuffix = {{'K', 1'000}, {'M', 1'000'000}, {'G', 1'000'000'000},
                                                    {'T', 1'000'000'000'000}};
  std::string digits = text;
  uint64_t scale = 1;
  if (!digits.empty() && kSuffix.count(static_cast<char>(std::toupper(static_cast<unsigned char>(digits.back()))))) {
    scale = kSuffix.at(static_cast<char>(std::toupper(static_cast<unsigned char>(digits.back()))));
    digits.pop_back();
  }
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || v == 0 || v > (uint64_t{1} << 50) / scale) {
    Fail("{} '{}' is not a size (a whole number of bytes from 1, with K, M, G or T; at most 2^50)", name, Printable(text));
  }
  return v * scale;
}

int Corpus(const Args& a) {
  if (!a.Has("--synthetic")) {
    for (const char* o : {"--bytes", "--seed", "--types", "--zipf", "--scripts", "--threads", "--output"}) {
      if (a.Has(o)) Fail("{} is an option of corpus --synthetic", o);
    }
    if (a.positional().size() != 1) Fail("corpus takes one corpus name (see bpebench list), or --synthetic");
    WriteStdout(LoadCorpusText(a.positional()[0]), "the corpus");
    return 0;
  }
  if (!a.positional().empty()) Fail("corpus --synthetic takes no corpus name");
  SyntheticOptions o;
  o.bytes = ParseSize("--bytes", a.Required("--bytes"));
  o.seed = a.Uint("--seed", 1, 0, UINT64_MAX);
  o.types = a.Uint("--types", o.types, 1, uint64_t{1} << 40);
  if (a.Has("--zipf")) {
    const std::string z = a.Get("--zipf");
    double v = 0;
    const auto [end, ec] = std::from_chars(z.data(), z.data() + z.size(), v);
    if (z.empty() || ec != std::errc() || end != z.data() + z.size()) Fail("--zipf '{}' is not a number", Printable(z));
    o.zipf = v;
  }
  if (a.Has("--scripts")) {
    o.scripts.clear();
    const std::string list = a.Get("--scripts");
    for (size_t at = 0; at <= list.size();) {
      const size_t comma = std::min(list.find(',', at), list.size());
      o.scripts.push_back(list.substr(at, comma - at));
      at = comma + 1;
    }
  }
  o.threads = static_cast<int>(a.Uint("--threads", DefaultThreads(), 1, kMaxThreads));
  const OutputFile output(a.Get("--output", "-"), {}, true);
  const auto start = std::chrono::steady_clock::now();
  OutputStream stream(output);
  uint64_t written = 0;
  double last_report = 0;
  GenerateSynthetic(o, [&](std::string_view block) {
    stream.Write(block);
    written += block.size();
    if (const double t = Seconds(start); t - last_report >= 2) {
      last_report = t;
      fmt::print(stderr, "corpus: {:.0f} of {:.0f} MB written, {:.1f} s\n", written / 1e6, o.bytes / 1e6, t);
    }
  });
  stream.Commit();
  fmt::print(stderr, "wrote {} bytes of synthetic text (seed {}, {} word types, Zipf {}, {}) in {:.2f} s{}\n", written,
             o.seed, o.types, o.zipf, fmt::join(o.scripts, ","), Seconds(start),
             output.is_stdout() ? "" : fmt::format(" to {}", output.path()));
  return 0;
}

int Run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kMainHelp, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  struct Command {
    const char* name;
    const char* help;
    std::set<std::string> valued, flags;  // the options it takes
    int (*run)(const Args&);
  };
  static const Command kCommands[] = {
      {"list", kListHelp, {}, {}, [](const Args& a) {
         if (!a.positional().empty()) Fail("list takes no arguments");
         return List();
       }},
      {"train", kTrainHelp,
       {"--vocab-size", "--output", "--algorithm", "--pretokenizer", "--min-frequency", "--threads", "--corpus"},
       {"--binary", "--counts", "--verbose"}, Train},
      {"count", kCountHelp, {"--output", "--pretokenizer", "--threads", "--corpus"}, {"--binary", "--verbose"}, Count},
      {"encode", kEncodeHelp, {"--model", "--algorithm", "--threads", "--pretokenizer", "--format", "--output", "--separator"}, {"--binary"}, Encode},
      {"decode", kDecodeHelp, {"--model", "--pretokenizer"}, {}, Decode},
      {"export", kExportHelp, {"--model", "--format", "--output"}, {}, Export},
      {"corpus", kCorpusHelp, {"--bytes", "--seed", "--types", "--zipf", "--scripts", "--threads", "--output"},
       {"--synthetic"}, Corpus},
  };
  for (const Command& c : kCommands) {
    if (command != c.name) continue;
    const Args parsed(args, c.valued, c.flags);
    if (parsed.help()) {
      std::fputs(c.help, stdout);
      return 0;
    }
    return c.run(parsed);
  }
  Fail("unknown command '{}' (commands: list, train, count, encode, decode, export, corpus; see --help)", command);
}

}  // namespace
}  // namespace bpe::cli

int main(int argc, char** argv) {
  // train and count build tables of gigabytes on web-scale text: with huge pages (memory.h).
  if (argc > 1 && (std::strcmp(argv[1], "train") == 0 || std::strcmp(argv[1], "count") == 0)) {
    bpe::ReexecWithHugePages(argv);
  }
  bpe::cli::allocator = bpe::TuneAllocator();
  bpe::InstallSignalCleanup("bpebench: interrupted (no partial output file is left)\n");
  bpe::cli::UseDefaultSearchPaths();
  try {
    return bpe::cli::Run(argc, argv);
  } catch (const bpe::Error& e) {
    fmt::print(stderr, "bpebench: error: {}\n", bpe::cli::Printable(e.message()));
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "bpebench: error: out of memory\n");
  } catch (const std::exception& e) {
    fmt::print(stderr, "bpebench: error: {}\n", e.what());
  }
  return 1;
}
