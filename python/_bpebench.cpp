// The compiled half of the Python module `bpebench` (python/bpebench/__init__.py is the other half,
// with the docstrings users read and the type stubs beside it). It wraps the same library the CLI
// uses, with the CLI's checks and messages: an encoder from the registry over a prepared vocabulary
// (through the prepared-model cache, as `bpebench encode`), counting with WordCounter, a trainer
// from the registry on the counts, and the model and count-table files of algorithms/formats/.
//
// The GIL is released around every piece of real work (encoding, counting, training, reading files):
// the arguments are taken out of their Python objects first (a str's UTF-8 buffer is the string's
// own, which the caller's reference keeps alive), and results become Python objects after.
#include <Python.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "algorithms/core/error.h"
#include "algorithms/formats/counts.h"
#include "algorithms/formats/hf_json.h"
#include "algorithms/formats/model_file.h"
#include "algorithms/formats/prepared.h"
#include "algorithms/formats/tiktoken.h"
#include "algorithms/registry.h"
#include "algorithms/runtime/file_io.h"
#include "algorithms/runtime/memory.h"
#include "algorithms/runtime/parallel.h"
#include "algorithms/runtime/text.h"
#include "cli/input.h"
#include "cli/search_paths.h"

namespace py = pybind11;

namespace bpe::python {
namespace {

constexpr uint64_t kMaxVocab = uint64_t{1} << 24;  // as bpebench train --vocab-size
constexpr int kMaxThreads = 256;

// num_threads as the CLI takes --threads: 1..256; None (0 here) is the hardware threads.
int Threads(int requested, std::string_view name = "num_threads") {
  if (requested == 0) return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (requested < 1 || requested > kMaxThreads) Fail("{} {} is out of range (1..{})", name, requested, kMaxThreads);
  return requested;
}

// The bytes of a str (its UTF-8, which CPython keeps with the string) or of a bytes object. A str
// with lone surrogates has no UTF-8: Python's UnicodeEncodeError is raised.
std::string_view TextBytes(py::handle text) {
  if (PyUnicode_Check(text.ptr())) {
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(text.ptr(), &size);
    if (data == nullptr) throw py::error_already_set();
    return {data, static_cast<size_t>(size)};
  }
  if (PyBytes_Check(text.ptr())) {
    return {PyBytes_AS_STRING(text.ptr()), static_cast<size_t>(PyBytes_GET_SIZE(text.ptr()))};
  }
  throw py::type_error(std::string("expected str or bytes, not ") + Py_TYPE(text.ptr())->tp_name);
}

// ---- Encoding --------------------------------------------------------------------------------

// The Python ints of an Encoding's ids, made once (under the GIL) and shared by every list encode()
// returns: a list is then the ids' references, not an int object made per id (3-4x faster on
// English text with cl100k_base; CPython itself keeps only -5..256).
class IdObjects {
 public:
  explicit IdObjects(uint64_t n) : n_(n) {}
  ~IdObjects() {
    if (!Py_IsInitialized()) return;  // at interpreter exit the objects go with it
    py::gil_scoped_acquire gil;
    for (PyObject* o : objects_) Py_XDECREF(o);
  }
  py::list ToList(const std::vector<uint32_t>& ids) {
    if (objects_.empty()) {
      objects_.resize(n_);
      for (uint64_t i = 0; i < n_; ++i) {
        objects_[i] = PyLong_FromUnsignedLongLong(i);
        if (objects_[i] == nullptr) throw py::error_already_set();
      }
    }
    py::list list(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      PyObject* v = objects_[ids[i]];
      Py_INCREF(v);
      PyList_SET_ITEM(list.ptr(), static_cast<Py_ssize_t>(i), v);
    }
    return list;
  }

 private:
  uint64_t n_;
  std::vector<PyObject*> objects_;  // guarded by the GIL
};

// A prepared vocabulary with an encoder algorithm. Encoders keep scratch state (a piece cache) and
// serve one thread at a time, so the Encoding keeps idle ones in a pool: a call takes one (or makes
// one) and gives it back, and later calls find it warm. Safe to use from several Python threads.
class Encoding {
 public:
  Encoding(PreparedModel model, std::string name, const EncoderInfo& encoder)
      : model_(std::move(model)), name_(std::move(name)), encoder_(encoder),
        pre_(FindPreTokenizer(model_.pretokenizer).get()), max_id_(MaxId(model_)), id_objects_(uint64_t{max_id_} + 1) {}

  const std::string& name() const { return name_; }
  const std::string& pretokenizer() const { return model_.pretokenizer; }
  std::string_view algorithm() const { return encoder_.name; }
  uint64_t n_vocab() const { return uint64_t{max_id_} + 1; }
  size_t merges() const { return model_.vocab->merges().size(); }

  // The ids of text as users see them (tiktoken's for tiktoken vocabularies), on `threads` threads.
  std::vector<uint32_t> EncodeIds(std::string_view text, int threads) {
    std::vector<TokenId> ids;
    if (threads <= 1) {
      Lease lease(*this);
      ids.reserve(text.size() / 3);
      EncodeChunk(text, pre_, *lease, ids);
    } else {
      ids = EncodeText(text, pre_, encoder_.make, *model_.vocab, threads);
    }
    ToExternal(ids);
    return ids;
  }

  std::vector<std::vector<uint32_t>> EncodeBatch(const std::vector<std::string_view>& texts, int threads) {
    std::vector<std::vector<uint32_t>> out(texts.size());
    const size_t workers = std::min<size_t>(static_cast<size_t>(threads), texts.size());
    std::atomic<size_t> next{0};
    RunParallel(std::max<size_t>(workers, 1), [&](size_t) {
      Lease lease(*this);
      for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < texts.size();) {
        out[i].reserve(texts[i].size() / 3);
        EncodeChunk(texts[i], pre_, *lease, out[i]);
        ToExternal(out[i]);
      }
    });
    return out;
  }

  // The bytes of ids as users see them; an id that is not in the model is an error that names it
  // (the CLI's decode message).
  std::string DecodeBytes(std::span<const uint64_t> ids) {
    std::call_once(internal_once_, [&] { internal_ = model_.InternalIds(); });
    std::vector<TokenId> mine(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      const uint64_t v = ids[i];
      if (v >= internal_.size() || internal_[v] == Model::kNoToken) {
        Fail("token id {} (at position {}) is not in the model{}", v, i,
             model_.external_ids.empty() ? "" : " (special tokens are not decoded)");
      }
      mine[i] = internal_[v];
    }
    std::string out;
    model_.vocab->Decode(mine, out);
    return out;
  }

  // A list of the ids (the GIL held).
  py::list ToList(const std::vector<uint32_t>& ids) { return id_objects_.ToList(ids); }

  std::vector<std::pair<std::string, double>> Counters() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::pair<std::string, double>> all;
    for (const auto& e : idle_) {
      for (auto& c : e->Counters()) all.push_back(std::move(c));
    }
    return all;
  }

 private:
  // An encoder taken from the pool for the length of one call.
  class Lease {
   public:
    explicit Lease(Encoding& owner) : owner_(owner) {
      {
        std::lock_guard<std::mutex> lock(owner_.mutex_);
        if (!owner_.idle_.empty()) {
          encoder_ = std::move(owner_.idle_.back());
          owner_.idle_.pop_back();
        }
      }
      if (!encoder_) encoder_ = owner_.encoder_.make(*owner_.model_.vocab);
    }
    ~Lease() {
      std::lock_guard<std::mutex> lock(owner_.mutex_);
      owner_.idle_.push_back(std::move(encoder_));
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Encoder& operator*() { return *encoder_; }

   private:
    Encoding& owner_;
    std::unique_ptr<Encoder> encoder_;
  };

  static uint32_t MaxId(const PreparedModel& m) {
    uint32_t max_id = static_cast<uint32_t>(m.vocab->size() - 1);
    for (uint32_t id : m.external_ids) max_id = std::max(max_id, id);
    return max_id;
  }

  void ToExternal(std::vector<TokenId>& ids) const {
    if (model_.external_ids.empty()) return;
    for (TokenId& id : ids) id = model_.external_ids[id];
  }

  PreparedModel model_;
  std::string name_;
  const EncoderInfo& encoder_;
  const PreTokenizer& pre_;
  uint32_t max_id_;
  IdObjects id_objects_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Encoder>> idle_;
  std::once_flag internal_once_;
  std::vector<TokenId> internal_;
};

PreparedModel Prepare(const Model& model) {
  PreparedModel p;
  p.pretokenizer = model.pretokenizer;
  p.external_ids_own = model.external_ids;
  p.external_ids = p.external_ids_own;
  p.vocab = std::make_unique<Vocabulary>(model.merges);
  return p;
}

std::shared_ptr<Encoding> Load(const std::string& spec, const std::string& pretokenizer, const std::string& algorithm,
                               bool use_cache) {
  const EncoderInfo& encoder = FindEncoder(algorithm);
  PreparedModel p;
  {
    py::gil_scoped_release release;
    p = LoadPreparedModel(spec, pretokenizer, use_cache ? PreparedCacheDir() : "");
  }
  if (!p.note.empty() && PyErr_WarnEx(PyExc_RuntimeWarning, p.note.c_str(), 1) < 0) throw py::error_already_set();
  return std::make_shared<Encoding>(std::move(p), spec, encoder);
}

// A uint32 NumPy array that owns the vector's buffer (no copy).
py::array_t<uint32_t> ToNumpy(std::vector<uint32_t>&& ids) {
  auto* owned = new std::vector<uint32_t>(std::move(ids));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<uint32_t>*>(p); });
  return py::array_t<uint32_t>({static_cast<py::ssize_t>(owned->size())}, {sizeof(uint32_t)}, owned->data(),
                               free_when_done);
}

// Ids from a Python sequence of ints or any integer NumPy array; a negative id is an error.
std::vector<uint64_t> IdsFrom(py::handle ids) {
  std::vector<uint64_t> out;
  if (py::isinstance<py::array>(ids)) {
    auto array = py::reinterpret_borrow<py::array>(ids);
    if (array.ndim() != 1) Fail("decode takes a one-dimensional array of ids, not {} dimensions", array.ndim());
    const char kind = array.dtype().kind();
    if (kind != 'u' && kind != 'i') Fail("decode takes integer ids, not an array of dtype {}", std::string(py::str(array.dtype())));
    // As int64 (a uint64 id above 2^63 turns negative, and is refused as every negative id is).
    auto as64 = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(array);
    out.resize(static_cast<size_t>(as64.size()));
    const int64_t* data = as64.data();
    for (size_t i = 0; i < out.size(); ++i) {
      if (data[i] < 0) Fail("token id {} (at position {}) is not in the model", data[i], i);
      out[i] = static_cast<uint64_t>(data[i]);
    }
    return out;
  }
  const py::sequence seq = py::reinterpret_borrow<py::sequence>(ids);
  out.reserve(seq.size());
  size_t i = 0;
  for (py::handle item : seq) {
    if (!PyLong_Check(item.ptr())) {
      throw py::type_error(std::string("token ids must be int, not ") + Py_TYPE(item.ptr())->tp_name);
    }
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(item.ptr(), &overflow);
    if (overflow != 0 || v < 0) Fail("token id {} (at position {}) is not in the model", std::string(py::str(item)), i);
    out.push_back(static_cast<uint64_t>(v));
    ++i;
  }
  return out;
}

// ---- Counting and training -------------------------------------------------------------------

struct Counts {
  std::string pretokenizer;
  WordCounts counts;
};

// A count table's text as Counts (its pre-tokenizer one the registry knows).
std::shared_ptr<Counts> CountsFromTable(std::string_view text, std::string_view source) {
  CountTable table = ParseCounts(text, source);
  FindPreTokenizer(table.pretokenizer);
  auto out = std::make_shared<Counts>();
  out->pretokenizer = std::move(table.pretokenizer);
  out->counts = std::move(table.counts);
  return out;
}

// WordCounter for Python: text handed in blocks of documents, or files read as the CLI reads them.
class Counter {
 public:
  Counter(const std::string& pretokenizer, int threads)
      : info_(FindPreTokenizer(pretokenizer)), counter_(info_.get(), Threads(threads)) {}

  void AddDocuments(const py::list& documents) {
    std::vector<std::string_view> views;
    views.reserve(documents.size());
    for (py::handle d : documents) views.push_back(TextBytes(d));
    py::gil_scoped_release release;
    counter_.AddDocuments(views);
  }

  void AddFiles(const std::vector<std::string>& files, bool binary) {
    py::gil_scoped_release release;
    cli::CountFiles(files, binary, counter_, {}, "binary=True");
  }

  uint64_t bytes() const { return counter_.bytes_seen(); }

  std::shared_ptr<Counts> Finish() {
    auto out = std::make_shared<Counts>();
    out->pretokenizer = std::string(info_.name);
    {
      py::gil_scoped_release release;
      out->counts = counter_.Finish();
    }
    return out;
  }

 private:
  const PreTokenizerInfo& info_;
  WordCounter counter_;
};

struct TrainedModel {
  Model model;
  std::string stop;  // why training stopped (StopReasonText); "" for a loaded model
};

std::shared_ptr<TrainedModel> Train(const Counts& counts, uint64_t vocab_size, const std::string& algorithm,
                                    uint64_t min_frequency, int threads) {
  if (vocab_size < kByteAlphabet) Fail("vocab_size {} is below the 256-byte alphabet (256..{})", vocab_size, kMaxVocab);
  if (vocab_size > kMaxVocab) Fail("vocab_size {} is out of range (256..{})", vocab_size, kMaxVocab);
  if (min_frequency < 1) Fail("min_frequency {} is out of range (1..{})", min_frequency, UINT64_MAX);
  const TrainerInfo& trainer = FindTrainer(algorithm);
  TrainOptions options;
  options.vocab_size = static_cast<uint32_t>(vocab_size);
  options.min_frequency = min_frequency;
  options.threads = Threads(threads);
  auto out = std::make_shared<TrainedModel>();
  out->model.pretokenizer = counts.pretokenizer;
  py::gil_scoped_release release;
  TrainResult result = trainer.make()->Train(counts.counts, options);
  out->model.merges = std::move(result.merges);
  out->stop = std::string(StopReasonText(result.stop));
  return out;
}

py::bytes Bytes(std::string_view s) { return py::bytes(s.data(), s.size()); }

}  // namespace
}  // namespace bpe::python

PYBIND11_MODULE(_bpebench, m) {
  using namespace bpe;
  using namespace bpe::python;
  m.doc() = "The compiled part of bpebench; use the package `bpebench`, which documents it.";
  cli::UseDefaultSearchPaths();

  // bpe::Error carries a sentence for the user: raised as bpebench.Error (a ValueError) with the
  // whole message (file names in it may hold any bytes: shown with backslash escapes).
  static py::exception<Error> error_type(m, "Error", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      const std::string& message = e.message();
      PyObject* text = PyUnicode_DecodeUTF8(message.data(), static_cast<Py_ssize_t>(message.size()), "backslashreplace");
      PyErr_SetObject(error_type.ptr(), text);
      Py_XDECREF(text);
    } catch (const std::bad_alloc&) {
      PyErr_SetString(PyExc_MemoryError, "out of memory");
    }
  });

  py::class_<Encoding, std::shared_ptr<Encoding>>(m, "Encoding")
      .def_property_readonly("name", &Encoding::name)
      .def_property_readonly("pretokenizer", &Encoding::pretokenizer)
      .def_property_readonly("algorithm", &Encoding::algorithm)
      .def_property_readonly("n_vocab", &Encoding::n_vocab)
      .def_property_readonly("merges", &Encoding::merges)
      .def("encode", [](Encoding& e, py::handle text, int threads) {
             const std::string_view bytes = TextBytes(text);
             std::vector<uint32_t> ids;
             {
               py::gil_scoped_release release;
               ids = e.EncodeIds(bytes, Threads(threads));
             }
             return e.ToList(ids);
           }, py::arg("text"), py::arg("num_threads") = 1,
           "The token ids of text (str, or bytes taken as they are) as a list of int. num_threads > 1 splits\n"
           "the text at piece boundaries (the same ids).")
      .def("encode_to_numpy", [](Encoding& e, py::handle text, int threads) {
             const std::string_view bytes = TextBytes(text);
             std::vector<uint32_t> ids;
             {
               py::gil_scoped_release release;
               ids = e.EncodeIds(bytes, Threads(threads));
             }
             return ToNumpy(std::move(ids));
           }, py::arg("text"), py::arg("num_threads") = 1,
           "The token ids of text as a uint32 NumPy array that owns the encoder's buffer: no Python list\n"
           "in between (what dataset preparation wants).")
      .def("encode_batch", [](Encoding& e, const py::sequence& texts, int threads) {
             std::vector<std::string_view> views;
             views.reserve(texts.size());
             for (py::handle t : texts) views.push_back(TextBytes(t));
             std::vector<std::vector<uint32_t>> ids;
             {
               py::gil_scoped_release release;
               ids = e.EncodeBatch(views, Threads(threads));
             }
             py::list out(ids.size());
             for (size_t i = 0; i < ids.size(); ++i) out[i] = e.ToList(ids[i]);
             return out;
           }, py::arg("texts"), py::arg("num_threads") = 0,
           "The ids of each text, in order; the texts are spread over num_threads threads (0: every\n"
           "hardware thread), each with its own encoder.")
      .def("decode_bytes", [](Encoding& e, py::handle ids) {
             const std::vector<uint64_t> v = IdsFrom(ids);
             std::string bytes;
             {
               py::gil_scoped_release release;
               bytes = e.DecodeBytes(v);
             }
             return Bytes(bytes);
           }, py::arg("ids"),
           "The bytes the ids stand for (ids: a sequence of int or an integer NumPy array); an id the\n"
           "model does not have is a bpebench.Error.")
      .def("counters", &Encoding::Counters, "Statistics of the idle encoders (a piece cache's hits and misses).")
      // Seconds per call of the library's own encoding of text (the ids kept in C++, one encoder kept
      // warm across calls): the figure encode_to_numpy is compared with (bpebench.bench).
      .def("_native_seconds", [](Encoding& e, py::handle text, int repeats) {
             const std::string_view bytes = TextBytes(text);
             std::vector<double> seconds;
             py::gil_scoped_release release;
             for (int r = 0; r < repeats; ++r) {
               const auto start = std::chrono::steady_clock::now();
               std::vector<uint32_t> ids = e.EncodeIds(bytes, 1);
               seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
             }
             return seconds;
           }, py::arg("text"), py::arg("repeats"));

  m.def("_load", &Load, py::arg("spec"), py::arg("pretokenizer"), py::arg("algorithm"), py::arg("use_cache"));

  py::class_<Counts, std::shared_ptr<Counts>>(m, "Counts")
      .def_readonly("pretokenizer", &Counts::pretokenizer)
      .def("__len__", [](const Counts& c) { return c.counts.size(); })
      .def("total", [](const Counts& c) {
        py::int_ sum(0);
        uint64_t part = 0;
        for (const WordCount& w : c.counts) {
          if (part + w.count < part) {
            sum = py::int_(sum + py::int_(part));
            part = 0;
          }
          part += w.count;
        }
        return py::int_(sum + py::int_(part));
      })
      .def("items", [](const Counts& c) {
        py::list out(c.counts.size());
        for (size_t i = 0; i < c.counts.size(); ++i) out[i] = py::make_tuple(Bytes(c.counts[i].word), c.counts[i].count);
        return out;
      })
      .def("to_tsv", [](const Counts& c) {
        std::string text;
        {
          py::gil_scoped_release release;
          text = SerializeCounts(c.counts, c.pretokenizer);
        }
        return Bytes(text);
      })
      .def("save", [](const Counts& c, const std::string& path) {
        py::gil_scoped_release release;
        WriteFileAtomically(path, SerializeCounts(c.counts, c.pretokenizer));
      }, py::arg("path"))
      // Counts travel between processes (Dask's workers) as their table, the format bpebench count writes.
      .def(py::pickle([](const Counts& c) { return py::make_tuple(Bytes(SerializeCounts(c.counts, c.pretokenizer))); },
                      [](const py::tuple& state) {
                        if (state.size() != 1) throw std::runtime_error("not a pickled bpebench.Counts");
                        return CountsFromTable(state[0].cast<std::string>(), "a pickled count table");
                      }));

  m.def("_counts_from_tsv", [](py::bytes data, const std::string& source) {
    std::string text = data;
    py::gil_scoped_release release;
    return CountsFromTable(text, source);
  }, py::arg("data"), py::arg("source"));
  m.def("_load_counts", [](const std::string& path) {
    py::gil_scoped_release release;
    return CountsFromTable(ReadFile(path, uint64_t{64} << 30, "a count table"), path);
  }, py::arg("path"));
  m.def("_sum_counts", [](const std::vector<std::shared_ptr<Counts>>& tables) {
    if (tables.empty()) Fail("sum_counts needs at least one table");
    for (const auto& t : tables) {
      if (!t) throw py::type_error("sum_counts takes Counts, not None");
      if (t->pretokenizer != tables.front()->pretokenizer) {
        Fail("a table counted with the {} pre-tokenizer cannot be summed with one counted with {}: tables to be "
             "summed must agree", t->pretokenizer, tables.front()->pretokenizer);
      }
    }
    auto out = std::make_shared<Counts>();
    out->pretokenizer = tables.front()->pretokenizer;
    py::gil_scoped_release release;
    std::vector<const WordCounts*> parts;
    for (const auto& t : tables) parts.push_back(&t->counts);
    out->counts = SumCounts(parts);
    return out;
  }, py::arg("tables"));

  py::class_<Counter>(m, "_Counter")
      .def(py::init<const std::string&, int>(), py::arg("pretokenizer"), py::arg("threads"))
      .def("add_documents", &Counter::AddDocuments, py::arg("documents"))
      .def("add_files", &Counter::AddFiles, py::arg("files"), py::arg("binary"))
      .def_property_readonly("bytes", &Counter::bytes)
      .def("finish", &Counter::Finish);

  py::class_<TrainedModel, std::shared_ptr<TrainedModel>>(m, "Model")
      .def_property_readonly("pretokenizer", [](const TrainedModel& t) { return t.model.pretokenizer; })
      .def_property_readonly("vocab_size", [](const TrainedModel& t) { return kByteAlphabet + t.model.merges.size(); })
      .def_property_readonly("stop_reason", [](const TrainedModel& t) { return t.stop; })
      .def_property_readonly("merges", [](const TrainedModel& t) {
        py::list out(t.model.merges.size());
        for (size_t i = 0; i < t.model.merges.size(); ++i) out[i] = py::make_tuple(t.model.merges[i].left, t.model.merges[i].right);
        return out;
      })
      .def("to_bytes", [](const TrainedModel& t) { return Bytes(SerializeModel(t.model)); })
      .def("save", [](const TrainedModel& t, const std::string& path) {
        py::gil_scoped_release release;
        SaveModel(t.model, path);
      }, py::arg("path"))
      .def("export_hf", [](const TrainedModel& t) { return ExportHfTokenizerJson(t.model); })
      .def("encoding", [](const TrainedModel& t, const std::string& algorithm) {
        const EncoderInfo& encoder = FindEncoder(algorithm);
        PreparedModel p;
        {
          py::gil_scoped_release release;
          p = Prepare(t.model);
        }
        return std::make_shared<Encoding>(std::move(p), "<trained model>", encoder);
      }, py::arg("algorithm") = "cached")
      .def("__eq__", [](const TrainedModel& a, const TrainedModel& b) { return a.model == b.model; });

  m.def("_train", &Train, py::arg("counts"), py::arg("vocab_size"), py::arg("algorithm"), py::arg("min_frequency"),
        py::arg("threads"));
  m.def("_load_model", [](const std::string& path) {
    auto out = std::make_shared<TrainedModel>();
    py::gil_scoped_release release;
    out->model = LoadModel(path);
    return out;
  }, py::arg("path"));
  m.def("_registry", [] {
    py::dict out;
    py::dict trainers, encoders, pretokenizers;
    for (const auto& t : Trainers()) trainers[py::str(std::string(t.name))] = std::string(t.description);
    for (const auto& e : Encoders()) encoders[py::str(std::string(e.name))] = std::string(e.description);
    for (const auto& p : PreTokenizers()) pretokenizers[py::str(std::string(p.name))] = std::string(p.description);
    out["trainers"] = trainers;
    out["encoders"] = encoders;
    out["pretokenizers"] = pretokenizers;
    return out;
  });
  m.def("tune_allocator", &TuneAllocator,
        "Sets glibc malloc's mmap and trim thresholds for this process as the bpebench CLI does at start\n"
        "(docs/performance.md: a third less time for training); returns what holds. Process-wide, so the\n"
        "module leaves it to the caller; the Dask command calls it on its workers.");
  m.attr("HUGE_PAGE_TUNABLES") = kHugePageTunables;
  m.def("_tiktoken_file", [](const std::string& name) {
    return IsTiktokenName(name) ? FindTiktokenFile(name) : std::string();
  });
}
