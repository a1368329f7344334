// Peer rows: the established libraries measured in the same run as our algorithms, on the same
// corpus text (training part and held-out part), vocabulary sizes and thread counts.
//
//   train_text/sentencepiece/C/vocab:V/threads:T   BPE training from the text's lines (in-process)
//   train_text/hf_tokenizers/C/vocab:30000/threads:T  HF's BpeTrainer through Node; its binding has
//                                                  no vocabulary size option: 30000 only
//   encode/sentencepiece/C/vocab:V/threads:T        with the model sentencepiece trained at V
//   encode/hf_tokenizers/C/vocab:V/threads:T        with OUR model at V, exported as tokenizer.json:
//                                                  token-exact, checked against our ids
//   encode/tiktoken/C/vocab:N/threads:1             tiktoken's own gpt2, cl100k_base, o200k_base
//
// sentencepiece normalizes text (NFKC) and has its own whitespace handling and tie rules, and
// tiktoken's vocabularies are not trained here: those rows compare speed and bytes per token, not
// ids. The HF encode rows are checked id for id against ours before they are timed.
#include <fmt/core.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

#include "algorithms/core/error.h"
#include "algorithms/runtime/file_io.h"
#include "algorithms/formats/hf_json.h"
#include "algorithms/registry.h"
#include "algorithms/runtime/text.h"
#include "algorithms/core/vocabulary.h"
#include "harness/peers.h"
#include "harness/sweep_internal.h"

namespace bpe::harness {

namespace {

// Peers get the held-out text as documents of about this size, cut at the pre-tokenizer's safe
// boundaries (so HF's ids stay comparable with ours). HF is slow on one long string: measured here
// on gutenberg5 (3 MB), 0.77 MB/s as one string against 2.5 MB/s in 4 KiB documents.
constexpr size_t kPeerDocumentBytes = 4096;

// tiktoken's vocabularies: the vocab axis value is the number of tokens encode_ordinary can give
// (ranks; the special tokens are left out), the size of the same vocabulary in our own rows.
struct TiktokenVocab {
  const char* name;
  uint32_t size;
  const char* pretokenizer;  // its pattern, for cutting documents at safe boundaries
};
constexpr TiktokenVocab kTiktokenVocabs[] = {
    {"gpt2", 50256, "gpt2"}, {"cl100k_base", 100256, "cl100k"}, {"o200k_base", 199998, "o200k"}};

// tiktoken's ids for each (corpus, vocabulary)'s held-out text, from the check runs.
std::map<std::pair<std::string, std::string>, std::vector<TokenId>> tiktoken_ids;

constexpr uint32_t kHfTrainVocab = 30000;  // the Node binding's BpeTrainer default, the only size it trains

const char* kNotTokenExact = "peer; not comparable id for id (own vocabulary or normalization): speed and bytes per token";

class PeerSession {
 public:
  PeerSession() {
    dir_ = std::filesystem::temp_directory_path() / fmt::format("bpebench-peers-{}", ::getpid());
    std::filesystem::create_directories(dir_);
    node_unavailable_ = NodeUnavailable();
    if (!node_unavailable_.empty()) {
      hf_unavailable_ = tiktoken_unavailable_ = node_unavailable_;
      return;
    }
    try {
      const auto& hello = Runner(1).hello();
      node_version_ = hello.at("node");
      auto check = [&](const std::string& pkg, std::string& version, std::string& why) {
        const std::string v = hello.count(pkg) ? hello.at(pkg) : "missing: no answer";
        if (v.starts_with("missing")) {
          why = fmt::format("npm package {} {} (scripts/setup runs npm ci in harness/peers)", pkg, v);
        } else {
          version = v;
        }
      };
      check("tokenizers", hf_version_, hf_unavailable_);
      check("tiktoken", tiktoken_version_, tiktoken_unavailable_);
    } catch (const std::exception& e) {
      hf_unavailable_ = tiktoken_unavailable_ = fmt::format("the Node runner did not start: {}", e.what());
    }
  }
  ~PeerSession() {
    runners_.clear();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  NodeRunner& Runner(int threads) {
    auto& r = runners_[threads];
    if (!r) r = std::make_unique<NodeRunner>(threads, Path(fmt::format("runner-threads-{}.log", threads)));
    return *r;
  }
  std::string Path(const std::string& file) const { return (dir_ / file).string(); }
  std::string WriteFile(const std::string& file, std::string_view data) const {
    const std::string path = Path(file);
    WriteFileAtomically(path, data);
    return path;
  }

  std::string hf_unavailable_, tiktoken_unavailable_;
  std::string node_version_, hf_version_, tiktoken_version_;

 private:
  std::filesystem::path dir_;
  std::string node_unavailable_;
  std::map<int, std::unique_ptr<NodeRunner>> runners_;
};

std::unique_ptr<PeerSession> session;

// The held-out text cut into ~4 KiB documents at safe boundaries, as the runner's OFFSETS field.
std::string DocumentOffsets(std::string_view text, const PreTokenizer& pre) {
  std::string out;
  size_t at = 0;
  while (true) {
    at = pre.SafeBoundary(text, at + kPeerDocumentBytes);
    if (at >= text.size()) break;
    if (!out.empty()) out += ',';
    out += std::to_string(at);
  }
  return out;
}

std::vector<TokenId> ReadIds(const std::string& path) {
  const std::string bytes = ReadFile(path);
  std::vector<TokenId> ids(bytes.size() / sizeof(TokenId));
  std::memcpy(ids.data(), bytes.data(), ids.size() * sizeof(TokenId));
  return ids;
}

// A Node peer's benchmark: each repetition is one runner request that measures for the sweep's min
// time and reports the mean; Google Benchmark records it as the iteration's (manual) time.
void AddNodeBenchmark(Registrar& reg, const std::string& name, double single_s, int threads,
                      std::vector<std::string> request, int64_t bytes, uint64_t tokens,
                      const std::string& label) {
  reg.AddTimedElsewhere(name, single_s, [threads, request, bytes, tokens, label](benchmark::State& st) {
    double seconds = 0;
    try {
      seconds = std::stod(session->Runner(threads).Request(request).at("seconds"));
    } catch (const std::exception& e) {
      st.SkipWithError(fmt::format("peer failed: {}", e.what()).c_str());
      for (auto _ : st) {
      }
      return;
    }
    for (auto _ : st) st.SetIterationTime(seconds);
    st.SetBytesProcessed(bytes * static_cast<int64_t>(st.iterations()));
    if (tokens > 0) {
      st.counters["tokens_per_second"] =
          benchmark::Counter(static_cast<double>(tokens * st.iterations()), benchmark::Counter::kIsRate);
      st.counters["bytes_per_token"] = static_cast<double>(bytes) / static_cast<double>(tokens);
    }
    st.SetLabel(label);
  });
}

void SentencePieceRows(const Settings& s, Registrar& reg, const std::shared_ptr<CorpusData>& c,
                       const std::map<uint32_t, MergeList>& models) {
  if (const std::string why = SentencePieceUnavailable(); !why.empty()) {
    for (const auto& [vocab, merges] : models) {
      for (int t : s.threads) {
        reg.Skip(fmt::format("train_text/sentencepiece/{}/vocab:{}/threads:{}", c->name, vocab, t), why);
      }
    }
    return;
  }
  std::map<int, Budget> train_budget, encode_budget;
  for (const auto& [vocab, merges] : models) {
    std::shared_ptr<const SentencePieceModel> model;
    for (int t : s.threads) {
      const std::string name = fmt::format("train_text/sentencepiece/{}/vocab:{}/threads:{}", c->name, vocab, t);
      Budget& budget = train_budget[t];
      if (!budget.Allows(vocab, 1.0, s.budget_s, fmt::format("to vocab {}", vocab))) {
        reg.Skip(name, budget.skip_reason);
        continue;
      }
      fmt::print(stderr, "check {} ...\n", name);
      std::unique_ptr<SentencePieceModel> trained;
      double secs = 0;
      try {
        secs = TimeOnce([&] { trained = SentencePieceTrain(c->train, vocab, t); });
      } catch (const std::exception& e) {
        reg.Skip(name, e.what());
        continue;
      }
      budget.Record(vocab, secs);
      const int pieces = trained->pieces();
      if (!model) model = std::move(trained);
      reg.Add(name, secs, [c, vocab, t, pieces](benchmark::State& st) {
        for (auto _ : st) benchmark::DoNotOptimize(SentencePieceTrain(c->train, vocab, t)->pieces());
        st.counters["pieces"] = pieces;
        st.SetLabel("peer; sentencepiece BPE, byte fallback, character_coverage 1.0; from text lines");
      });
    }
    if (!model) continue;
    for (int t : s.threads) {
      const std::string name = fmt::format("encode/sentencepiece/{}/vocab:{}/threads:{}", c->name, vocab, t);
      Budget& budget = encode_budget[t];
      if (!budget.Allows(vocab, 1.0, s.budget_s, fmt::format("with vocab {}", vocab))) {
        reg.Skip(name, budget.skip_reason);
        continue;
      }
      fmt::print(stderr, "check {} ...\n", name);
      size_t tokens = 0;
      const double secs = TimeOnce([&] { tokens = model->Encode(c->held_out, t); });
      budget.Record(vocab, secs);
      reg.Add(name, secs, [c, model, t, tokens](benchmark::State& st) {
        for (auto _ : st) benchmark::DoNotOptimize(model->Encode(c->held_out, t));
        st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * c->held_out.size()));
        st.counters["tokens_per_second"] =
            benchmark::Counter(static_cast<double>(tokens * st.iterations()), benchmark::Counter::kIsRate);
        st.counters["bytes_per_token"] = static_cast<double>(c->held_out.size()) / tokens;
        st.SetLabel(std::string(kNotTokenExact) + "; line by line");
      });
    }
  }
}

void HfRows(const Settings& s, Registrar& reg, Plan& plan, const std::shared_ptr<CorpusData>& c, const PreTokenizer& pre,
            const std::map<uint32_t, MergeList>& models) {
  if (!session->hf_unavailable_.empty()) {
    for (int t : s.threads) {
      reg.Skip(fmt::format("encode/hf_tokenizers/{}/threads:{}", c->name, t), session->hf_unavailable_);
    }
    return;
  }
  // Training, at the one size the binding trains.
  if (models.count(kHfTrainVocab)) {
    const std::string train_file = session->WriteFile(c->name + "-train.txt", c->train);
    for (int t : s.threads) {
      const std::string name =
          fmt::format("train_text/hf_tokenizers/{}/vocab:{}/threads:{}", c->name, kHfTrainVocab, t);
      fmt::print(stderr, "check {} ...\n", name);
      try {
        const auto r = session->Runner(t).Request({"train_hf", train_file});
        AddNodeBenchmark(reg, name, std::stod(r.at("seconds")), t, {"train_hf", train_file},
                         static_cast<int64_t>(c->train.size()), 0,
                         "peer; HF BpeTrainer defaults (vocab 30000, alphabet: characters seen), ByteLevel "
                         "pre-tokenizer; reads the training text from a file");
      } catch (const std::exception& e) {
        reg.Skip(name, e.what());
      }
    }
  } else {
    plan.notes.push_back(fmt::format("hf_tokenizers training left out on {}: its Node binding trains only at "
                                     "vocab {}, which this sweep does not include",
                                     c->name, kHfTrainVocab));
  }
  // Encoding with our own models, exported: the ids must be ours.
  if (s.pretokenizer != "gpt2") {
    plan.notes.push_back("hf_tokenizers encoding left out: HF's ByteLevel pre-tokenizer is gpt2's, and this "
                         "sweep uses " + s.pretokenizer);
    return;
  }
  const std::string input = session->WriteFile(c->name + "-held-out.txt", c->held_out);
  const std::string offsets = DocumentOffsets(c->held_out, pre);
  const EncoderInfo* ours = &Encoders().front();
  for (const auto& e : Encoders()) {
    if (e.name != kReferenceEncoder) {
      ours = &e;
      break;
    }
  }
  std::map<int, Budget> budgets;
  for (const auto& [vocab, merges] : models) {
    std::string json;
    const std::string base = fmt::format("encode/hf_tokenizers/{}/vocab:{}", c->name, vocab);
    try {
      json = session->WriteFile(fmt::format("{}-{}.json", c->name, vocab),
                                ExportHfTokenizerJson(Model{"gpt2", merges}));
    } catch (const std::exception& e) {
      for (int t : s.threads) reg.Skip(fmt::format("{}/threads:{}", base, t), e.what());
      continue;
    }
    const Vocabulary v(merges);
    const std::vector<TokenId> expected = EncodeText(c->held_out, pre, ours->make, v, 1);
    for (int t : s.threads) {
      const std::string name = fmt::format("{}/threads:{}", base, t);
      Budget& budget = budgets[t];
      if (!budget.Allows(vocab, 1.0, s.budget_s, fmt::format("with vocab {}", vocab))) {
        reg.Skip(name, budget.skip_reason);
        continue;
      }
      fmt::print(stderr, "check {} ...\n", name);
      const std::string ids_file = session->Path("hf-ids.bin");
      double secs = 0;
      try {
        const auto r = session->Runner(t).Request({"encode_hf", json, input, offsets, "0", ids_file});
        secs = std::stod(r.at("seconds"));
      } catch (const std::exception& e) {
        reg.Skip(name, e.what());
        continue;
      }
      budget.Record(vocab, secs);
      const std::vector<TokenId> got = ReadIds(ids_file);
      if (got != expected) {
        const size_t at = std::mismatch(got.begin(), got.end(), expected.begin(), expected.end()).first - got.begin();
        reg.Mismatch(name, fmt::format("HF's ids for our exported model differ from ours at token {} of {}", at,
                                       expected.size()));
        continue;
      }
      AddNodeBenchmark(reg, name, secs, t, {"encode_hf", json, input, offsets, fmt::format("{}", s.min_time_s), "-"},
                       static_cast<int64_t>(c->held_out.size()), expected.size(),
                       fmt::format("peer; token-exact: HF encoded our exported model to our ids; {} B documents",
                                   kPeerDocumentBytes));
    }
  }
}

void TiktokenRows(const Settings& s, Registrar& reg, Plan& plan, const std::shared_ptr<CorpusData>& c) {
  if (!session->tiktoken_unavailable_.empty()) {
    reg.Skip(fmt::format("encode/tiktoken/{}/threads:1", c->name), session->tiktoken_unavailable_);
    return;
  }
  const std::string input = session->WriteFile(c->name + "-held-out.txt", c->held_out);
  for (const TiktokenVocab& tv : kTiktokenVocabs) {
    const std::string name = fmt::format("encode/tiktoken/{}/vocab:{}/threads:1", c->name, tv.size);
    const std::string offsets = DocumentOffsets(c->held_out, FindPreTokenizer(tv.pretokenizer).get());
    fmt::print(stderr, "check {} ...\n", name);
    try {
      const std::string ids_file = session->Path("tiktoken-ids.bin");
      const auto r = session->Runner(1).Request({"encode_tiktoken", tv.name, input, offsets, "0", ids_file});
      tiktoken_ids[{c->name, tv.name}] = ReadIds(ids_file);
      AddNodeBenchmark(reg, name, std::stod(r.at("seconds")), 1,
                       {"encode_tiktoken", tv.name, input, offsets, fmt::format("{}", s.min_time_s), "-"},
                       static_cast<int64_t>(c->held_out.size()), std::stoull(r.at("tokens")),
                       fmt::format("{}; tiktoken {}, encode_ordinary, {} B documents", kNotTokenExact, tv.name,
                                   kPeerDocumentBytes));
    } catch (const std::exception& e) {
      reg.Skip(name, e.what());
    }
  }
  plan.notes.push_back("tiktoken is measured on 1 thread only: its WebAssembly build has no threads");
}

}  // namespace

void PeerBenchmarks(const Settings& s, Registrar& reg, Plan& plan, const std::shared_ptr<CorpusData>& c, const PreTokenizer& pre,
                    const std::map<uint32_t, MergeList>& models) {
  if (!s.Selected("sentencepiece") && !s.Selected("hf_tokenizers") && !s.Selected("tiktoken")) return;
  if (!session) session = std::make_unique<PeerSession>();
  if (s.Selected("sentencepiece")) SentencePieceRows(s, reg, c, models);
  if (s.Selected("hf_tokenizers")) HfRows(s, reg, plan, c, pre, models);
  if (s.Selected("tiktoken")) TiktokenRows(s, reg, plan, c);
}

const std::vector<TokenId>* TiktokenIds(const std::string& corpus, const std::string& vocabulary) {
  auto it = tiktoken_ids.find({corpus, vocabulary});
  return it == tiktoken_ids.end() ? nullptr : &it->second;
}

void AddPeerContext() {
  const std::string sp = SentencePieceUnavailable();
  benchmark::AddCustomContext(
      "bpebench_peers",
      fmt::format(
          "sentencepiece {}; node {}; HF tokenizers (npm tokenizers) {}; tiktoken (npm) {}",
          sp.empty() ? SentencePieceVersion() + " in-process (C++ API)" : "skipped: " + sp,
          session && !session->node_version_.empty() ? session->node_version_ : "unavailable",
          session && session->hf_unavailable_.empty() ? session->hf_version_ : "skipped: " + (session ? session->hf_unavailable_ : std::string("not run")),
          session && session->tiktoken_unavailable_.empty() ? session->tiktoken_version_ : "skipped: " + (session ? session->tiktoken_unavailable_ : std::string("not run"))));
  benchmark::AddCustomContext(
      "bpebench_peers_boundary",
      fmt::format("timed inside each peer, excluding process start, package loading and file reading; "
                  "HF and tiktoken get the held-out text as {} B documents (cut at safe boundaries); "
                  "HF: one JS string per document into encodeBatch (UTF-16 to UTF-8 in the N-API binding), an "
                  "Encoding per document back and getIds() copied to JS arrays; tiktoken: each document's "
                  "string copied into wasm memory as UTF-8 by encode_ordinary and a Uint32Array of ids copied "
                  "back; sentencepiece: in-process, line by line",
                  kPeerDocumentBytes));
}

void FinishPeers() { session.reset(); }

}  // namespace bpe::harness
