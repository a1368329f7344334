#include "algorithms/formats/model_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <vector>

#include "algorithms/core/error.h"
#include "algorithms/runtime/file_io.h"
#include "algorithms/registry.h"
#include "algorithms/core/vocabulary.h"

namespace bpe {
namespace {

constexpr std::string_view kMagic = "bpebench-model 1";
// More merges than any real tokenizer has (o200k has 200k); a guard against absurd headers.
constexpr uint64_t kMaxMerges = 1u << 24;

// FNV-1a over the merge lines: detects edited or damaged merges that still parse.
uint64_t Checksum(const MergeList& merges) {
  uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) {
      h ^= (v >> (8 * i)) & 0xFF;
      h *= 0x100000001b3ull;
    }
  };
  for (const Pair& p : merges) {
    mix(p.left);
    mix(p.right);
  }
  return h;
}

class LineReader {
 public:
  LineReader(std::string_view bytes, std::string_view source) : rest_(bytes), source_(source) {}

  // The next line without its '\n'; a missing final newline counts as truncation.
  std::string_view Next(std::string_view what) {
    ++line_;
    const size_t nl = rest_.find('\n');
    if (nl == std::string_view::npos) {
      Fail("{}: truncated model file: expected {} on line {}", source_, what, line_);
    }
    std::string_view line = rest_.substr(0, nl);
    rest_.remove_prefix(nl + 1);
    return line;
  }
  // "key value": returns value.
  std::string_view Field(std::string_view key) {
    std::string_view line = Next(fmt::format("'{}'", key));
    if (line.size() <= key.size() + 1 || line.substr(0, key.size()) != key ||
        line[key.size()] != ' ') {
      Bad("expected '{} ...', found '{}'", key, Shorten(line));
    }
    return line.substr(key.size() + 1);
  }
  uint64_t Number(std::string_view text, std::string_view what, int base = 10) {
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
      Bad("{} '{}' is not a number", what, Shorten(text));
    }
    return value;
  }
  bool AtEnd() const { return rest_.empty(); }
  size_t line() const { return line_; }

  template <typename... Args>
  [[noreturn]] void Bad(fmt::format_string<Args...> format, Args&&... args) {
    Fail("{}:{}: {}", source_, line_, fmt::format(format, std::forward<Args>(args)...));
  }

 private:
  static std::string Shorten(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 40)) out += (c >= 32 && c < 127) ? c : '?';
    return s.size() > 40 ? out + "..." : out;
  }
  std::string_view rest_;
  std::string_view source_;
  size_t line_ = 0;
};

}  // namespace


std::string SerializeModel(const Model& model) {
  if (!model.external_ids.empty()) {
    Fail("this vocabulary has its own ids (a tiktoken vocabulary) and is not written as a bpebench model");
  }
  std::string out;
  out.reserve(16 * model.merges.size() + 128);
  fmt::format_to(std::back_inserter(out), "{}\npretokenizer {}\nmerges {}\n", kMagic,
                 model.pretokenizer, model.merges.size());
  for (const Pair& p : model.merges) fmt::format_to(std::back_inserter(out), "{} {}\n", p.left, p.right);
  fmt::format_to(std::back_inserter(out), "checksum {:016x}\nend\n", Checksum(model.merges));
  return out;
}

Model ParseModel(std::string_view bytes, std::string_view source) {
  if (bytes.empty()) Fail("{}: empty model file", source);
  if (bytes.substr(0, kMagic.size()) != kMagic) {
    Fail("{}: not a bpebench model file (it should start with '{}')", source, kMagic);
  }
  if (bytes.substr(kMagic.size(), 2) == "\r\n") {
    Fail("{}: the model file has CRLF (Windows) line ends; bpebench model files use LF (convert it back, "
         "for example with dos2unix)", source);
  }
  LineReader in(bytes, source);
  if (in.Next("the header") != kMagic) in.Bad("unsupported model format version");
  Model model;
  model.pretokenizer = std::string(in.Field("pretokenizer"));
  try {
    FindPreTokenizer(model.pretokenizer);
  } catch (const Error& e) {
    in.Bad("{}", e.what());
  }
  const uint64_t count = in.Number(in.Field("merges"), "merge count");
  if (count > kMaxMerges) in.Bad("merge count {} is larger than the limit {}", count, kMaxMerges);
  // Each merge line takes at least 4 bytes: a huge count in a small file is damage, not a model.
  if (count > bytes.size() / 4) in.Bad("merge count {} does not fit in a {}-byte file", count, bytes.size());
  model.merges.reserve(count);
  for (uint64_t k = 0; k < count; ++k) {
    std::string_view line = in.Next(fmt::format("merge {} of {}", k, count));
    const size_t space = line.find(' ');
    if (space == std::string_view::npos) in.Bad("merge {}: expected two token ids", k);
    const uint64_t left = in.Number(line.substr(0, space), "token id");
    const uint64_t right = in.Number(line.substr(space + 1), "token id");
    const uint64_t next = MergedId(k);
    if (left >= next || right >= next) {
      in.Bad("merge {} ({} {}) refers to a token id that does not exist yet (ids below {} exist)",
               k, left, right, next);
    }
    model.merges.push_back({static_cast<TokenId>(left), static_cast<TokenId>(right)});
  }
  const uint64_t checksum = in.Number(in.Field("checksum"), "checksum", 16);
  if (checksum != Checksum(model.merges)) in.Bad("checksum mismatch: the merges are damaged");
  if (in.Next("'end'") != "end") in.Bad("expected 'end'");
  if (!in.AtEnd()) in.Bad("unexpected data after 'end'");
  try {
    Vocabulary check(model.merges);  // rejects repeated pairs
  } catch (const Error& e) {
    Fail("{}: {}", source, e.what());
  }
  return model;
}

Model LoadModel(const std::string& path) {
  // A file that does not start as a model is refused from its first bytes, not read whole.
  const std::string head = ReadFilePrefix(path, kMagic.size());
  if (!head.empty() && head != kMagic) ParseModel(head, path);  // throws: not a bpebench model file
  return ParseModel(ReadFile(path, kMaxModelFileBytes, "a model file"), path);
}

void SaveModel(const Model& model, const std::string& path) {
  WriteFileAtomically(path, SerializeModel(model));
}

}  // namespace bpe
