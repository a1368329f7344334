#include "algorithms/formats/tiktoken.h"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "algorithms/core/error.h"
#include "algorithms/runtime/file_io.h"
#include "algorithms/formats/hf_json.h"
#include "algorithms/formats/json.h"
#include "algorithms/formats/model_file.h"
#include "algorithms/registry.h"
#include "algorithms/core/types.h"

namespace bpe {

namespace {

// The patterns of the npm package's rank files (pat_str), and the pre-tokenizer of each.
struct KnownPattern {
  std::string_view pattern;
  std::string_view pretokenizer;
};
constexpr KnownPattern kPatterns[] = {
    {R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)", "gpt2"},
    {R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
     "cl100k"},
    {R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|)"
     R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|)"
     R"(\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
     "o200k"},
};

constexpr std::string_view kNames[][2] = {
    {"gpt2", "gpt2"}, {"r50k_base", "gpt2"}, {"cl100k_base", "cl100k"}, {"o200k_base", "o200k"}};

// ---- base64 ----

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool DecodeBase64(std::string_view in, std::string& out) {
  out.clear();
  if (in.empty() || in.size() % 4 != 0) return false;
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '=') {
      if (i + 2 < in.size()) return false;  // '=' only in the last two places
      ++pad;
      continue;
    }
    if (pad) return false;
    const int v = Base64Value(in[i]);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return !out.empty();
}

// ---- ranks -> model ----

using RankMap = boost::unordered_flat_map<std::string, uint32_t, StringHash, std::equal_to<>>;

// tiktoken's procedure on `bytes`, letting only tokens ranked below `below` merge: returns the
// boundaries of the parts (first 0, last bytes.size()). As tiktoken's own byte_pair_merge, each
// adjacent pair's rank is looked up once, and again only where a merge changed a part beside it,
// rather than every pair after every merge (loading o200k_base with `rank`: 0.33-0.49 s against
// 0.36-0.51 s, alternated runs of the CLI on the 2-vCPU VM).
// `longest` is the longest token ranked below `below`: a longer part cannot be one, and is not
// looked up. Long tokens go to MergeBelowLong.
std::vector<size_t> MergeBelowLong(std::string_view bytes, const RankMap& ranks, uint32_t below, size_t longest);

std::vector<size_t> MergeBelow(std::string_view bytes, const RankMap& ranks, uint32_t below, size_t longest) {
  if (bytes.size() > 64) return MergeBelowLong(bytes, ranks, below, longest);
  std::vector<size_t> cut(bytes.size() + 1);
  for (size_t i = 0; i <= bytes.size(); ++i) cut[i] = i;
  // The rank of parts i and i + 1 joined (i + 2 < cut.size()); UINT32_MAX if they may not merge.
  const auto rank_of = [&](size_t i) -> uint32_t {
    if (cut[i + 2] - cut[i] > longest) return UINT32_MAX;
    const auto it = ranks.find(bytes.substr(cut[i], cut[i + 2] - cut[i]));
    return it != ranks.end() && it->second < below ? it->second : UINT32_MAX;
  };
  std::vector<uint32_t> rank(bytes.empty() ? 0 : bytes.size() - 1);  // per adjacent pair of parts
  for (size_t i = 0; i < rank.size(); ++i) rank[i] = rank_of(i);
  while (!rank.empty()) {
    const auto best = std::min_element(rank.begin(), rank.end());  // the leftmost lowest
    if (*best == UINT32_MAX) break;
    const size_t at = static_cast<size_t>(best - rank.begin());
    cut.erase(cut.begin() + static_cast<std::ptrdiff_t>(at) + 1);
    rank.erase(best);
    if (at < rank.size()) rank[at] = rank_of(at);  // the merged part with the one after it
    if (at > 0) rank[at - 1] = rank_of(at - 1);    // the one before it with the merged part
  }
  return cut;
}

// The same procedure in O(n log n) for a long token (a hostile rank file's token of a million
// letters would take the scan above minutes): parts as a linked list over their start positions, and
// a min-heap of (rank, start) for every adjacent pair that may merge; popping gives the lowest rank,
// leftmost on ties, as the scan does. An entry is stale when its part was merged away or the pair at
// its start has changed, which a fresh lookup tells.
std::vector<size_t> MergeBelowLong(std::string_view bytes, const RankMap& ranks, uint32_t below, size_t longest) {
  const size_t n = bytes.size();
  std::vector<size_t> next(n), prev(n);
  std::vector<char> alive(n, 1);
  for (size_t i = 0; i < n; ++i) {
    next[i] = i + 1;  // n: the end
    prev[i] = i - 1;  // SIZE_MAX: the start
  }
  const auto rank_at = [&](size_t i) -> uint32_t {  // parts starting at i and next[i], joined
    const size_t j = next[i];
    if (j >= n) return UINT32_MAX;
    const size_t end = next[j];
    if (end - i > longest) return UINT32_MAX;
    const auto it = ranks.find(bytes.substr(i, end - i));
    return it != ranks.end() && it->second < below ? it->second : UINT32_MAX;
  };
  using Entry = std::pair<uint32_t, size_t>;
  std::vector<Entry> heap;
  for (size_t i = 0; i + 1 < n; ++i) {
    if (const uint32_t r = rank_at(i); r != UINT32_MAX) heap.emplace_back(r, i);
  }
  std::make_heap(heap.begin(), heap.end(), std::greater<>());
  const auto push = [&](size_t i) {
    if (const uint32_t r = rank_at(i); r != UINT32_MAX) {
      heap.emplace_back(r, i);
      std::push_heap(heap.begin(), heap.end(), std::greater<>());
    }
  };
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<>());
    const auto [rank, i] = heap.back();
    heap.pop_back();
    if (!alive[i] || rank_at(i) != rank) continue;  // stale
    const size_t j = next[i];
    alive[j] = 0;
    next[i] = next[j];
    if (next[j] < n) prev[next[j]] = i;
    if (prev[i] != SIZE_MAX) push(prev[i]);
    push(i);
  }
  std::vector<size_t> cut;
  for (size_t i = 0; i < n; i = next[i]) cut.push_back(i);
  cut.push_back(n);
  return cut;
}

// The next field of `rest` up to `sep` (which is dropped); all of rest when there is no sep.
std::string_view SplitOff(std::string_view& rest, char sep) {
  const size_t at = rest.find(sep);
  const std::string_view field = rest.substr(0, at);
  rest.remove_prefix(at == std::string_view::npos ? rest.size() : at + 1);
  return field;
}

// Rank -> token bytes as a rank file is read, for both formats: base64 decoding, a rank past the
// most the file can hold, and a rank given twice are errors naming the place ("<what> <line>").
struct RankTable {
  RankTable(size_t max_tokens, std::string_view source) : max(max_tokens), source(source) {}
  void Put(uint64_t rank, std::string_view base64, std::string_view what, size_t line) {
    if (!DecodeBase64(base64, decoded)) Fail("{}: {} {}: '{}' is not base64", source, what, line, base64.substr(0, 20));
    if (rank >= max) {
      Fail("{}: {} {}: rank {} is out of range: the file holds at most {} tokens", source, what, line, rank, max);
    }
    if (tokens.size() <= rank) tokens.resize(rank + 1);
    if (!tokens[rank].empty()) Fail("{}: {} {}: rank {} is given twice", source, what, line, rank);
    tokens[rank] = decoded;
  }
  size_t max;
  std::string_view source;
  std::vector<std::string> tokens;
  std::string decoded;
};

// tokens[r] = the bytes of rank r (ranks must be 0..n-1, each once).
Model ModelFromRanks(std::vector<std::string> tokens, std::string_view pretokenizer, std::string_view source) {
  RankMap ranks;
  ranks.reserve(tokens.size());
  for (uint32_t r = 0; r < tokens.size(); ++r) {
    if (tokens[r].empty()) Fail("{}: rank {} is missing", source, r);
    if (!ranks.emplace(tokens[r], r).second) Fail("{}: rank {} repeats the bytes of rank {}", source, r, ranks[tokens[r]]);
  }
  Model m;
  m.pretokenizer = std::string(pretokenizer);
  m.external_ids.resize(256);
  for (int b = 0; b < 256; ++b) {
    auto it = ranks.find(std::string(1, static_cast<char>(b)));
    if (it == ranks.end()) Fail("{}: byte 0x{:02X} has no token, so some text could not be encoded", source, b);
    m.external_ids[b] = it->second;
  }
  // Our id for each rank: bytes keep their value, longer tokens count up from 256 in rank order.
  std::vector<TokenId> ours(tokens.size());
  size_t longest = 0;  // of the tokens ranked below r
  for (uint32_t r = 0; r < tokens.size(); longest = std::max(longest, tokens[r].size()), ++r) {
    if (tokens[r].size() == 1) {
      ours[r] = static_cast<uint8_t>(tokens[r][0]);
      continue;
    }
    const std::vector<size_t> cut = MergeBelow(tokens[r], ranks, r, longest);
    if (cut.size() != 3) {
      Fail("{}: token of rank {} ({} bytes) is not one merge of two lower-ranked tokens ({} parts), so no "
           "merge list can produce it", source, r, tokens[r].size(), cut.size() - 1);
    }
    const std::string_view t = tokens[r];
    m.merges.push_back({ours[ranks.find(t.substr(0, cut[1]))->second], ours[ranks.find(t.substr(cut[1]))->second]});
    ours[r] = static_cast<TokenId>(255 + m.merges.size());
    m.external_ids.push_back(r);
  }
  return m;
}

std::string_view PretokenizerForName(std::string_view name) {
  for (const auto& [n, pre] : kNames) {
    if (n == name) return pre;
  }
  return "";
}

}  // namespace

bool IsTiktokenName(std::string_view name) { return !PretokenizerForName(name).empty(); }

namespace {
std::vector<std::string>& SearchPath() {
  static std::vector<std::string> dirs;
  return dirs;
}
}  // namespace

void SetTiktokenSearchPath(std::vector<std::string> dirs) { SearchPath() = std::move(dirs); }
const std::vector<std::string>& TiktokenSearchPath() { return SearchPath(); }

std::string FindTiktokenFile(std::string_view name) {
  if (!IsTiktokenName(name)) return "";
  const std::string file = (name == "r50k_base" ? std::string("gpt2") : std::string(name)) + ".json";
  for (const std::string& dir : SearchPath()) {
    const std::filesystem::path path = std::filesystem::path(dir) / file;
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec)) return path.string();
  }
  return "";
}

Model LoadTiktoken(std::string_view name) {
  if (!IsTiktokenName(name)) Fail("unknown tiktoken vocabulary '{}' (known: gpt2, r50k_base, cl100k_base, o200k_base)", name);
  const std::string path = FindTiktokenFile(name);
  if (path.empty()) {
    std::string looked;
    for (const std::string& dir : SearchPath()) looked += (looked.empty() ? "" : ", ") + dir;
    Fail("{}: no rank file found (looked in: {}; scripts/setup installs the npm tiktoken package, or set "
         "BPEBENCH_TIKTOKEN_DIR)", name, looked.empty() ? "no folders: the search path is empty" : looked);
  }
  return ParseTiktokenJson(ReadFile(path), path);
}

Model ParseTiktokenJson(std::string_view bytes, std::string_view source) {
  const Json doc = ParseJson(bytes, source, "not a tiktoken rank file");
  if (doc.kind != Json::kObject) Fail("{}: not a tiktoken rank file: not a JSON object", source);
  const Json* pat = doc.Find("pat_str");
  const Json* ranks = doc.Find("bpe_ranks");
  if (!pat || pat->kind != Json::kString || !ranks || ranks->kind != Json::kString) {
    Fail("{}: not a tiktoken rank file: no pat_str and bpe_ranks strings", source);
  }
  std::string_view pretokenizer;
  for (const auto& k : kPatterns) {
    if (k.pattern == pat->text) pretokenizer = k.pretokenizer;
  }
  if (pretokenizer.empty()) {
    Fail("{}: its pattern is not one bpebench implements (gpt2, cl100k, o200k): {}", source,
         pat->text.substr(0, 80));
  }
  // At most one token per word of bpe_ranks: a rank beyond that is an error before it is allocated.
  std::string_view rest = ranks->text;
  RankTable table(static_cast<size_t>(std::count(rest.begin(), rest.end(), ' ')) + 1, source);
  for (size_t line_no = 1; !rest.empty(); ++line_no) {
    std::string_view line = SplitOff(rest, '\n');
    if (line.empty()) continue;
    // "! <first rank> <token> <token> ..."
    if (SplitOff(line, ' ') != "!") Fail("{}: bpe_ranks line {} does not start with '!'", source, line_no);
    const std::string_view first = SplitOff(line, ' ');
    uint64_t rank = 0;
    auto [p, ec] = std::from_chars(first.data(), first.data() + first.size(), rank);
    if (ec != std::errc() || p != first.data() + first.size() || first.empty()) {
      Fail("{}: bpe_ranks line {}: '{}' is not a rank", source, line_no, first.substr(0, 20));
    }
    for (; !line.empty(); ++rank) {
      const std::string_view word = SplitOff(line, ' ');
      table.Put(rank, word, "bpe_ranks line", line_no);
    }
  }
  std::vector<std::string> tokens = std::move(table.tokens);
  if (tokens.empty()) Fail("{}: no ranks", source);
  return ModelFromRanks(std::move(tokens), pretokenizer, source);
}

Model ParseTiktokenRanks(std::string_view bytes, std::string_view source, std::string_view pretokenizer) {
  FindPreTokenizer(pretokenizer);  // throws on an unknown name
  // Ranks are 0..n-1 for n tokens: a rank past the number of lines is an error before anything
  // is allocated for it (a one-line file naming rank 16,000,000 must not cost memory).
  RankTable table(static_cast<size_t>(std::count(bytes.begin(), bytes.end(), '\n')) + 1, source);
  for (size_t line_no = 1; !bytes.empty(); ++line_no) {
    std::string_view line = SplitOff(bytes, '\n');
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const std::string_view token = SplitOff(line, ' ');
    uint64_t rank = 0;
    auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), rank);
    if (token.empty() || line.empty() || ec != std::errc() || p != line.data() + line.size()) {
      Fail("{}:{}: expected '<base64 token> <rank>'", source, line_no);
    }
    table.Put(rank, token, "line", line_no);
  }
  std::vector<std::string> tokens = std::move(table.tokens);
  if (tokens.empty()) Fail("{}: empty rank file", source);
  return ModelFromRanks(std::move(tokens), pretokenizer, source);
}

namespace {

std::string_view SkipJsonSpace(std::string_view s) {
  while (!s.empty() && (s[0] == ' ' || s[0] == '\n' || s[0] == '\r' || s[0] == '\t')) s.remove_prefix(1);
  return s;
}

// What a file that is no model looks like, for the error message.
std::string Describe(std::string_view head) {
  if (head.empty()) return "it is empty";
  if (head.find('\0') != std::string_view::npos) return "it holds NUL bytes: binary data";
  const size_t eol = head.find_first_of("\r\n");
  return fmt::format("its first line is '{}'", head.substr(0, std::min<size_t>(eol, 60)));
}

}  // namespace

Model LoadAnyModel(const std::string& spec, std::string_view pretokenizer) {
  if (!pretokenizer.empty()) FindPreTokenizer(pretokenizer);  // an unknown name is an error
  if (IsTiktokenName(spec) && !std::filesystem::exists(spec)) {
    Model m = LoadTiktoken(spec);
    if (!pretokenizer.empty() && pretokenizer != m.pretokenizer) {
      Fail("--pretokenizer {} contradicts the vocabulary {}, whose pattern is {}", pretokenizer, spec, m.pretokenizer);
    }
    return m;
  }
  // What the file is, from its first bytes: a file that is no model is refused without reading it
  // whole (/dev/zero, say).
  const std::string head = ReadFilePrefix(spec, 4096);
  if (head.empty()) Fail("{}: empty model file", spec);
  if (head.starts_with("\xEF\xBB\xBF")) {
    Fail("{}: the file starts with a UTF-8 byte order mark (BOM), which no model file has; remove it", spec);
  }
  const bool tiktoken_ranks = spec.size() > 9 && spec.ends_with(".tiktoken");
  const bool json = SkipJsonSpace(head).starts_with("{");
  if (!tiktoken_ranks && !json && !head.starts_with("bpebench-model")) {
    Fail("{}: not a bpebench model file (it should start with 'bpebench-model 1'), nor a tokenizer.json or "
         "tiktoken rank file: {}", spec, Describe(head));
  }
  const std::string bytes = ReadFile(spec, kMaxModelFileBytes, "a model file");
  Model m;
  if (tiktoken_ranks) {
    std::string pre(pretokenizer);
    if (pre.empty()) {
      const std::string stem = std::filesystem::path(spec).stem().string();
      pre = std::string(PretokenizerForName(stem));
      if (pre.empty()) {
        Fail("{}: a .tiktoken file does not name its pattern: give --pretokenizer (gpt2, cl100k, o200k)", spec);
      }
    }
    return ParseTiktokenRanks(bytes, spec, pre);
  }
  if (json && bytes.find("\"bpe_ranks\"") != std::string::npos && bytes.find("\"pat_str\"") != std::string::npos) {
    m = ParseTiktokenJson(bytes, spec);
  } else if (json) {
    m = ParseHfTokenizerJson(bytes, spec);
  } else {
    m = ParseModel(bytes, spec);
  }
  if (!pretokenizer.empty() && pretokenizer != m.pretokenizer) {
    Fail("--pretokenizer {} contradicts the model {}, whose pattern is {}", pretokenizer, spec, m.pretokenizer);
  }
  return m;
}

}  // namespace bpe
