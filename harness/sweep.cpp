#include "harness/sweep.h"
#include "harness/sweep_internal.h"

#include <benchmark/benchmark.h>
#include <fmt/core.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <chrono>
#include <cmath>
#include <functional>
#include <thread>
#include <map>
#include <set>
#include <memory>

#include "algorithms/core/model.h"
#include "algorithms/registry.h"
#include "algorithms/formats/tiktoken.h"
#include "algorithms/runtime/text.h"
#include "algorithms/core/vocabulary.h"
#include "algorithms/pretokenizers/unicode.h"
#include "algorithms/core/error.h"
#include "algorithms/runtime/file_io.h"
#include "corpora/corpus.h"
#include "corpora/sha256.h"
#include "corpora/synthetic.h"
#include "harness/counting.h"

namespace bpe::harness {

namespace {
std::atomic<bool> interrupted{false};
}  // namespace

namespace {
ProgressSink* checks_sink = nullptr;  // set while PrepareSweep runs
}  // namespace

void Check(const std::string& name) {
  if (checks_sink) {
    checks_sink->Checking(name);
  } else {
    Check(name);
  }
}

bool Interrupted() { return interrupted.load(std::memory_order_relaxed); }
void RequestInterrupt() { interrupted.store(true, std::memory_order_relaxed); }

namespace {

constexpr uint64_t kMaxUserCorpusBytes = uint64_t{4} << 30;  // held in memory whole, as every corpus is

// `bytes` of `text` (about): 16 windows at even spacing, each cut at safe piece boundaries, joined.
std::string SampleText(std::string_view text, size_t bytes, const PreTokenizer& pre) {
  constexpr size_t kWindows = 16;
  std::string out;
  for (size_t i = 0; i < kWindows; ++i) {
    const size_t start = pre.SafeBoundary(text, text.size() / kWindows * i);
    const size_t end = pre.SafeBoundary(text, std::min(text.size(), start + bytes / kWindows));
    if (start < end) out.append(text.substr(start, end - start));
  }
  return out;
}

// A corpus from the manifest (checked against its sha256s), or the user's own text (--corpus PATH:
// a file, or a folder whose files are joined in name order), with its sha256 in the results.
std::shared_ptr<CorpusData> LoadCorpus(const Settings& s, const std::string& name, bool user, const PreTokenizer& pre) {
  auto c = std::make_shared<CorpusData>();
  std::vector<std::string> hashes;
  if (user) {
    namespace fs = std::filesystem;
    std::error_code ec;
    std::vector<std::string> files;
    if (fs::is_directory(name, ec)) {
      for (fs::recursive_directory_iterator it(name, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_regular_file(ec)) files.push_back(it->path().string());  // links to files too; not devices
      }
      if (ec) Fail("--corpus {}: cannot list the folder: {}", name, ec.message());
      std::sort(files.begin(), files.end());
      if (files.empty()) Fail("--corpus {}: the folder holds no files", name);
    } else if (fs::is_regular_file(name, ec)) {
      files.push_back(name);
    } else {
      Fail("--corpus {}: {}", name, fs::exists(name, ec) ? "not a regular file or folder" : "no such file or folder");
    }
    for (const std::string& f : files) {
      const std::string data = ReadFile(f, kMaxUserCorpusBytes - c->text.size(), "a corpus file");
      // Text only: the peers take strings, and a tokenizer benchmark on bytes that are not text
      // would compare replacement characters.
      if (const size_t bad = unicode::FirstInvalidUtf8(data); bad < data.size()) {
        Fail("--corpus {}: {} is not UTF-8 text (invalid byte at offset {})", name, f, bad);
      }
      if (data.find('\0') != std::string::npos) Fail("--corpus {}: {} holds NUL bytes: not text", name, f);
      hashes.push_back(fmt::format("{}={}", fs::path(f).filename().string(), Sha256Hex(data)));
      c->text += data;
    }
    if (c->text.empty()) Fail("--corpus {}: no text (the files are empty)", name);
    std::string base = fs::path(name).lexically_normal().filename().string();
    if (base.empty() || base == "." || base == "..") base = fs::path(name).lexically_normal().parent_path().filename().string();
    for (char& ch : base) {
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.') ch = '_';
    }
    c->name = "user_" + base.substr(0, 40);
    if (files.size() == 1) hashes = {fmt::format("{}={}", name, Sha256Hex(c->text))};
  } else {
    c->name = name;
    const std::vector<CorpusInfo> manifest = LoadManifest();
    const CorpusInfo& info = FindCorpus(manifest, name);
    c->text = LoadCorpusText(info);
    for (const auto& f : info.files) hashes.push_back(f.path + "=" + f.sha256);
  }
  if (s.sample_bytes > 0 && c->text.size() > s.sample_bytes) {
    const size_t whole = c->text.size();
    c->text = SampleText(c->text, s.sample_bytes, pre);
    hashes.push_back(fmt::format("(sampled: {} of {} bytes, 16 windows)", c->text.size(), whole));
  }
  const std::string_view text = c->text;
  const size_t cut = pre.SafeBoundary(text, static_cast<size_t>(text.size() * (1 - s.held_out_fraction)));
  c->train = text.substr(0, cut);
  c->held_out = text.substr(cut);
  if (c->train.empty() || c->held_out.empty()) {
    Fail("corpus {} ({} bytes) is too small to split into training and held-out text", c->name, text.size());
  }
  // One thread when counting: threads would allocate in an order that differs from run to run.
  c->counts = CountWords(c->train, pre, Counting() ? 1 : static_cast<int>(std::thread::hardware_concurrency()));
  benchmark::AddCustomContext("bpebench_corpus_" + c->name,
                              fmt::format("{}{} bytes ({} train, {} held out), {} distinct pieces; sha256 {}",
                                          user ? fmt::format("the user's text from {}: ", name) : "", text.size(),
                                          c->train.size(), c->held_out.size(), c->counts.size(), fmt::join(hashes, " ")));
  return c;
}

void CountBenchmarks(Registrar& reg, const std::shared_ptr<CorpusData>& c) {
  for (const auto& p : PreTokenizers()) {
    const PreTokenizer& pre = p.get();
    const WordCounts one = CountWords(c->train, pre, 1);
    for (int t : c->threads) {
      const std::string name = fmt::format("count/{}/{}/threads:{}", p.name, c->name, t);
      WordCounts got;
      const double secs = TimeOnce([&] { got = CountWords(c->train, pre, t); });
      if (got != one) {
        reg.Mismatch(name, "word counts differ from the 1-thread counts");
        continue;
      }
      reg.Add(name, secs, [c, &pre, t, pieces = one.size()](benchmark::State& st) {
        for (auto _ : Measure(st)) benchmark::DoNotOptimize(CountWords(c->train, pre, t).size());
        st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * c->train.size()));
        st.counters["distinct_pieces"] = static_cast<double>(pieces);
      });
    }
  }
}

// Returns the agreed merge list per vocab size the corpus reaches.
std::map<uint32_t, MergeList> TrainBenchmarks(const Settings& s, Registrar& reg, Plan& plan,
                                              const std::shared_ptr<CorpusData>& c) {
  std::map<uint32_t, MergeList> agreed;
  std::map<std::string_view, Budget> budgets;
  MergeList reference_longest;  // the longest merge list the reference trainer produced
  // The reference trainer (minutes on long pieces, such as Chinese text) first trains to a small
  // vocabulary: its merges must begin every other trainer's list, and its time there tells the budget
  // whether it can run at the sweep's sizes too.
  constexpr uint32_t kReferencePrefixVocab = 1000;
  if (s.Selected(kReferenceTrainer) && c->vocab_sizes.front() > kReferencePrefixVocab) {
    Check(fmt::format("train/{}/{}/vocab:{} (the reference's prefix)", kReferenceTrainer, c->name, kReferencePrefixVocab));
    TrainOptions options;
    options.vocab_size = kReferencePrefixVocab;
    const double secs = TimeOnce([&] { reference_longest = FindTrainer(kReferenceTrainer).make()->Train(c->counts, options).merges; });
    budgets[kReferenceTrainer].Record(kReferencePrefixVocab - 256.0, secs);
  }
  for (uint32_t vocab : c->vocab_sizes) {
    std::map<std::string_view, std::pair<double, TrainResult>> results;
    std::set<std::string_view> over_budget;
    for (const auto& t : Trainers()) {
      if (!s.Selected(t.name)) continue;
      // Not measured (the counting sweep): the reference's merges up to its prefix vocab check the others.
      if (t.name == kReferenceTrainer && !s.count_references && vocab > kReferencePrefixVocab) continue;
      const std::string name = fmt::format("train/{}/{}/vocab:{}/threads:1", t.name, c->name, vocab);
      Budget& budget = budgets[t.name];
      if (!budget.Allows(vocab - 256.0, 1.0, s.budget_s, fmt::format("to vocab {}", vocab))) {
        reg.Skip(name, budget.skip_reason);
        continue;
      }
      Check(name);
      TrainOptions options;
      options.vocab_size = vocab;
      auto trainer = t.make();
      TrainResult r;
      const double secs = TimeOnce([&] { r = trainer->Train(c->counts, options); });
      budget.Record(vocab - 256.0, secs);
      if (t.name == kReferenceTrainer) reference_longest = r.merges;
      if (secs > s.budget_s) {
        // Its output still serves as the check's reference; it is just not repeated.
        reg.Skip(name, fmt::format("skipped: the check run took {:.1f} s, over the budget of {:g} s", secs, s.budget_s));
        over_budget.insert(t.name);
      }
      results[t.name] = {secs, std::move(r)};
    }
    if (results.empty()) break;
    // The reference's output, or, past its budget, the first trainer's, checked to start with
    // everything the reference did produce (merges at a smaller vocab are a prefix of a larger one).
    const MergeList& expected = results.count(kReferenceTrainer) ? results[kReferenceTrainer].second.merges
                                                                 : results.begin()->second.second.merges;
    for (auto& [trainer, result] : results) {
      const std::string name = fmt::format("train/{}/{}/vocab:{}/threads:1", trainer, c->name, vocab);
      const MergeList& merges = result.second.merges;
      const bool prefix_ok = reference_longest.size() <= merges.size() &&
                             std::equal(reference_longest.begin(), reference_longest.end(), merges.begin());
      if (merges != expected || !prefix_ok) {
        reg.Mismatch(name, "merge list differs from the reference trainer's");
        continue;
      }
      if (over_budget.count(trainer)) continue;
      const TrainerInfo& info = FindTrainer(trainer);
      reg.Add(name, result.first, [c, &info, vocab, n = merges.size(), sum = Checksum(merges)](benchmark::State& st) {
        auto t = info.make();
        TrainOptions options;
        options.vocab_size = vocab;
        for (auto _ : Measure(st)) benchmark::DoNotOptimize(t->Train(c->counts, options).merges.data());
        st.counters["merges"] = static_cast<double>(n);
        st.counters["merges_per_second"] =
            benchmark::Counter(static_cast<double>(n * st.iterations()), benchmark::Counter::kIsRate);
        st.SetLabel(fmt::format("merges_fnv1a={:016x}", sum));
      });
    }
    agreed[vocab] = expected;
    const StopReason stop = results.begin()->second.second.stop;
    if (stop != StopReason::kVocabSize) {
      plan.notes.push_back(fmt::format("{} stops at {} tokens ({}); larger vocab sizes left out",
                                       c->name, 256 + expected.size(), StopReasonText(stop)));
      break;
    }
  }
  return agreed;
}

// End to end from text, as a user runs training (and as the peers train): word counting on T threads,
// then the trainer, checked to give the agreed merge list. The reference trainer is left out.
void TextTrainBenchmarks(const Settings& s, Registrar& reg, const std::shared_ptr<CorpusData>& c,
                         const PreTokenizer& pre, const std::map<uint32_t, MergeList>& models) {
  std::map<std::pair<std::string_view, int>, Budget> budgets;
  for (const auto& [vocab, merges] : models) {
    for (const auto& tr : Trainers()) {
      if (tr.name == kReferenceTrainer || !s.Selected(tr.name)) continue;
      for (int t : c->threads) {
        const std::string name = fmt::format("train_text/{}/{}/vocab:{}/threads:{}", tr.name, c->name, vocab, t);
        Budget& budget = budgets[{tr.name, t}];
        if (!budget.Allows(vocab, 1.0, s.budget_s, fmt::format("to vocab {}", vocab))) {
          reg.Skip(name, budget.skip_reason);
          continue;
        }
        Check(name);
        TrainOptions options;
        options.vocab_size = vocab;
        options.threads = t;
        TrainResult r;
        const double secs = TimeOnce([&] { r = tr.make()->Train(CountWords(c->train, pre, t), options); });
        budget.Record(vocab, secs);
        if (r.merges != merges) {
          reg.Mismatch(name, "merge list differs from the reference trainer's");
          continue;
        }
        reg.Add(name, secs, [c, &pre, &tr, options, t, n = merges.size()](benchmark::State& st) {
          for (auto _ : Measure(st)) benchmark::DoNotOptimize(tr.make()->Train(CountWords(c->train, pre, t), options).merges.data());
          st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * c->train.size()));
          st.counters["merges"] = static_cast<double>(n);
        });
      }
    }
  }
}

// Training at web scale: synthetic text (corpora/synthetic.h) whose distinct pieces number in the
// millions, end to end from text, our trainers on the most threads and the peers that train. The
// check: every trainer's merges equal the first one's (naive would take hours here; the test suite
// checks every trainer against it on real corpora and the fuzzer on random ones).
void SyntheticBenchmarks(const Settings& s, Registrar& reg, Plan& plan, const PreTokenizer& pre) {
  SyntheticOptions o;
  o.bytes = s.synthetic_bytes;
  o.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  fmt::print(stderr, "making {} bytes of synthetic text (seed {}, {} word types, Zipf {}) ...\n", o.bytes, o.seed,
             o.types, o.zipf);
  auto c = std::make_shared<CorpusData>();
  c->name = "synthetic";
  c->text = SyntheticText(o);
  c->train = c->text;
  const int t = s.threads.empty() ? 1 : *std::max_element(s.threads.begin(), s.threads.end());
  c->threads = {t};
  c->vocab_sizes = {s.synthetic_vocab};
  benchmark::AddCustomContext("bpebench_synthetic",
                              fmt::format("{} bytes, seed {}, {} word types, Zipf {}, scripts {} (bpebench corpus "
                                          "--synthetic); train_text rows at vocab {} on {} threads",
                                          c->text.size(), o.seed, o.types, o.zipf, fmt::join(o.scripts, ","),
                                          s.synthetic_vocab, t));
  TrainOptions options;
  options.vocab_size = s.synthetic_vocab;
  options.threads = t;
  MergeList agreed;
  std::string first;
  for (const auto& tr : Trainers()) {
    if (tr.name == kReferenceTrainer || !s.Selected(tr.name)) continue;
    const std::string name = fmt::format("train_text/{}/synthetic/vocab:{}/threads:{}", tr.name, s.synthetic_vocab, t);
    Check(name);
    TrainResult r;
    size_t pieces = 0;
    const double secs = TimeOnce([&] {
      const WordCounts counts = CountWords(c->train, pre, t);
      pieces = counts.size();
      r = tr.make()->Train(counts, options);
    });
    if (first.empty()) {
      agreed = r.merges;
      first = tr.name;
    } else if (r.merges != agreed) {
      reg.Mismatch(name, fmt::format("merge list differs from {}'s", first));
      continue;
    }
    if (secs > s.synthetic_budget_s) {
      reg.Skip(name, fmt::format("skipped: the check run took {:.1f} s, over the budget of {:g} s for synthetic text",
                                 secs, s.synthetic_budget_s));
      continue;
    }
    reg.Add(name, secs, [c, &pre, &tr, options, t, pieces, n = agreed.size()](benchmark::State& st) {
      for (auto _ : Measure(st)) benchmark::DoNotOptimize(tr.make()->Train(CountWords(c->train, pre, t), options).merges.data());
      st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * c->train.size()));
      st.counters["merges"] = static_cast<double>(n);
      st.counters["distinct_pieces"] = static_cast<double>(pieces);
    });
  }
  if (first.empty()) return;
  if (agreed.size() + kByteAlphabet < s.synthetic_vocab) {
    plan.notes.push_back(fmt::format("synthetic text stops at {} tokens", agreed.size() + kByteAlphabet));
  }
  if (s.peers) {
    Settings peers = s;
    peers.budget_s = s.synthetic_budget_s;
    PeerBenchmarks(peers, reg, plan, c, pre, {{s.synthetic_vocab, agreed}}, /*train_only=*/true);
  }
}

std::string ReplaceFirst(std::string s, const std::string& from, const std::string& to) {
  if (const size_t at = s.find(from); at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

// Encoding the held-out text with encoder `e` on `t` threads, already checked: throughput, tokens per
// second, bytes per token, the encoder's own counters (from the check run) and `label`.
void AddEncodeBenchmark(Registrar& reg, const std::string& name, double single_s, const std::shared_ptr<CorpusData>& c,
                        const PreTokenizer& pre, const EncoderInfo& e, std::shared_ptr<const Vocabulary> vocab, int t,
                        size_t tokens, std::vector<std::pair<std::string, double>> stats, std::string label) {
  reg.Add(name, single_s, [c, &pre, &e, vocab, t, tokens, stats, label](benchmark::State& st) {
    for (auto _ : Measure(st)) benchmark::DoNotOptimize(EncodeText(c->held_out, pre, e.make, *vocab, t).data());
    st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * c->held_out.size()));
    st.counters["tokens_per_second"] =
        benchmark::Counter(static_cast<double>(tokens * st.iterations()), benchmark::Counter::kIsRate);
    st.counters["bytes_per_token"] = static_cast<double>(c->held_out.size()) / tokens;
    for (const auto& [key, value] : stats) st.counters[key] = value;
    st.SetLabel(label);
  });
  // An encoder that keeps state across calls (`cached`'s piece cache) also runs warm, on one thread:
  // one instance for every call, after one call that is not timed. Named <encoder>:warm; the row
  // without the suffix is the cold call (a new instance, as a one-off call pays).
  if (t != 1 || !e.make(*vocab)->KeepsState()) return;
  const std::string warm = ReplaceFirst(name, fmt::format("/{}/", e.name), fmt::format("/{}:warm/", e.name));
  reg.Add(warm, single_s, [c, &pre, &e, vocab, tokens, label](benchmark::State& st) {
    auto encoder = e.make(*vocab);
    std::vector<TokenId> ids;
    ids.reserve(c->held_out.size() / 2);
    EncodeChunk(c->held_out, pre, *encoder, ids);
    for (auto _ : Measure(st)) {
      ids.clear();
      EncodeChunk(c->held_out, pre, *encoder, ids);
      benchmark::DoNotOptimize(ids.data());
    }
    st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * c->held_out.size()));
    st.counters["tokens_per_second"] =
        benchmark::Counter(static_cast<double>(tokens * st.iterations()), benchmark::Counter::kIsRate);
    st.counters["bytes_per_token"] = static_cast<double>(c->held_out.size()) / tokens;
    for (const auto& [key, value] : encoder->Counters()) st.counters[key] = value;
    st.SetLabel(label + "; warm: one instance across calls");
  });
}

void EncodeBenchmarks(const Settings& s, Registrar& reg, const std::shared_ptr<CorpusData>& c,
                      const PreTokenizer& pre, const std::map<uint32_t, MergeList>& models) {
  std::map<std::string_view, Budget> budgets;
  const auto& reference = FindEncoder(kReferenceEncoder);
  const std::string_view prefix = c->held_out.substr(0, pre.SafeBoundary(c->held_out, 8192));
  for (const auto& [vocab_size, merges] : models) {
    auto vocab = std::make_shared<const Vocabulary>(merges);
    const auto expected_prefix = EncodeText(prefix, pre, reference.make, *vocab, 1);
    uint64_t agreed_sum = 0;
    for (const auto& e : Encoders()) {
      if (!s.Selected(e.name)) continue;
      const std::string base = fmt::format("encode/{}/{}/vocab:{}", e.name, c->name, vocab_size);
      Budget& budget = budgets[e.name];
      if (!budget.Allows(vocab_size, 1.0, s.budget_s, fmt::format("with vocab {}", vocab_size))) {
        for (int t : c->threads) reg.Skip(fmt::format("{}/threads:{}", base, t), budget.skip_reason);
        continue;
      }
      Check(base);
      // EncodeText on one thread, spelled out so the encoder's own counters (cache hits) can be read.
      std::vector<TokenId> ids;
      auto encoder = e.make(*vocab);
      const double secs = TimeOnce([&] { EncodeChunk(c->held_out, pre, *encoder, ids); });
      budget.Record(vocab_size, secs);
      const auto stats = encoder->Counters();
      const uint64_t sum = Checksum(ids);
      if (agreed_sum == 0) agreed_sum = sum;
      const bool ok = sum == agreed_sum && ids.size() >= expected_prefix.size() &&
                      std::equal(expected_prefix.begin(), expected_prefix.end(), ids.begin());
      for (int t : c->threads) {
        const std::string name = fmt::format("{}/threads:{}", base, t);
        if (!ok) {
          reg.Mismatch(name, "ids differ from the reference encoder's");
          continue;
        }
        AddEncodeBenchmark(reg, name, secs / t, c, pre, e, vocab, t, ids.size(), stats,
                           fmt::format("ids_fnv1a={:016x}", sum));
      }
    }
  }
}

}  // namespace

const Production& LoadProduction(const std::string& name) {
  static std::map<std::string, Production> loaded;  // benchmarks are registered on one thread
  auto it = loaded.find(name);
  if (it == loaded.end()) {
    auto model = std::make_shared<const Model>(LoadTiktoken(name));
    auto vocab = std::make_shared<const Vocabulary>(model->merges);
    it = loaded.emplace(name, Production{std::move(model), std::move(vocab)}).first;
  }
  return it->second;
}

namespace {

// tiktoken's vocabularies (gpt2, cl100k_base, o200k_base), loaded from the npm package's rank files
// with merges derived from the ranks (algorithms/formats/tiktoken.h): our encoders at production sizes,
// each vocabulary with its own pattern, on the same held-out text. Checked before timing: every
// encoder gives the same ids and naive agrees on a prefix; the peers that encode with the same
// vocabulary were checked against these ids just before (peer_sweep.cpp), and the label names
// those that agreed, tiktoken's own builds among them.
void ProductionBenchmarks(const Settings& s, Registrar& reg, Plan& plan, const std::shared_ptr<CorpusData>& c) {
  for (const std::string& name : s.production_vocabs) {
    std::shared_ptr<const Model> model;
    std::shared_ptr<const Vocabulary> vocab;
    try {
      const Production& loaded = LoadProduction(name);
      model = loaded.model;
      vocab = loaded.vocab;
    } catch (const std::exception& e) {
      for (int t : c->threads) reg.Skip(fmt::format("encode/{}/{}/threads:{}", name, c->name, t), e.what());
      continue;
    }
    const PreTokenizer& pre = FindPreTokenizer(model->pretokenizer).get();
    const std::string_view prefix = c->held_out.substr(0, pre.SafeBoundary(c->held_out, 2048));
    const auto expected_prefix = EncodeText(prefix, pre, FindEncoder(kReferenceEncoder).make, *vocab, 1);
    const std::vector<std::string> agreed = s.peers ? AgreeingPeers(c->name, name) : std::vector<std::string>{};
    if (agreed.empty()) plan.notes.push_back(fmt::format("{} on {}: no peer gave the same ids (none ran)", name, c->name));
    uint64_t agreed_sum = 0;
    for (const auto& e : Encoders()) {
      if (!s.Selected(e.name) || e.name == kReferenceEncoder) continue;  // naive: the prefix check only
      const std::string base = fmt::format("encode/{}/{}/vocab:{}", e.name, c->name, vocab->size());
      Check(fmt::format("{} ({})", base, name));
      std::vector<TokenId> ids;
      auto encoder = e.make(*vocab);
      const double secs = TimeOnce([&] { EncodeChunk(c->held_out, pre, *encoder, ids); });
      const auto stats = encoder->Counters();
      const uint64_t sum = Checksum(ids);
      if (agreed_sum == 0) agreed_sum = sum;
      std::string problem;
      if (sum != agreed_sum || ids.size() < expected_prefix.size() ||
          !std::equal(expected_prefix.begin(), expected_prefix.end(), ids.begin())) {
        problem = "ids differ from the reference encoder's";
      }
      for (int t : c->threads) {
        const std::string bench = fmt::format("{}/threads:{}", base, t);
        if (!problem.empty()) {
          reg.Mismatch(bench, problem);
          continue;
        }
        const std::string label =
            fmt::format("ids_fnv1a={:016x}; vocabulary={}{}", sum, name,
                        agreed.empty() ? "" : fmt::format("; token-exact with {} (checked)", fmt::join(agreed, ", ")));
        AddEncodeBenchmark(reg, bench, secs / t, c, pre, e, vocab, t, ids.size(), stats, label);
      }
    }
  }
}

// One long piece of a repeated byte or short pattern, encoded as a single piece: the input that
// makes quadratic encoders visible. The model learns long runs of both patterns. The repeats run
// with cl100k_base too (when it is among the production vocabularies), named
// `repeat_a@cl100k_base`: its long tokens of one pattern that never pair validly with each other
// are where backtracking encoders work hardest. With cl100k_base also one CJK ideograph repeated,
// random letters and random CJK ideographs: the worst cases of real scripts.
void AdversarialBenchmarks(const Settings& s, Registrar& reg, const std::shared_ptr<CorpusData>& c) {
  WordCounts counts = c->counts;
  for (size_t n = 2; n <= 4096; n *= 2) {
    std::string ab;
    for (size_t i = 0; i < n; ++i) ab += "ab";
    counts.push_back({std::string(n, 'a'), 1000});
    counts.push_back({ab, 1000});
  }
  TrainOptions options;
  options.vocab_size = std::min<uint32_t>(10000, c->vocab_sizes.back());
  // Any registered trainer gives the same merges (checked above); the reference would take minutes,
  // so use the first other one.
  const TrainerInfo* trainer = &Trainers().front();
  for (const auto& t : Trainers()) {
    if (t.name != kReferenceTrainer) {
      trainer = &t;
      break;
    }
  }
  auto trained = std::make_shared<const Vocabulary>(trainer->make()->Train(counts, options).merges);
  std::shared_ptr<const Vocabulary> cl100k;
  if (std::find(s.production_vocabs.begin(), s.production_vocabs.end(), "cl100k_base") != s.production_vocabs.end()) {
    try {
      cl100k = LoadProduction("cl100k_base").vocab;
    } catch (const std::exception& e) {
      for (const auto& enc : Encoders()) {
        if (!s.Selected(enc.name)) continue;
        for (size_t bytes : s.adversarial_bytes) {
          for (const char* pattern : {"repeat_a", "repeat_ab"}) {
            reg.Skip(fmt::format("adversarial/{}/{}@cl100k_base/bytes:{}", enc.name, pattern, bytes), e.what());
          }
        }
      }
    }
  }
  // `adversarial`: runs of one byte or one 2-byte pattern up to 1 MiB (quadratic encoders' worst
  // case); `piece`: random letters 16 B to 2 KiB, where the rank scan and the heap cross over.
  struct Pattern {
    const char* kind;
    std::string name;
    std::string unit;  // repeated; "": random letters a-z; kRandomCjk: random CJK ideographs
    const std::vector<size_t>* sizes;
    std::shared_ptr<const Vocabulary> vocab;
  };
  static const std::string kRandomCjk = "random CJK";
  std::vector<Pattern> patterns = {{"adversarial", "repeat_a", "a", &s.adversarial_bytes, trained},
                                   {"adversarial", "repeat_ab", "ab", &s.adversarial_bytes, trained},
                                   {"piece", "letters", "", &s.piece_bytes, trained}};
  if (cl100k) {
    // With cl100k_base also the worst cases of CJK text: one ideograph repeated (中, 3 bytes) and
    // random ideographs of U+4E00..U+9FFF, and random letters.
    patterns.push_back({"adversarial", "repeat_a@cl100k_base", "a", &s.adversarial_bytes, cl100k});
    patterns.push_back({"adversarial", "repeat_ab@cl100k_base", "ab", &s.adversarial_bytes, cl100k});
    patterns.push_back({"adversarial", "repeat_cjk@cl100k_base", "\xE4\xB8\xAD", &s.adversarial_bytes, cl100k});
    patterns.push_back({"adversarial", "letters@cl100k_base", "", &s.adversarial_bytes, cl100k});
    patterns.push_back({"adversarial", "random_cjk@cl100k_base", kRandomCjk, &s.adversarial_bytes, cl100k});
  }
  for (const Pattern& p : patterns) {
    const std::shared_ptr<const Vocabulary>& vocab = p.vocab;
    std::map<std::string_view, Budget> budgets;
    for (size_t bytes : *p.sizes) {
      auto input = std::make_shared<std::string>();
      uint64_t x = 0x9E3779B97F4A7C15ull;
      while (input->size() < bytes) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        if (p.unit == kRandomCjk) {
          const uint32_t cp = 0x4E00 + static_cast<uint32_t>(x % (0xA000 - 0x4E00));
          *input += static_cast<char>(0xE0 | (cp >> 12));
          *input += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          *input += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (!p.unit.empty()) {
          *input += p.unit;
        } else {
          *input += static_cast<char>('a' + x % 26);
        }
      }
      // Whole units only (a multi-byte character is never cut).
      const size_t unit = p.unit == kRandomCjk ? 3 : std::max<size_t>(p.unit.size(), 1);
      input->resize(bytes / unit * unit);
      uint64_t agreed_sum = 0;
      for (const auto& e : Encoders()) {
        if (!s.Selected(e.name)) continue;
        const std::string name = fmt::format("{}/{}/{}/bytes:{}", p.kind, e.name, p.name, bytes);
        Budget& budget = budgets[e.name];
        if (!budget.Allows(bytes, 2.0, s.budget_s, fmt::format("on {} bytes", bytes))) {
          reg.Skip(name, budget.skip_reason);
          continue;
        }
        auto encoder = e.make(*vocab);
        std::vector<TokenId> ids;
        const double secs = TimeOnce([&] { encoder->EncodePiece(*input, ids); });
        budget.Record(bytes, secs);
        const uint64_t sum = Checksum(ids);
        if (agreed_sum == 0) agreed_sum = sum;
        if (sum != agreed_sum) {
          reg.Mismatch(name, "ids differ from the other encoders'");
          continue;
        }
        reg.Add(name, secs, [&e, vocab, input](benchmark::State& st) {
          auto enc = e.make(*vocab);
          std::vector<TokenId> out;
          for (auto _ : Measure(st)) {
            out.clear();
            enc->EncodePiece(*input, out);
            benchmark::DoNotOptimize(out.data());
          }
          st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * input->size()));
        });
      }
    }
  }
}

}  // namespace

Plan PrepareSweep(const Settings& s, ProgressSink* progress) {
  Plan plan;
  Registrar reg(s, plan, progress);
  const PreTokenizer& pre = FindPreTokenizer(s.pretokenizer).get();
  benchmark::AddCustomContext(
      "bpebench_settings",
      fmt::format("corpora={}{} vocab_sizes={} class_vocab_sizes={} threads={} class_threads={} pretokenizer={} held_out_fraction={} budget_s={} "
                  "min_time_s={} repetitions={} adversarial_bytes={} peers={} algorithms={} production_vocabs={}",
                  fmt::join(s.corpora, ","), s.user_corpora.empty() ? "" : fmt::format(" user_corpora={}", fmt::join(s.user_corpora, ",")),
                  fmt::join(s.vocab_sizes, ","), fmt::join(s.class_vocab_sizes, ","), fmt::join(s.threads, ","), fmt::join(s.class_threads, ","),
                  s.pretokenizer, s.held_out_fraction, s.budget_s, s.min_time_s, s.repetitions,
                  fmt::join(s.adversarial_bytes, ","), s.peers,
                  s.algorithms.empty() ? "all" : fmt::format("{}", fmt::join(s.algorithms, ",")),
                  fmt::join(s.production_vocabs, ",")));
  checks_sink = progress;
  std::vector<std::shared_ptr<CorpusData>> corpora;
  std::vector<std::pair<std::string, bool>> wanted;  // name or path, is the user's
  for (const auto& name : s.corpora) wanted.push_back({name, false});
  for (const auto& path : s.user_corpora) wanted.push_back({path, true});
  for (const auto& [name, user] : wanted) {
    if (!user) {
      // A text class whose files are not here (a clone without ../shared) is left out, said why.
      const std::vector<CorpusInfo> manifest = LoadManifest();
      const std::string missing = MissingCorpusReason(FindCorpus(manifest, name));
      if (!missing.empty() && !corpora.empty()) {
        fmt::print(stderr, "corpus {} left out: {}\n", name, missing);
        plan.notes.push_back(fmt::format("corpus {} left out: {}", name, missing));
        continue;
      }
    }
    fmt::print(stderr, "loading corpus {} ...\n", name);
    corpora.push_back(LoadCorpus(s, name, user, pre));
    corpora.back()->vocab_sizes = corpora.size() == 1 ? s.vocab_sizes : s.class_vocab_sizes;
    corpora.back()->threads = corpora.size() == 1 ? s.threads : s.class_threads;
  }
  if (corpora.empty()) Fail("no corpus to measure");
  for (size_t i = 0; i < corpora.size(); ++i) {
    const auto& c = corpora[i];
    fmt::print(stderr, "checking corpus {} of {}: {}\n", i + 1, corpora.size(), c->name);
    CountBenchmarks(reg, c);
    const std::map<uint32_t, MergeList> models = TrainBenchmarks(s, reg, plan, c);
    if (s.train_text) TextTrainBenchmarks(s, reg, c, pre, models);
    EncodeBenchmarks(s, reg, c, pre, models);
    if (s.peers) PeerBenchmarks(s, reg, plan, c, pre, models);
    ProductionBenchmarks(s, reg, plan, c);
  }
  if (s.peers) {
    AddPeerContext();
  } else {
    benchmark::AddCustomContext("bpebench_peers", "left out (--no-peers)");
  }
  if (s.synthetic_bytes > 0) SyntheticBenchmarks(s, reg, plan, pre);
  if (!s.adversarial_bytes.empty() || !s.piece_bytes.empty()) AdversarialBenchmarks(s, reg, corpora.front());
  checks_sink = nullptr;

  benchmark::AddCustomContext("bpebench_skipped", plan.skipped.empty() ? "none" : fmt::format("{}", fmt::join(plan.skipped, "; ")));
  benchmark::AddCustomContext("bpebench_notes", plan.notes.empty() ? "none" : fmt::format("{}", fmt::join(plan.notes, "; ")));
  benchmark::AddCustomContext("bpebench_checks",
                              plan.failures.empty()
                                  ? "every output matched the reference algorithm's before timing"
                                  : fmt::format("MISMATCHES: {}", fmt::join(plan.failures, "; ")));
  return plan;
}

void FinishSweep() { FinishPeers(); }

}  // namespace bpe::harness
