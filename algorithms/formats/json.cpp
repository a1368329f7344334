#include "algorithms/formats/json.h"

#include <cctype>
#include <charconv>

#include "algorithms/core/error.h"

namespace bpe {

namespace {

class JsonParser {
 public:
  JsonParser(std::string_view s, std::string_view source, std::string_view what)
      : s_(s), source_(source), what_(what) {}
  Json Document() {
    Json v = Value(0);
    Space();
    if (i_ != s_.size()) Bad("unexpected text after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void Bad(std::string_view what) {
    if (i_ >= s_.size()) {  // what_ is "not a tokenizer.json" and the like
      const std::string_view kind = what_.starts_with("not ") ? what_.substr(4) : std::string_view("a JSON file");
      Fail("{}: looks like {} cut short at byte {} ({})", source_, kind, i_, what);
    }
    Fail("{}: {}: {} at byte {}", source_, what_, what, i_);
  }
  void Space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
  }
  Json Value(int depth) {
    if (depth > 32) Bad("nesting too deep");
    Space();
    if (i_ >= s_.size()) Bad("the file ends before a value");
    Json v;
    const char c = s_[i_];
    if (c == '{' || c == '[') {
      const bool object = c == '{';
      v.kind = object ? Json::kObject : Json::kArray;
      ++i_;
      Space();
      if (i_ < s_.size() && s_[i_] == (object ? '}' : ']')) {
        ++i_;
        return v;
      }
      while (true) {
        std::string key;
        if (object) {
          Space();
          if (i_ >= s_.size() || s_[i_] != '"') Bad("expected a key");
          key = String();
          Space();
          if (i_ >= s_.size() || s_[i_] != ':') Bad("expected ':'");
          ++i_;
        }
        v.keys.push_back(std::move(key));
        v.items.push_back(Value(depth + 1));
        Space();
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < s_.size() && s_[i_] == (object ? '}' : ']')) {
          ++i_;
          return v;
        }
        Bad(object ? "expected ',' or '}'" : "expected ',' or ']'");
      }
    }
    if (c == '"') {
      v.kind = Json::kString;
      v.text = String();
      return v;
    }
    for (std::string_view word : {"null", "true", "false"}) {
      if (s_.substr(i_, word.size()) == word) {
        i_ += word.size();
        v.kind = word == "null" ? Json::kNull : Json::kBool;
        v.number = word == "true";
        return v;
      }
    }
    size_t end = i_;
    while (end < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[end])) || s_[end] == '-' ||
                               s_[end] == '+' || s_[end] == '.' || s_[end] == 'e' || s_[end] == 'E')) {
      ++end;
    }
    auto [ptr, ec] = std::from_chars(s_.data() + i_, s_.data() + end, v.number);
    if (end == i_ || ec != std::errc() || ptr != s_.data() + end) Bad("expected a value");
    v.kind = Json::kNumber;
    i_ = end;
    return v;
  }
  std::string String() {
    ++i_;  // opening quote
    std::string out;
    while (true) {
      if (i_ >= s_.size()) Bad("unterminated string");
      const char c = s_[i_++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) Bad("unterminated string");
      const char e = s_[i_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case '"': case '\\': case '/': out += e; break;
        case 'u': {
          uint32_t cp = Hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF && s_.substr(i_, 2) == "\\u") {
            i_ += 2;
            const uint32_t low = Hex4();
            if (low < 0xDC00 || low > 0xDFFF) Bad("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          AppendUtf8(out, cp);
          break;
        }
        default: Bad("bad escape in a string");
      }
    }
  }
  uint32_t Hex4() {
    if (i_ + 4 > s_.size()) Bad("bad \\u escape");
    uint32_t v = 0;
    auto [ptr, ec] = std::from_chars(s_.data() + i_, s_.data() + i_ + 4, v, 16);
    if (ec != std::errc() || ptr != s_.data() + i_ + 4) Bad("bad \\u escape");
    i_ += 4;
    return v;
  }
  static void AppendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string_view s_;
  std::string_view source_;
  std::string_view what_;
  size_t i_ = 0;
};

}  // namespace

Json ParseJson(std::string_view bytes, std::string_view source, std::string_view what) {
  return JsonParser(bytes, source, what).Document();
}

const Json* Json::Find(std::string_view key) const {
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] == key) return &items[i];
  }
  return nullptr;
}

void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (u < 0x20) {
      out += fmt::format("\\u{:04x}", u);
    } else {
      out += ch;
    }
  }
  out += '"';
}

}  // namespace bpe
