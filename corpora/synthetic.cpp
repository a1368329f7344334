#include "corpora/synthetic.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>

#include "algorithms/core/error.h"
#include "algorithms/runtime/parallel.h"
#include "corpora/corpus.h"

namespace bpe {
namespace {

constexpr size_t kBlock = size_t{1} << 20;  // a block of text ends at the first line end past this
constexpr uint64_t kHead = 4096;            // the most frequent types, sampled by an alias table
constexpr uint64_t kCached = 65536;         // the most frequent types' words, made once
constexpr size_t kLine = 71;                // bytes per line at most (but for one long word)
constexpr int kLetters = 26;

uint64_t Mix(uint64_t a, uint64_t b) {
  uint64_t z = a ^ (b + 0x9E3779B97F4A7C15ull + (a << 6) + (a >> 2));
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// splitmix64: small, fast, and good enough for text that only has to look random.
struct Rng {
  uint64_t state;
  uint64_t Next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>((uint64_t{static_cast<uint32_t>(Next() >> 32)} * n) >> 32); }
};

// Vose's alias method: a draw from n weighted outcomes in O(1).
class Alias {
 public:
  Alias() = default;
  explicit Alias(const std::vector<double>& weights) : prob_(weights.size()), alias_(weights.size()) {
    const size_t n = weights.size();
    double total = 0;
    for (double w : weights) total += w;
    std::vector<double> scaled(n);
    std::vector<uint32_t> small, large;
    for (size_t i = 0; i < n; ++i) {
      scaled[i] = total > 0 ? weights[i] * static_cast<double>(n) / total : 1.0;
      (scaled[i] < 1.0 ? small : large).push_back(static_cast<uint32_t>(i));
    }
    while (!small.empty() && !large.empty()) {
      const uint32_t s = small.back(), l = large.back();
      small.pop_back();
      prob_[s] = scaled[s];
      alias_[s] = l;
      scaled[l] -= 1.0 - scaled[s];
      if (scaled[l] < 1.0) {
        large.pop_back();
        small.push_back(l);
      }
    }
    for (uint32_t i : small) prob_[i] = 1.0, alias_[i] = i;
    for (uint32_t i : large) prob_[i] = 1.0, alias_[i] = i;
  }
  uint32_t Sample(Rng& rng) const {
    const uint32_t i = rng.Below(static_cast<uint32_t>(prob_.size()));
    return rng.Uniform() < prob_[i] ? i : alias_[i];
  }

 private:
  std::vector<double> prob_;
  std::vector<uint32_t> alias_;
};

// Zipf's law on the whole numbers lo..hi (weights r^-s) by rejection-inversion (Hormann and
// Derflinger, "Rejection-inversion to generate variates from monotone discrete distributions",
// 1996): invert the integral H of x^-s, accept r when the draw falls in the last h(r) of r's
// interval. The helpers keep H exact as s nears 1.
class ZipfRange {
 public:
  ZipfRange(double s, uint64_t lo, uint64_t hi) : s_(s), lo_(lo), hi_(hi) {
    u_low_ = H(static_cast<double>(lo) + 0.5) - h(static_cast<double>(lo));
    u_high_ = H(static_cast<double>(hi) + 0.5);
  }
  // The integral of x^-s over [lo - 0.5, hi + 0.5]: the range's share of the weight, within a
  // small fraction (what the head and the tail are mixed by).
  double Mass() const { return H(static_cast<double>(hi_) + 0.5) - H(static_cast<double>(lo_) - 0.5); }
  uint64_t Sample(Rng& rng) const {
    for (;;) {
      const double u = u_low_ + rng.Uniform() * (u_high_ - u_low_);
      const double x = HInverse(u);
      const uint64_t r = std::clamp<uint64_t>(static_cast<uint64_t>(std::max(x + 0.5, 1.0)), lo_, hi_);
      if (u >= H(static_cast<double>(r) + 0.5) - h(static_cast<double>(r))) return r;
    }
  }

 private:
  static double Helper1(double x) { return std::abs(x) > 1e-8 ? std::log1p(x) / x : 1 - x * (0.5 - x / 3); }
  static double Helper2(double x) { return std::abs(x) > 1e-8 ? std::expm1(x) / x : 1 + x * 0.5 * (1 + x / 3); }
  double h(double x) const { return std::exp(-s_ * std::log(x)); }
  double H(double x) const {
    const double lx = std::log(x);
    return Helper2((1 - s_) * lx) * lx;
  }
  double HInverse(double x) const {
    const double t = std::max(x * (1 - s_), -1.0);
    return std::exp(Helper1(t) * x);
  }

  double s_;
  uint64_t lo_, hi_;
  double u_low_ = 0, u_high_ = 0;
};

// The letters of the default corpus: how words start, and which letter follows which inside words.
struct LetterModel {
  Alias initial;
  std::array<Alias, kLetters> follow;
};

LetterModel LearnLetters() {
  const std::string text = LoadCorpusText(kDefaultCorpus);
  std::vector<double> initial(kLetters, 0);
  std::array<std::vector<double>, kLetters> follow;
  for (auto& f : follow) f.assign(kLetters, 0);
  int prev = -1;
  for (char c : text) {
    const int l = c >= 'a' && c <= 'z' ? c - 'a' : c >= 'A' && c <= 'Z' ? c - 'A' : -1;
    if (l >= 0) {
      if (prev < 0) {
        initial[l] += 1;
      } else {
        follow[prev][l] += 1;
      }
    }
    prev = l;
  }
  LetterModel m;
  m.initial = Alias(initial);
  for (int i = 0; i < kLetters; ++i) m.follow[i] = Alias(follow[i]);
  return m;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The 26 letters of each script, as UTF-8 (Latin a..z; Cyrillic U+0430..U+0449; Greek U+03B1..U+03CA).
struct Script {
  std::string name;
  std::array<std::string, kLetters> lower, upper;
};

Script MakeScript(const std::string& name) {
  Script s{name, {}, {}};
  for (int i = 0; i < kLetters; ++i) {
    if (name == "latin") {
      s.lower[i] = std::string(1, static_cast<char>('a' + i));
      s.upper[i] = std::string(1, static_cast<char>('A' + i));
    } else if (name == "cyrillic") {
      AppendUtf8(s.lower[i], 0x0430 + i);
      AppendUtf8(s.upper[i], 0x0410 + i);
    } else if (name == "greek") {
      AppendUtf8(s.lower[i], 0x03B1 + i);
      s.upper[i] = s.lower[i];  // Greek capitals skip U+03A2; no capitals, to keep the mapping simple
    } else {
      Fail("--scripts: unknown script '{}' (latin, cyrillic, greek)", name);
    }
  }
  return s;
}

class Generator {
 public:
  explicit Generator(const SyntheticOptions& o) : o_(o), letters_(LearnLetters()) {
    for (const std::string& name : o.scripts) scripts_.push_back(MakeScript(name));
    const uint64_t head = std::min(kHead, o.types);
    std::vector<double> weights(head);
    for (uint64_t r = 1; r <= head; ++r) weights[r - 1] = std::pow(static_cast<double>(r), -o.zipf);
    head_ = Alias(weights);
    double head_mass = 0;
    for (double w : weights) head_mass += w;
    if (o.types > head) {
      tail_ = std::make_unique<ZipfRange>(o.zipf, head + 1, o.types);
      head_share_ = head_mass / (head_mass + tail_->Mass());
    }
    const uint64_t cached = std::min(kCached, o.types);
    cached_offsets_.push_back(0);
    for (uint64_t r = 1; r <= cached; ++r) {
      MakeWord(r, cached_words_, cached_script_);
      cached_offsets_.push_back(static_cast<uint32_t>(cached_words_.size()));
    }
  }

  // Block k of the text: lines of words, ending with a newline.
  std::string Block(uint64_t k) const {
    Rng rng{Mix(o_.seed, k ^ 0x5EEDB10Cull)};
    std::string out, scratch;
    std::vector<uint8_t> scratch_script;
    out.reserve(kBlock + 256);
    size_t line = 0;
    bool capital = true;
    while (out.size() < kBlock) {
      const uint64_t r = rng.Uniform() < head_share_ ? head_.Sample(rng) + 1 : tail_->Sample(rng);
      std::string_view word;
      uint8_t script;
      if (r <= cached_offsets_.size() - 1) {
        word = std::string_view(cached_words_).substr(cached_offsets_[r - 1], cached_offsets_[r] - cached_offsets_[r - 1]);
        script = cached_script_[r - 1];
      } else {
        scratch.clear();
        scratch_script.clear();
        MakeWord(r, scratch, scratch_script);
        word = scratch;
        script = scratch_script[0];
      }
      if (line > 0) {
        if (line + 1 + word.size() > kLine) {
          out += '\n';
          line = 0;
        } else {
          out += ' ';
          ++line;
        }
      }
      const size_t at = out.size();
      out += word;
      if (capital && scripts_[script].name == "latin") out[at] = static_cast<char>(out[at] - 'a' + 'A');
      capital = false;
      line += word.size();
      const uint32_t p = rng.Below(100);
      if (p < 5) {
        out += ',';
        ++line;
      } else if (p < 9) {
        out += '.';
        ++line;
        capital = true;
      }
    }
    out += '\n';
    return out;
  }

 private:
  // Type r's word (its letters from its own stream of random numbers) appended to `out`, its
  // script's index to `script`.
  void MakeWord(uint64_t r, std::string& out, std::vector<uint8_t>& script) const {
    Rng rng{Mix(o_.seed ^ 0x7E57ull, r)};
    const int jitter = static_cast<int>(rng.Below(5)) - 2;
    const int length = std::clamp(static_cast<int>(std::lround(2 + 0.4 * std::log(static_cast<double>(r)))) + jitter, 1, 24);
    const uint32_t s = scripts_.size() == 1 ? 0 : rng.Below(static_cast<uint32_t>(scripts_.size()));
    script.push_back(static_cast<uint8_t>(s));
    uint32_t letter = letters_.initial.Sample(rng);
    out += scripts_[s].lower[letter];
    for (int i = 1; i < length; ++i) {
      letter = letters_.follow[letter].Sample(rng);
      out += scripts_[s].lower[letter];
    }
  }

  SyntheticOptions o_;
  LetterModel letters_;
  std::vector<Script> scripts_;
  Alias head_;
  std::unique_ptr<ZipfRange> tail_;
  double head_share_ = 1.0;
  std::string cached_words_;
  std::vector<uint32_t> cached_offsets_;
  std::vector<uint8_t> cached_script_;
};

}  // namespace

std::vector<std::string> SyntheticScripts() { return {"latin", "cyrillic", "greek"}; }

void GenerateSynthetic(const SyntheticOptions& o, const std::function<void(std::string_view)>& sink) {
  if (o.types < 1 || o.types > (uint64_t{1} << 40)) Fail("--types {} is out of range (1..{})", o.types, uint64_t{1} << 40);
  if (!(o.zipf >= 1.0001 && o.zipf <= 4)) Fail("--zipf {} is out of range (1.0001..4)", o.zipf);
  if (o.scripts.empty() || o.scripts.size() > 3) Fail("--scripts: give one to three of latin, cyrillic, greek");
  if (o.threads < 1) Fail("threads must be at least 1");
  const Generator gen(o);
  uint64_t left = o.bytes;
  const size_t batch = static_cast<size_t>(o.threads) * 2;
  for (uint64_t next = 0; left > 0; next += batch) {
    std::vector<Padded<std::string>> blocks(batch);
    RunParallel(static_cast<size_t>(o.threads), [&](size_t t) {
      for (size_t i = t; i < batch; i += static_cast<size_t>(o.threads)) blocks[i].value = gen.Block(next + i);
    });
    for (auto& b : blocks) {
      std::string_view text = b.value;
      if (text.size() >= left) {
        size_t cut = left;
        while (cut > 0 && cut < text.size() && (static_cast<uint8_t>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
        sink(text.substr(0, cut));
        left = 0;
        break;
      }
      sink(text);
      left -= text.size();
    }
  }
}

std::string SyntheticText(const SyntheticOptions& o) {
  std::string text;
  text.reserve(o.bytes);
  GenerateSynthetic(o, [&](std::string_view block) { text += block; });
  return text;
}

}  // namespace bpe
