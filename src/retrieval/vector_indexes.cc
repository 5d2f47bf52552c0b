#include "retrieval/vector_indexes.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/file.h"
#include "core/json.h"
#include "core/log.h"
#include "core/thread_name.h"

namespace argus::retrieval {

namespace {

constexpr int kJournalPage = 10000;
constexpr int kScanPage = 10000;
constexpr char kIndexSuffix[] = ".index";
constexpr char kStateSuffix[] = ".state.json";

// A feature address as a file name: letters, digits, '_', '-' and '.' stay, the rest is %XX.
std::string Escaped(const std::string& feature) {
  std::string out;
  for (unsigned char c : feature) {
    if (std::isalnum(c) || c == '_' || c == '-' || c == '.') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// Candidates an i8 search re-ranks: k × factor, at least k + margin.
constexpr int kRerankFactor = 4;
constexpr int kRerankMargin = 32;

Json StateJson(const IndexKey& key, int64_t seq) {
  return {{"collection_id", key.collection_id},
          {"feature", key.feature},
          {"dimension", key.dimension},
          {"metric", std::string(store::VectorMetricName(key.metric))},
          {"storage", std::string(store::VectorStorageName(key.storage))},
          {"seq", seq}};
}

// The state file beside an index file; discarded JSON when absent or unreadable.
Json ReadState(const std::string& index_path) {
  std::ifstream in(index_path + kStateSuffix);
  if (!in) return Json(Json::value_t::discarded);
  std::stringstream text;
  text << in.rdbuf();
  return Json::parse(text.str(), nullptr, false);
}

void RemoveFiles(const std::string& index_path) {
  std::error_code ec;
  const std::filesystem::path p(index_path);
  const std::string stem = p.filename().string();
  for (const auto& f : std::filesystem::directory_iterator(p.parent_path(), ec)) {
    if (f.path().filename().string().rfind(stem, 0) == 0) std::filesystem::remove(f.path(), ec);
  }
}

}  // namespace

VectorIndexes::VectorIndexes(store::DocumentStore* documents,
                             const store::VectorIndexRegistry* registry,
                             VectorIndexesOptions options)
    : documents_(documents), registry_(registry), options_(std::move(options)) {}

VectorIndexes::~VectorIndexes() {
  {
    std::lock_guard lock(run_mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string VectorIndexes::PathOf(const IndexKey& key) const {
  if (options_.directory.empty()) return "";
  return options_.directory + "/" + key.collection_id + "/" + Escaped(key.feature) + kIndexSuffix;
}

Result<std::shared_ptr<VectorIndexes::Entry>> VectorIndexes::Open(const IndexKey& key) {
  std::shared_ptr<Entry> entry;
  {
    std::lock_guard lock(mu_);
    auto& slot = entries_[{key.collection_id, key.feature}];
    if (slot == nullptr) {
      slot = std::make_shared<Entry>();
      slot->key = key;
      slot->path = PathOf(key);
    }
    entry = slot;
  }
  std::lock_guard lock(entry->mu);
  if (entry->index != nullptr) {
    if (entry->key.dimension != key.dimension || entry->key.metric != key.metric) {
      return FailedPreconditionError("feature '" + key.feature + "' changed its shape");
    }
    if (entry->key.storage != key.storage && entry->wanted_storage != key.storage) {
      log::Info("a vector index changes its storage; the maintenance thread builds it again",
                {{"collection_id", key.collection_id},
                 {"feature", key.feature},
                 {"storage", std::string(store::VectorStorageName(key.storage))}});
      entry->wanted_storage = key.storage;
      wake_.notify_all();
    }
    return entry;
  }
  // First use: the saved file when it is whole and for this shape, else a rebuild.
  if (!entry->path.empty()) {
    const Json state = ReadState(entry->path);
    if (!state.is_discarded() && state.value("dimension", 0) == key.dimension &&
        state.value("metric", "") == store::VectorMetricName(key.metric) &&
        state.value("storage", "f32") == store::VectorStorageName(key.storage) &&
        state.value("seq", int64_t{-1}) >= 0) {
      auto opened = registry_->Create(
          options_.backend,
          {.path = entry->path,
           .options = {.dimension = key.dimension, .metric = key.metric, .storage = key.storage}});
      if (opened.ok()) {
        entry->index = std::move(opened).value();
        entry->seq = entry->saved_seq = state["seq"].get<int64_t>();
        entry->rebuilt = false;
        return entry;
      }
      log::Warn("a vector index file cannot be opened; it is rebuilt from the stored vectors",
                {{"path", entry->path}, {"error", std::string(opened.status().message())}});
    }
  }
  ARGUS_RETURN_IF_ERROR(Rebuild(*entry));
  return entry;
}

namespace {

// Upserts the vectors the index can take and returns their keys. A vector it cannot take
// (another shape, all zeros for cosine) is left out rather than keeping every other document of
// the collection from being searched.
Result<std::set<uint64_t>> UpsertUsable(
    store::VectorIndex& index,
    const std::vector<std::pair<uint64_t, std::vector<float>>>& vectors) {
  std::vector<uint64_t> keys;
  std::vector<float> values;
  std::set<uint64_t> taken;
  for (const auto& [k, v] : vectors) {
    const uint64_t one[] = {k};
    if (!store::CheckVectors(one, v, index.options()).ok()) continue;
    keys.push_back(k);
    taken.insert(k);
    values.insert(values.end(), v.begin(), v.end());
  }
  ARGUS_RETURN_IF_ERROR(index.Upsert(keys, values));
  return taken;
}

}  // namespace

Result<std::unique_ptr<store::VectorIndex>> VectorIndexes::Build(const IndexKey& key,
                                                                 const std::string& path,
                                                                 bool fresh, int64_t* head) {
  ARGUS_ASSIGN_OR_RETURN(
      std::unique_ptr<store::VectorIndex> index,
      registry_->Create(
          options_.backend,
          {.path = path,
           .options = {.dimension = key.dimension, .metric = key.metric, .storage = key.storage},
           .fresh = fresh}));
  // The head first: every change after it is applied by the catch-up that follows, so a vector
  // written while the scan runs is not lost (applying one twice is harmless).
  ARGUS_ASSIGN_OR_RETURN(*head, documents_->VectorJournalHead());
  uint64_t after = 0;
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(
        auto page, documents_->ScanVectors(key.collection_id, key.feature, after, kScanPage));
    if (page.empty()) break;
    ARGUS_RETURN_IF_ERROR(UpsertUsable(*index, page).status());
    after = page.back().first;
    if (static_cast<int>(page.size()) < kScanPage) break;
  }
  return index;
}

Status VectorIndexes::Rebuild(Entry& entry) {
  if (!entry.path.empty()) {
    RemoveFiles(entry.path);
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(entry.path).parent_path(), ec);
    if (ec) return InternalError("cannot create the folder of " + entry.path + ": " + ec.message());
  }
  int64_t head = 0;
  ARGUS_ASSIGN_OR_RETURN(entry.index, Build(entry.key, entry.path, /*fresh=*/false, &head));
  entry.seq = head;
  entry.saved_seq = -1;
  entry.rebuilt = true;
  return OkStatus();
}

Status VectorIndexes::ChangeStorage(Entry& entry) {
  IndexKey key;
  {
    std::unique_lock lock(entry.mu, std::try_to_lock);
    if (!lock.owns_lock() || !entry.wanted_storage.has_value() || entry.index == nullptr) {
      return OkStatus();
    }
    key = entry.key;
    key.storage = *entry.wanted_storage;
  }
  int64_t head = 0;
  ARGUS_ASSIGN_OR_RETURN(std::unique_ptr<store::VectorIndex> built,
                         Build(key, entry.path, /*fresh=*/true, &head));
  std::lock_guard lock(entry.mu);
  if (entry.wanted_storage != key.storage) return OkStatus();  // asked otherwise meanwhile
  entry.index = std::move(built);
  entry.key.storage = key.storage;
  entry.wanted_storage.reset();
  entry.seq = head;
  entry.saved_seq = -1;
  entry.rebuilt = true;
  return CatchUp(entry);
}

Status VectorIndexes::CatchUp(Entry& entry) {
  const IndexKey& key = entry.key;
  for (;;) {
    auto read = documents_->VectorChangesSince(key.collection_id, entry.seq, kJournalPage);
    if (!read.ok() && read.status().code() == StatusCode::kOutOfRange) {
      // Trimmed past this index (another process saved and trimmed): build it again.
      ARGUS_RETURN_IF_ERROR(Rebuild(entry));
      continue;
    }
    ARGUS_ASSIGN_OR_RETURN(auto changes, std::move(read));
    if (changes.empty()) return OkStatus();
    // Only the last change of each key matters: remove it, or take its current vector.
    std::map<uint64_t, bool> last;  // key → removed
    for (const auto& c : changes) {
      if (c.feature == key.feature) last[c.key] = c.removed;
    }
    std::vector<uint64_t> removed, present;
    for (const auto& [k, gone] : last) (gone ? removed : present).push_back(k);
    ARGUS_RETURN_IF_ERROR(entry.index->Remove(removed));
    ARGUS_ASSIGN_OR_RETURN(auto vectors,
                           documents_->ReadVectors(key.collection_id, key.feature, present));
    ARGUS_ASSIGN_OR_RETURN(const std::set<uint64_t> taken, UpsertUsable(*entry.index, vectors));
    // Written and deleted again after this page was read (or now unusable): gone from the index.
    std::vector<uint64_t> vanished;
    for (uint64_t k : present) {
      if (!taken.count(k)) vanished.push_back(k);
    }
    ARGUS_RETURN_IF_ERROR(entry.index->Remove(vanished));
    entry.seq = changes.back().seq;
    if (static_cast<int>(changes.size()) < kJournalPage) return OkStatus();
  }
}

Result<std::vector<store::VectorHit>> VectorIndexes::Search(const IndexKey& key,
                                                            const store::VectorQuery& query,
                                                            store::VectorSearchStats* stats) {
  ARGUS_ASSIGN_OR_RETURN(auto entry, Open(key));
  std::shared_ptr<store::VectorIndex> index;
  store::VectorStorage storage;  // the index's own (another may be on its way)
  {
    std::lock_guard lock(entry->mu);
    ARGUS_RETURN_IF_ERROR(CatchUp(*entry));
    index = entry->index;
    storage = entry->key.storage;
  }
  if (storage != store::VectorStorage::kI8 || query.k <= 0) return index->Search(query, stats);
  // i8 orders neighbours only roughly: take more candidates and re-rank them by their f32
  // vectors, so the answer keeps f32's recall at a quarter of its memory.
  store::VectorQuery wide = query;
  wide.k = std::max(query.k * kRerankFactor, query.k + kRerankMargin);
  wide.ef = std::max(query.ef, wide.k);
  ARGUS_ASSIGN_OR_RETURN(std::vector<store::VectorHit> candidates, index->Search(wide, stats));
  std::vector<uint64_t> keys;
  keys.reserve(candidates.size());
  for (const auto& h : candidates) keys.push_back(h.key);
  ARGUS_ASSIGN_OR_RETURN(auto vectors,
                         documents_->ReadVectors(key.collection_id, key.feature, keys));
  std::vector<store::VectorHit> out;
  out.reserve(vectors.size());
  for (const auto& [k, v] : vectors) {
    out.push_back({.key = k, .score = store::ExactScore(key.metric, query.vector, v)});
  }
  std::sort(out.begin(), out.end(), [](const store::VectorHit& a, const store::VectorHit& b) {
    return a.score != b.score ? a.score > b.score : a.key < b.key;
  });
  if (static_cast<int>(out.size()) > query.k) out.resize(query.k);
  return out;
}

Status VectorIndexes::Save(Entry& entry) {
  std::shared_ptr<store::VectorIndex> index;
  int64_t seq = 0;
  {
    std::unique_lock lock(entry.mu, std::try_to_lock);
    if (!lock.owns_lock()) return OkStatus();  // busy (a rebuild): saved at the next round
    if (entry.path.empty() || entry.index == nullptr || entry.seq == entry.saved_seq) {
      return OkStatus();
    }
    // The index holds at least the changes through `seq` (a catch-up may add more while it is
    // saved): the state names `seq`, so a reopen replays from there.
    index = entry.index;
    seq = entry.seq;
  }
  ARGUS_RETURN_IF_ERROR(index->Save());
  ARGUS_RETURN_IF_ERROR(
      WriteFileAtomic(entry.path + kStateSuffix, StateJson(entry.key, seq).dump()));
  std::lock_guard lock(entry.mu);
  if (entry.index == index) entry.saved_seq = std::max(entry.saved_seq, seq);
  return OkStatus();
}

Status VectorIndexes::Maintain(bool save, bool discover) {
  Status first = OkStatus();
  auto keep = [&](Status s) {
    if (!s.ok() && first.ok()) first = std::move(s);
  };
  if (discover && options_.list_features) {
    auto features = options_.list_features();
    if (features.ok()) {
      Prune(*features);
      for (const auto& key : *features) {
        bool open = false;
        {
          std::lock_guard lock(mu_);
          open = entries_.count({key.collection_id, key.feature}) != 0;
        }
        if (!open) keep(Open(key).status());  // never waits on an index a search is opening
      }
    } else {
      keep(features.status());
    }
  }
  std::vector<std::shared_ptr<Entry>> entries;
  {
    std::lock_guard lock(mu_);
    for (const auto& [k, e] : entries_) entries.push_back(e);
  }
  std::map<std::string, int64_t> trim_through;  // collection → the oldest seq its files hold
  for (const auto& e : entries) {
    {
      // An index a search is opening, rebuilding or catching up is left to it: the thread
      // never waits behind a long rebuild (and neither does Stop).
      std::unique_lock lock(e->mu, std::try_to_lock);
      if (lock.owns_lock() && e->index != nullptr) keep(CatchUp(*e));
    }
    keep(ChangeStorage(*e));
    if (!save) continue;
    keep(Save(*e));
    int64_t saved = -1;  // unknown (busy): its collection's journal is not trimmed this round
    {
      std::unique_lock lock(e->mu, std::try_to_lock);
      if (lock.owns_lock() && e->index != nullptr) saved = e->saved_seq;
    }
    auto [it, added] = trim_through.emplace(e->key.collection_id, saved);
    if (!added) it->second = std::min(it->second, saved);
  }
  for (const auto& [collection_id, seq] : trim_through) {
    if (seq > 0) keep(documents_->TrimVectorChanges(collection_id, seq));
  }
  return first;
}

void VectorIndexes::OpenSaved() {
  std::error_code ec;
  if (options_.directory.empty() || !std::filesystem::exists(options_.directory, ec)) return;
  for (const auto& f : std::filesystem::recursive_directory_iterator(options_.directory, ec)) {
    const std::string path = f.path().string();
    if (path.size() <= sizeof(kStateSuffix) ||
        path.compare(path.size() - (sizeof(kStateSuffix) - 1), std::string::npos, kStateSuffix) !=
            0) {
      continue;
    }
    const Json state = ReadState(path.substr(0, path.size() - (sizeof(kStateSuffix) - 1)));
    auto metric = store::ParseVectorMetric(state.is_discarded() ? "" : state.value("metric", ""));
    if (!metric.ok() || !state["collection_id"].is_string() || !state["feature"].is_string()) {
      continue;
    }
    auto storage = store::ParseVectorStorage(state.value("storage", "f32"));
    if (!storage.ok()) continue;
    IndexKey key{.collection_id = state["collection_id"].get<std::string>(),
                 .feature = state["feature"].get<std::string>(),
                 .dimension = state.value("dimension", 0),
                 .metric = *metric,
                 .storage = *storage};
    auto opened = Open(key);
    if (!opened.ok()) {
      log::Warn("a saved vector index cannot be opened",
                {{"path", path}, {"error", std::string(opened.status().message())}});
    }
  }
}

void VectorIndexes::Start() {
  thread_ = std::thread([this] { Run(); });
}

void VectorIndexes::Run() {
  SetThreadName("vector-indexes");
  try {
    OpenSaved();
    auto last_save = std::chrono::steady_clock::now();
    auto last_discovery = last_save - options_.discover_interval;
    std::unique_lock lock(run_mu_);
    while (!stopping_) {
      wake_.wait_for(lock, options_.catch_up_interval, [this] { return stopping_; });
      if (stopping_) break;
      lock.unlock();
      const auto now = std::chrono::steady_clock::now();
      const bool save = now - last_save >= options_.save_interval;
      if (save) last_save = now;
      const bool discover = now - last_discovery >= options_.discover_interval;
      if (discover) last_discovery = now;
      if (Status s = Maintain(save, discover); !s.ok()) {
        log::Warn("vector index maintenance failed; it tries again",
                  {{"error", std::string(s.message())}});
      }
      lock.lock();
    }
  } catch (const std::exception& e) {
    log::Error("the vector index thread stopped", {{"error", std::string(e.what())}});
  }
}

Status VectorIndexes::Stop() {
  {
    std::lock_guard lock(run_mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  return Maintain(true);
}

std::vector<IndexState> VectorIndexes::States() {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    std::lock_guard lock(mu_);
    for (const auto& [k, e] : entries_) entries.push_back(e);
  }
  std::vector<IndexState> out;
  for (const auto& e : entries) {
    std::lock_guard lock(e->mu);
    if (e->index == nullptr) continue;
    out.push_back({.key = e->key,
                   .size = e->index->Size(),
                   .seq = e->seq,
                   .saved_seq = e->saved_seq,
                   .rebuilt = e->rebuilt});
  }
  return out;
}

void VectorIndexes::Prune(const std::vector<IndexKey>& listed) {
  std::set<std::pair<std::string, std::string>> present;
  for (const auto& k : listed) present.emplace(k.collection_id, k.feature);
  std::vector<std::string> paths;
  {
    std::lock_guard lock(mu_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (present.count(it->first) != 0) {
        it->second->unlisted = 0;
      } else if (++it->second->unlisted >= 2) {
        paths.push_back(it->second->path);
        it = entries_.erase(it);
        continue;
      }
      ++it;
    }
  }
  for (const auto& path : paths) {
    if (path.empty()) continue;
    log::Info("a vector index of a feature no collection has any more is dropped",
              {{"path", path}});
    RemoveFiles(path);
    std::error_code ec;
    std::filesystem::remove(std::filesystem::path(path).parent_path(), ec);  // when empty
  }
}

void VectorIndexes::Forget(const std::string& collection_id) {
  std::lock_guard lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = it->first.first == collection_id ? entries_.erase(it) : std::next(it);
  }
  if (!options_.directory.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(options_.directory + "/" + collection_id, ec);
  }
}

}  // namespace argus::retrieval
