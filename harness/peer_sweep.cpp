// Peer rows: the established libraries measured in the same run as our algorithms, on the same
// corpus text (training part and held-out part), vocabulary sizes and thread counts.
//
//   train_text/sentencepiece/C/vocab:V/threads:T   BPE training from the text's lines (in-process)
//   encode/sentencepiece/C/vocab:V/threads:T       with the model sentencepiece trained at V
//   plug-ins (harness/peers/*/peer.json and --peer-dir; docs/peers.md), as their manifests allow:
//   train_text/P/C/vocab:V/threads:T               training from the text file
//   encode/P/C/vocab:N/threads:1                   with a tiktoken vocabulary (gpt2, cl100k_base,
//                                                  o200k_base), one call per document
//   encode/P/C/vocab:V/threads:T                   with OUR model at V, exported in a format it reads
//   encode/P.batch/C/vocab:N/threads:T             its batch call over all documents
//
// Every plug-in encode row is checked id for id against our ids before it is timed (a difference is
// a MISMATCH and is not timed); training that claims bpebench's semantics ("exact") is checked merge
// for merge. sentencepiece normalizes text (NFKC) and has its own tie rules: its rows compare speed
// and bytes per token, not ids. A plug-in that fails (crashes, hangs past --peer-timeout, answers
// garbage) is reported as failed with the tail of its stderr, and the sweep goes on.
#include <fmt/core.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <set>

#include "algorithms/core/error.h"
#include "algorithms/core/vocabulary.h"
#include "algorithms/formats/hf_json.h"
#include "algorithms/registry.h"
#include "algorithms/runtime/file_io.h"
#include "algorithms/runtime/text.h"
#include "harness/peers.h"
#include "harness/plugins.h"
#include "harness/sweep_internal.h"

namespace bpe::harness {

namespace {

// Plug-ins get the held-out text as documents of about this size, cut at the pre-tokenizer's safe
// boundaries (so their ids stay comparable with ours): the way services call tokenizers, and HF is
// slow on one long string (measured here on gutenberg5: 0.77 MB/s as one string, 2.5 MB/s in 4 KiB
// documents).
constexpr size_t kPeerDocumentBytes = 4096;

const char* kNotTokenExact = "peer; not comparable id for id (own vocabulary or normalization): speed and bytes per token";

// The tiktoken vocabularies by name: the vocab axis value is the number of tokens encode_ordinary
// can give (the special tokens left out), the size of the same vocabulary in our own rows.
uint32_t VocabAxis(const std::string& vocabulary) { return LoadProduction(vocabulary).vocab->size(); }

struct PluginPeer {
  PeerManifest m;
  std::string unavailable;  // why it cannot run at all; empty when it answered hello
  std::string version, runtime;
  std::map<int, std::unique_ptr<PeerProcess>> processes;  // by thread count
  std::map<std::string, double> call_us;  // one call on a one-byte document, per vocabulary/model
};

class PeerSession {
 public:
  explicit PeerSession(const Settings& s) : timeout_s_(s.peer_timeout_s) {
    dir_ = std::filesystem::temp_directory_path() / fmt::format("bpebench-peers-{}", ::getpid());
    std::filesystem::create_directories(dir_);
    std::vector<std::string> roots = {PeersFolder()};
    roots.insert(roots.end(), s.peer_dirs.begin(), s.peer_dirs.end());
    for (PeerManifest& m : FindPeers(roots, problems_)) {
      if (!s.Selected(m.name)) continue;
      auto p = std::make_unique<PluginPeer>();
      p->m = std::move(m);
      peers_.push_back(std::move(p));
    }
    for (const auto& problem : problems_) fmt::print(stderr, "peers: {}\n", problem);
    for (auto& p : peers_) {
      try {
        const Json& hello = Process(*p, 1).hello();
        p->version = p->m.version;
        if (const Json* v = hello.Find("versions"); v && v->kind == Json::kObject) {
          const Json* mine = v->Find(p->m.version_of.empty() ? p->m.name : p->m.version_of);
          if (p->version.empty() && mine && mine->kind == Json::kString) p->version = mine->text;
        }
        if (const Json* r = hello.Find("runtime"); r && r->kind == Json::kString) p->runtime = r->text;
      } catch (const std::exception& e) {
        p->unavailable = e.what();
        fmt::print(stderr, "peers: {} cannot run: {}\n", p->m.name, p->unavailable);
      }
    }
  }
  ~PeerSession() {
    peers_.clear();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // The peer's process for `threads` (one process per thread count when the peer's threads are set
  // by its environment; otherwise one), started again after a failure.
  PeerProcess& Process(PluginPeer& p, int threads) {
    if (p.m.threads_env.empty()) threads = 1;
    auto& proc = p.processes[threads];
    if (!proc || !proc->alive()) {
      proc.reset();
      proc = std::make_unique<PeerProcess>(p.m, threads, Path(fmt::format("{}-threads-{}.log", p.m.name, threads)),
                                           std::min(timeout_s_, 120.0));
    }
    return *proc;
  }
  Json Request(PluginPeer& p, int threads, const std::string& request) {
    return Process(p, threads).Request(request, timeout_s_);
  }

  std::string Path(const std::string& file) const { return (dir_ / file).string(); }
  std::string WriteFile(const std::string& file, std::string_view data) const {
    const std::string path = Path(file);
    WriteFileAtomically(path, data);
    return path;
  }

  std::vector<std::unique_ptr<PluginPeer>> peers_;
  std::vector<std::string> problems_;

 private:
  double timeout_s_;
  std::filesystem::path dir_;
};

std::unique_ptr<PeerSession> session;

// Which plug-ins gave our ids, per (corpus, tiktoken vocabulary): said in our production rows' labels.
std::map<std::pair<std::string, std::string>, std::vector<std::string>> agreeing;

// Byte offsets that cut `text` into ~4 KiB documents at safe boundaries, as a JSON list.
std::string DocumentOffsets(std::string_view text, const PreTokenizer& pre) {
  std::string out = "[";
  size_t at = 0;
  while (true) {
    at = pre.SafeBoundary(text, at + kPeerDocumentBytes);
    if (at >= text.size()) break;
    if (out.size() > 1) out += ',';
    out += std::to_string(at);
  }
  return out + "]";
}

std::vector<uint32_t> ReadU32(const std::string& path) {
  const std::string bytes = ReadFile(path, uint64_t{1} << 34, "a peer's output");
  if (bytes.size() % 4 != 0) Fail("{} holds {} bytes, not a whole number of uint32 values", path, bytes.size());
  std::vector<uint32_t> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

double Number(const Json& reply, std::string_view key) {
  const Json* v = reply.Find(key);
  if (!v || v->kind != Json::kNumber || !(v->number >= 0)) Fail("the reply has no number \"{}\"", key);
  return v->number;
}

// The first `max_bytes` of `text` (0: all), cut at a safe boundary.
std::string_view Prefix(std::string_view text, uint64_t max_bytes, const PreTokenizer& pre) {
  if (max_bytes == 0 || max_bytes >= text.size()) return text;
  return text.substr(0, pre.SafeBoundary(text, max_bytes));
}

std::string SizeNote(std::string_view part, std::string_view whole) {
  return part.size() == whole.size() ? "" : fmt::format("; on the first {} of {} bytes (its manifest's limit)", part.size(), whole.size());
}

// Our fastest-registered encoder (the first that is not the reference).
const EncoderInfo& OurEncoder() {
  for (const auto& e : Encoders()) {
    if (e.name != kReferenceEncoder) return e;
  }
  return Encoders().front();
}

// Our first registered trainer that is not the reference (all give the same merges; checked).
const TrainerInfo& OurTrainer() {
  for (const auto& t : Trainers()) {
    if (t.name != kReferenceTrainer) return t;
  }
  return Trainers().front();
}

// A plug-in's benchmark: each repetition is one request that measures for the sweep's min time and
// reports the mean; Google Benchmark records it as the iteration's (manual) time.
void AddPluginBenchmark(Registrar& reg, const std::string& name, double single_s, PluginPeer* p, int threads,
                        std::string request, int64_t bytes, uint64_t tokens, const std::string& label,
                        double call_us) {
  reg.AddTimedElsewhere(name, single_s, [=](benchmark::State& st) {
    double seconds = 0;
    try {
      seconds = Number(session->Request(*p, threads, request), "seconds");
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
    if (call_us > 0) st.counters["call_overhead_us"] = call_us;
    st.SetLabel(label);
  });
}

void PeerFailed(Registrar& reg, const std::string& name, const std::string& why) {
  fmt::print(stderr, "FAILED {}: {}\n", name, why);
  reg.Skip(name, "peer failed: " + why);
}

// What one call costs at the boundary: the peer's per-document call on a one-byte document, timed
// like a row (mean over the min time). Measured once per peer and vocabulary or model.
double CallOverheadUs(PluginPeer& p, const std::string& key, const std::string& source_fields, bool batch) {
  if (auto it = p.call_us.find(key); it != p.call_us.end()) return it->second;
  double us = 0;
  try {
    const std::string one = session->WriteFile("one-byte.txt", "a");
    const Json r = session->Request(p, 1, fmt::format(R"({{"op": "encode", {}, "input": {}, "offsets": [], "min_time": 0.1, "batch": {}}})",
                                                      source_fields, JsonString(one), batch ? "true" : "false"));
    us = Number(r, "seconds") * 1e6;
  } catch (const std::exception&) {
  }
  p.call_us[key] = us;
  return us;
}

// Encode rows for one source (a tiktoken vocabulary or one of our models): checked, then timed.
//   source_fields: the request's "vocabulary" or "model"/"model_format" fields
//   text, pre: the held-out text (maybe a prefix) and the pre-tokenizer that cuts its documents
//   expected: our ids for `text`, in the peer's numbering
void PluginEncodeRows(const Settings& s, Registrar& reg, const std::shared_ptr<CorpusData>& c, PluginPeer& p,
                      const std::string& key, uint32_t vocab_axis, const std::string& source_fields,
                      std::string_view text, const PreTokenizer& pre, const std::vector<uint32_t>& expected,
                      const std::string& what, bool* agreed) {
  const std::string input = session->WriteFile(fmt::format("{}-held-out-{}.txt", c->name, text.size()), text);
  const std::string offsets = DocumentOffsets(text, pre);
  struct Call {
    std::string row;
    bool batch;
    std::vector<int> threads;
  };
  std::vector<Call> calls;
  const std::vector<int> batch_threads = p.m.threads_env.empty() ? std::vector<int>{1} : c->threads;
  if (p.m.batch_only) {
    calls.push_back({p.m.name, true, batch_threads});
  } else {
    calls.push_back({p.m.name, false, {1}});
    if (p.m.batch) calls.push_back({p.m.name + ".batch", true, batch_threads});
  }
  for (const Call& call : calls) {
    const double call_us = CallOverheadUs(p, key + (call.batch ? ":batch" : ""), source_fields, call.batch);
    for (int t : call.threads) {
      const std::string name = fmt::format("encode/{}/{}/vocab:{}/threads:{}", call.row, c->name, vocab_axis, t);
      Check(name);
      const std::string ids_file = session->Path("peer-ids.bin");
      std::error_code ignored;
      std::filesystem::remove(ids_file, ignored);
      const std::string head = fmt::format(R"({{"op": "encode", {}, "input": {}, "offsets": {}, "batch": {})",
                                           source_fields, JsonString(input), offsets, call.batch ? "true" : "false");
      double secs = 0;
      std::vector<uint32_t> got;
      try {
        const Json r = session->Request(p, t, head + fmt::format(R"(, "min_time": 0, "ids_out": {}}})", JsonString(ids_file)));
        secs = Number(r, "seconds");
        got = ReadU32(ids_file);
      } catch (const std::exception& e) {
        PeerFailed(reg, name, e.what());
        continue;
      }
      if (got != expected) {
        const size_t at = std::mismatch(got.begin(), got.end(), expected.begin(), expected.end()).first - got.begin();
        reg.Mismatch(name, fmt::format("{}'s ids differ from ours at token {} of {} ({} gave {} tokens)", p.m.name, at,
                                       expected.size(), p.m.name, got.size()));
        *agreed = false;
        continue;
      }
      if (secs > s.budget_s) {
        reg.Skip(name, fmt::format("skipped: the check run took {:.1f} s, over the budget of {:g} s", secs, s.budget_s));
        continue;
      }
      std::string label = fmt::format("peer; token-exact: {} gave our ids ({}, checked); {}; {} B documents{}",
                                      p.m.name, what, p.m.build, kPeerDocumentBytes, SizeNote(text, c->held_out));
      if (call.batch) label += p.m.threads_env.empty() ? "; batch call" : fmt::format("; batch call, {}={}", p.m.threads_env, t);
      if (call_us > 0) label += fmt::format("; {:.1f} us per call on a one-byte document", call_us);
      if (!p.m.about.empty()) label += "; " + p.m.about;
      AddPluginBenchmark(reg, name, secs, &p, t, head + fmt::format(R"(, "min_time": {}}})", s.min_time_s),
                         static_cast<int64_t>(text.size()), expected.size(), label, call_us);
    }
  }
}

void PluginRows(const Settings& s, Registrar& reg, Plan& plan, const std::shared_ptr<CorpusData>& c,
                const PreTokenizer& pre, const std::map<uint32_t, MergeList>& models, PluginPeer& p, bool train_only) {
  if (!p.unavailable.empty()) {
    reg.Skip(fmt::format("encode/{}/{}/threads:1", p.m.name, c->name), p.unavailable);
    return;
  }
  // Training from the text file.
  if (p.m.trains) {
    const std::string_view train = Prefix(c->train, p.m.train_max_input, pre);
    const std::string train_file = session->WriteFile(fmt::format("{}-train-{}.txt", c->name, train.size()), train);
    const std::vector<int> threads = p.m.threads_env.empty() ? std::vector<int>{1} : c->threads;
    bool any = false;
    for (const auto& [vocab, merges] : models) {
      const auto& sizes = p.m.train_vocab_sizes;
      if (!sizes.empty() ? std::find(sizes.begin(), sizes.end(), vocab) == sizes.end()
                         : p.m.train_max_vocab != 0 && vocab > p.m.train_max_vocab) {
        continue;
      }
      any = true;
      MergeList expected = merges;
      if (p.m.train_exact && train.size() != c->train.size()) {
        TrainOptions options;
        options.vocab_size = vocab;
        expected = OurTrainer().make()->Train(CountWords(train, pre, 1), options).merges;
      }
      for (int t : threads) {
        const std::string name = fmt::format("train_text/{}/{}/vocab:{}/threads:{}", p.m.name, c->name, vocab, t);
        Check(name);
        const std::string model_file = session->Path("peer-model.bin");
        std::error_code ignored;
        std::filesystem::remove(model_file, ignored);
        const std::string request = fmt::format(R"({{"op": "train", "input": {}, "vocab_size": {})", JsonString(train_file), vocab);
        double secs = 0;
        if (train_only) {
          // Synthetic text: a tenth of it first, and the whole only if ten times that fits the budget
          // (a peer's run on 100 MB of it can take minutes just to be skipped after).
          const std::string_view probe = Prefix(train, train.size() / 10, pre);
          const std::string probe_file = session->WriteFile(fmt::format("{}-probe-{}.txt", c->name, probe.size()), probe);
          double probe_s = 0;
          try {
            probe_s = Number(session->Request(p, t, fmt::format(R"({{"op": "train", "input": {}, "vocab_size": {}}})",
                                                                JsonString(probe_file), vocab)), "seconds");
          } catch (const std::exception& e) {
            PeerFailed(reg, name, e.what());
            continue;
          }
          if (10 * probe_s > s.budget_s) {
            reg.Skip(name, fmt::format("skipped: training on the first {} bytes took {:.1f} s, so the whole {} bytes is "
                                       "estimated over the budget of {:g} s", probe.size(), probe_s, train.size(), s.budget_s));
            continue;
          }
        }
        try {
          const Json r = session->Request(p, t, request + (p.m.train_exact ? fmt::format(R"(, "model_out": {}}})", JsonString(model_file)) : "}"));
          secs = Number(r, "seconds");
          if (p.m.train_exact) {
            const std::vector<uint32_t> got = ReadU32(model_file);
            MergeList theirs;
            for (size_t i = 0; i + 1 < got.size(); i += 2) theirs.push_back({got[i], got[i + 1]});
            if (theirs != expected) {
              size_t at = 0;
              while (at < theirs.size() && at < expected.size() && theirs[at] == expected[at]) ++at;
              reg.Mismatch(name, fmt::format("{}'s merges differ from ours at merge {} ({} merges, ours {})", p.m.name, at,
                                             theirs.size(), expected.size()));
              continue;
            }
          }
        } catch (const std::exception& e) {
          PeerFailed(reg, name, e.what());
          continue;
        }
        if (secs > s.budget_s) {
          reg.Skip(name, fmt::format("skipped: the check run took {:.1f} s, over the budget of {:g} s", secs, s.budget_s));
          continue;
        }
        std::string label = p.m.train_exact ? fmt::format("peer; merge-exact: {} gave our merges (checked)", p.m.name)
                                             : std::string(kNotTokenExact);
        label += fmt::format("; {}; from a text file{}", p.m.build, SizeNote(train, c->train));
        if (!p.m.about.empty()) label += "; " + p.m.about;
        AddPluginBenchmark(reg, name, secs, &p, t, request + "}", static_cast<int64_t>(train.size()), 0, label, 0);
      }
    }
    if (!any) {
      plan.notes.push_back(fmt::format("{} training left out on {}: it trains at vocab {}, which this sweep does not include",
                                       p.m.name, c->name,
                                       p.m.train_vocab_sizes.empty() ? fmt::format("up to {}", p.m.train_max_vocab)
                                                                     : fmt::format("{}", fmt::join(p.m.train_vocab_sizes, ","))));
    }
  }
  if (train_only) return;
  // Encoding with tiktoken's vocabularies.
  for (const std::string& vocabulary : p.m.vocabularies) {
    if (std::find(s.production_vocabs.begin(), s.production_vocabs.end(), vocabulary) == s.production_vocabs.end()) continue;
    const Production* prod = nullptr;
    try {
      prod = &LoadProduction(vocabulary);
    } catch (const std::exception& e) {
      reg.Skip(fmt::format("encode/{}/{}/threads:1", p.m.name, c->name), e.what());
      continue;
    }
    const PreTokenizer& vpre = FindPreTokenizer(prod->model->pretokenizer).get();
    const std::string_view text = Prefix(c->held_out, p.m.encode_max_input, vpre);
    std::vector<uint32_t> expected;
    for (TokenId id : EncodeText(text, vpre, OurEncoder().make, *prod->vocab, 1)) {
      expected.push_back(prod->model->ExternalId(id));
    }
    bool agreed = true;
    PluginEncodeRows(s, reg, c, p, vocabulary, VocabAxis(vocabulary), fmt::format(R"("vocabulary": {})", JsonString(vocabulary)),
                     text, vpre, expected, fmt::format("its own {}", vocabulary), &agreed);
    if (agreed && text.size() == c->held_out.size()) agreeing[{c->name, vocabulary}].push_back(p.m.name);
  }
  // Encoding with our models, exported in a format it reads. Our models use the sweep's pattern; the
  // model formats carry GPT-2's (HF's ByteLevel; merges_u32 says none and means GPT-2's).
  if (p.m.model_formats.empty()) return;
  if (s.pretokenizer != "gpt2") {
    plan.notes.push_back(fmt::format("{} encoding with our models left out: model files for peers use GPT-2's "
                                     "pattern, and this sweep uses {}", p.m.name, s.pretokenizer));
    return;
  }
  const std::string& format = p.m.model_formats.front();
  const std::string_view text = Prefix(c->held_out, p.m.encode_max_input, pre);
  std::vector<uint32_t> left_out;
  for (const auto& [vocab, merges] : models) {
    if (p.m.encode_max_vocab != 0 && vocab > p.m.encode_max_vocab) {
      left_out.push_back(vocab);
      continue;
    }
    std::string model_file;
    try {
      std::string bytes;
      if (format == "hf_json") {
        bytes = ExportHfTokenizerJson(Model{"gpt2", merges});
      } else {
        std::vector<uint32_t> flat;
        for (const Pair& m : merges) flat.push_back(m.left), flat.push_back(m.right);
        bytes.assign(reinterpret_cast<const char*>(flat.data()), flat.size() * sizeof(uint32_t));
      }
      model_file = session->WriteFile(fmt::format("{}-{}.{}", c->name, vocab, format), bytes);
    } catch (const std::exception& e) {
      reg.Skip(fmt::format("encode/{}/{}/vocab:{}/threads:1", p.m.name, c->name, vocab), e.what());
      continue;
    }
    const Vocabulary v(merges);
    const std::vector<TokenId> ids = EncodeText(text, pre, OurEncoder().make, v, 1);
    bool agreed = true;
    PluginEncodeRows(s, reg, c, p, fmt::format("{}:{}:{}", c->name, vocab, format), vocab,
                     fmt::format(R"("model": {}, "model_format": {})", JsonString(model_file), JsonString(format)), text,
                     pre, std::vector<uint32_t>(ids.begin(), ids.end()), fmt::format("our model at vocab {} as {}", vocab, format),
                     &agreed);
  }
  if (!left_out.empty()) {
    plan.notes.push_back(fmt::format("{} encoding with our models left out on {} at vocab {}: its manifest stops at "
                                     "vocab {} (encode.max_vocab)", p.m.name, c->name, fmt::join(left_out, ","),
                                     p.m.encode_max_vocab));
  }
}

void SentencePieceRows(const Settings& s, Registrar& reg, const std::shared_ptr<CorpusData>& c,
                       const std::map<uint32_t, MergeList>& models, bool train_only) {
  if (const std::string why = SentencePieceUnavailable(); !why.empty()) {
    for (const auto& [vocab, merges] : models) {
      for (int t : c->threads) {
        reg.Skip(fmt::format("train_text/sentencepiece/{}/vocab:{}/threads:{}", c->name, vocab, t), why);
      }
    }
    return;
  }
  std::map<int, Budget> train_budget, encode_budget;
  for (const auto& [vocab, merges] : models) {
    std::shared_ptr<const SentencePieceModel> model;
    for (int t : c->threads) {
      const std::string name = fmt::format("train_text/sentencepiece/{}/vocab:{}/threads:{}", c->name, vocab, t);
      Budget& budget = train_budget[t];
      if (!budget.Allows(vocab, 1.0, s.budget_s, fmt::format("to vocab {}", vocab))) {
        reg.Skip(name, budget.skip_reason);
        continue;
      }
      Check(name);
      std::unique_ptr<SentencePieceModel> trained;
      double secs = 0;
      if (train_only) {
        // Synthetic text (100 MB, millions of distinct words): sentencepiece trains in-process and
        // cannot be stopped at the budget, so it first trains on a hundredth of the text (1 MB took
        // it 23 s), and the whole runs only if a hundred times that fits the budget (its time grows
        // at least linearly).
        const size_t cut = c->train.rfind('\n', c->train.size() / 100);
        const std::string_view probe = c->train.substr(0, cut == std::string_view::npos ? c->train.size() / 100 : cut + 1);
        double probe_s = 0;
        try {
          probe_s = TimeOnce([&] { SentencePieceTrain(probe, vocab, t); });
        } catch (const std::exception& e) {
          reg.Skip(name, e.what());
          continue;
        }
        if (static_cast<double>(c->train.size()) / static_cast<double>(std::max<size_t>(probe.size(), 1)) * probe_s > s.budget_s) {
          reg.Skip(name, fmt::format("skipped: training on the first {} bytes took {:.1f} s, so the whole {} bytes is "
                                     "estimated over the budget of {:g} s", probe.size(), probe_s, c->train.size(), s.budget_s));
          continue;
        }
      }
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
    if (!model || train_only) continue;
    for (int t : c->threads) {
      const std::string name = fmt::format("encode/sentencepiece/{}/vocab:{}/threads:{}", c->name, vocab, t);
      Budget& budget = encode_budget[t];
      if (!budget.Allows(vocab, 1.0, s.budget_s, fmt::format("with vocab {}", vocab))) {
        reg.Skip(name, budget.skip_reason);
        continue;
      }
      Check(name);
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

}  // namespace

void PeerBenchmarks(const Settings& s, Registrar& reg, Plan& plan, const std::shared_ptr<CorpusData>& c,
                    const PreTokenizer& pre, const std::map<uint32_t, MergeList>& models, bool train_only) {
  if (s.Selected("sentencepiece")) SentencePieceRows(s, reg, c, models, train_only);
  if (!session) session = std::make_unique<PeerSession>(s);
  for (auto& p : session->peers_) PluginRows(s, reg, plan, c, pre, models, *p, train_only);
}

std::vector<std::string> AgreeingPeers(const std::string& corpus, const std::string& vocabulary) {
  auto it = agreeing.find({corpus, vocabulary});
  return it == agreeing.end() ? std::vector<std::string>{} : it->second;
}

std::vector<std::string> PeerNames(const Settings& s, std::vector<std::string>* problems) {
  std::vector<std::string> roots = {PeersFolder()};
  roots.insert(roots.end(), s.peer_dirs.begin(), s.peer_dirs.end());
  std::vector<std::string> ignored;
  std::vector<std::string> names = {"sentencepiece"};
  for (const auto& m : FindPeers(roots, problems ? *problems : ignored)) names.push_back(m.name);
  return names;
}

void AddPeerContext() {
  const std::string sp = SentencePieceUnavailable();
  std::vector<std::string> peers = {fmt::format("sentencepiece {}", sp.empty() ? SentencePieceVersion() + " in-process (C++ API)" : "skipped: " + sp)};
  std::vector<std::string> names = {"sentencepiece"}, builds = {"sentencepiece=native"}, overhead;
  if (session) {
    for (const auto& p : session->peers_) {
      names.push_back(p->m.name);
      builds.push_back(p->m.name + "=" + p->m.build);
      if (!p->unavailable.empty()) {
        peers.push_back(fmt::format("{} skipped: {}", p->m.name, p->unavailable));
        continue;
      }
      peers.push_back(fmt::format("{} {} ({}, {}; {})", p->m.name, p->version.empty() ? "?" : p->version, p->m.build,
                                  p->m.language, p->runtime));
      for (const auto& [key, us] : p->call_us) {
        if (us > 0) overhead.push_back(fmt::format("{} {}: {:.2f} us", p->m.name, key, us));
      }
    }
    for (const auto& problem : session->problems_) peers.push_back("problem: " + problem);
  }
  benchmark::AddCustomContext("bpebench_peers", fmt::format("{}", fmt::join(peers, "; ")));
  benchmark::AddCustomContext("bpebench_peer_names", fmt::format("{}", fmt::join(names, ",")));
  benchmark::AddCustomContext("bpebench_peer_builds", fmt::format("{}", fmt::join(builds, ",")));
  benchmark::AddCustomContext("bpebench_peer_call_overhead",
                              overhead.empty() ? "none measured" : fmt::format("one call on a one-byte document: {}", fmt::join(overhead, "; ")));
  benchmark::AddCustomContext(
      "bpebench_peers_boundary",
      fmt::format("plug-ins (docs/peers.md) are timed inside the peer around the library calls only, excluding "
                  "process start, loading and file reading; they get the held-out text as {} B documents cut at "
                  "safe boundaries; each row's label says what one call does; sentencepiece: in-process, line by line",
                  kPeerDocumentBytes));
}

void FinishPeers() { session.reset(); }

}  // namespace bpe::harness
