#include "algorithms/formats/counts.h"

#include <boost/unordered/unordered_flat_map.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <charconv>

#include "algorithms/core/error.h"
#include "algorithms/pretokenizers/unicode.h"

namespace bpe {

namespace {

constexpr std::string_view kMagic = "# bpebench counts 1 ";

void AppendEscaped(std::string& out, std::string_view piece) {
  const bool utf8 = unicode::FirstInvalidUtf8(piece) == piece.size();
  for (const char ch : piece) {
    const auto b = static_cast<unsigned char>(ch);
    switch (ch) {
      case '\\': out += "\\\\"; continue;
      case '\t': out += "\\t"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      default: break;
    }
    if (b < 0x20 || b == 0x7F || (b >= 0x80 && !utf8)) {
      out += fmt::format("\\x{:02X}", b);
    } else {
      out += ch;
    }
  }
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string SerializeCounts(const WordCounts& counts, std::string_view pretokenizer) {
  std::vector<const WordCount*> sorted;
  sorted.reserve(counts.size());
  for (const WordCount& w : counts) sorted.push_back(&w);
  std::sort(sorted.begin(), sorted.end(), [](const WordCount* a, const WordCount* b) { return a->word < b->word; });
  std::string out = fmt::format("{}pretokenizer={} pieces={}\n", kMagic, pretokenizer, counts.size());
  for (const WordCount* w : sorted) {
    AppendEscaped(out, w->word);
    fmt::format_to(std::back_inserter(out), "\t{}\n", w->count);
  }
  return out;
}

CountTable ParseCounts(std::string_view text, std::string_view source) {
  size_t line_no = 1;
  auto bad = [&](std::string_view what) -> void { Fail("{}: line {}: {}", source, line_no, what); };
  if (!text.starts_with(kMagic)) {
    Fail("{}: not a bpebench count table (it should start with '{}', as bpebench count writes)", source, kMagic);
  }
  size_t end = text.find('\n');
  if (end == std::string_view::npos) bad("the header line has no end");
  CountTable table;
  uint64_t declared = 0;
  bool has_pieces = false;
  for (std::string_view rest = text.substr(kMagic.size(), end - kMagic.size()); !rest.empty();) {
    const size_t space = rest.find(' ');
    const std::string_view field = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    if (field.starts_with("pretokenizer=")) {
      table.pretokenizer = std::string(field.substr(13));
    } else if (field.starts_with("pieces=")) {
      const std::string_view n = field.substr(7);
      if (std::from_chars(n.data(), n.data() + n.size(), declared).ec != std::errc() ) bad("pieces= is not a number");
      has_pieces = true;
    }
  }
  if (table.pretokenizer.empty()) bad("the header names no pretokenizer=");
  size_t pos = end + 1;
  while (pos < text.size()) {
    ++line_no;
    end = text.find('\n', pos);
    if (end == std::string_view::npos) bad("the last line has no newline: the table is cut short");
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    const size_t tab = line.rfind('\t');
    if (tab == std::string_view::npos) bad("no tab between the piece and its count");
    WordCount w;
    const std::string_view piece = line.substr(0, tab), count = line.substr(tab + 1);
    for (size_t i = 0; i < piece.size(); ++i) {
      if (piece[i] == '\t') bad("a raw tab in a piece (tabs are written \\t)");
      if (piece[i] != '\\') {
        w.word += piece[i];
        continue;
      }
      if (++i >= piece.size()) bad("a piece ends with a lone backslash");
      switch (piece[i]) {
        case '\\': w.word += '\\'; break;
        case 't': w.word += '\t'; break;
        case 'n': w.word += '\n'; break;
        case 'r': w.word += '\r'; break;
        case 'x': {
          const int hi = i + 2 < piece.size() ? HexDigit(piece[i + 1]) : -1;
          const int lo = hi >= 0 ? HexDigit(piece[i + 2]) : -1;
          if (lo < 0) bad("\\x must be followed by two hex digits");
          w.word += static_cast<char>(hi * 16 + lo);
          i += 2;
          break;
        }
        default: bad(fmt::format("unknown escape \\{}", piece[i]));
      }
    }
    if (w.word.empty()) bad("an empty piece");
    const auto [ptr, ec] = std::from_chars(count.data(), count.data() + count.size(), w.count);
    if (ec != std::errc() || ptr != count.data() + count.size() || w.count == 0) {
      bad(fmt::format("count '{}' is not a whole number from 1 to 18446744073709551615", count.substr(0, 30)));
    }
    table.counts.push_back(std::move(w));
  }
  if (has_pieces && declared != table.counts.size()) {
    Fail("{}: the header says {} pieces and the table has {}: it is cut short or was edited", source, declared,
         table.counts.size());
  }
  return table;
}

WordCounts SumCounts(const std::vector<const WordCounts*>& tables) {
  boost::unordered_flat_map<std::string, uint64_t, StringHash, std::equal_to<>> sum;
  for (const WordCounts* t : tables) {
    for (const WordCount& w : *t) {
      auto [it, fresh] = sum.try_emplace(w.word, 0);
      if (__builtin_add_overflow(it->second, w.count, &it->second)) {
        Fail("the count of piece '{}' passes 2^64 when the tables are summed", w.word.substr(0, 40));
      }
    }
  }
  WordCounts out;
  out.reserve(sum.size());
  for (auto& [word, count] : sum) out.push_back({word, count});
  std::sort(out.begin(), out.end(), [](const WordCount& a, const WordCount& b) { return a.word < b.word; });
  return out;
}

}  // namespace bpe
