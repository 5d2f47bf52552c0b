#include "store/tiered_blob_store.h"

#include <algorithm>
#include <string>
#include <utility>

namespace argus::store {
namespace {

// Holds up to `small_max` bytes; past that, streams into a writer of the large store. Seal or
// Commit picks the tier: the large writer when there is one, else a small writer that gets the
// held bytes.
class TieredBlobWriter final : public BlobWriter {
 public:
  TieredBlobWriter(std::shared_ptr<BlobStore> small, std::shared_ptr<BlobStore> large,
                   int64_t small_max)
      : small_(std::move(small)), large_(std::move(large)), small_max_(small_max) {}
  ~TieredBlobWriter() override { Abort(); }

  Status Write(std::string_view bytes) override {
    if (target_ != nullptr) return target_->Write(bytes);  // sealed: the tier refuses
    if (finished_) return FailedPreconditionError("blob writer is already committed or aborted");
    if (large_writer_ == nullptr &&
        static_cast<int64_t>(held_.size() + bytes.size()) <= small_max_) {
      held_.append(bytes);
      return OkStatus();
    }
    if (large_writer_ == nullptr) {
      auto writer = large_->NewWriter();
      if (!writer.ok()) {
        Abort();
        return writer.status();
      }
      large_writer_ = std::move(writer).value();
      if (!held_.empty()) {
        Status moved = large_writer_->Write(held_);
        std::string().swap(held_);
        if (!moved.ok()) {
          Abort();
          return moved;
        }
      }
    }
    Status written = large_writer_->Write(bytes);
    if (!written.ok()) Abort();
    return written;
  }

  int64_t size() const override {
    if (target_ != nullptr) return target_->size();
    if (large_writer_ != nullptr) return large_writer_->size();
    return static_cast<int64_t>(held_.size());
  }

  Result<BlobInfo> Seal(std::string_view expected_sha256) override {
    ARGUS_RETURN_IF_ERROR(ChooseTier());
    return target_->Seal(expected_sha256);
  }

  Result<BlobInfo> Commit(std::string_view expected_sha256) override {
    ARGUS_RETURN_IF_ERROR(ChooseTier());
    return target_->Commit(expected_sha256);
  }

  void Abort() override {
    finished_ = true;
    std::string().swap(held_);
    if (target_ != nullptr) target_->Abort();
    if (large_writer_ != nullptr) large_writer_->Abort();
  }

 private:
  Status ChooseTier() {
    if (target_ != nullptr) return OkStatus();
    if (finished_) return FailedPreconditionError("blob writer is already committed or aborted");
    if (large_writer_ != nullptr) {
      target_ = std::move(large_writer_);
      return OkStatus();
    }
    auto writer = small_->NewWriter();
    if (!writer.ok()) {
      Abort();
      return writer.status();
    }
    Status moved = (*writer)->Write(held_);
    std::string().swap(held_);
    if (!moved.ok()) {
      (*writer)->Abort();
      Abort();
      return moved;
    }
    target_ = std::move(writer).value();
    return OkStatus();
  }

  const std::shared_ptr<BlobStore> small_;
  const std::shared_ptr<BlobStore> large_;
  const int64_t small_max_;
  std::string held_;                          // before a tier is chosen, while small enough
  std::unique_ptr<BlobWriter> large_writer_;  // once more than small_max_ bytes came
  std::unique_ptr<BlobWriter> target_;        // the chosen tier's writer, once sealing
  bool finished_ = false;                     // aborted before a tier was chosen
};

}  // namespace

TieredBlobStore::TieredBlobStore(std::unique_ptr<BlobStore> small, std::unique_ptr<BlobStore> large,
                                 int64_t small_max_bytes)
    : small_(std::move(small)), large_(std::move(large)), small_max_bytes_(small_max_bytes) {}

Result<std::unique_ptr<BlobWriter>> TieredBlobStore::NewWriter() {
  return std::unique_ptr<BlobWriter>(new TieredBlobWriter(small_, large_, small_max_bytes_));
}

Result<std::unique_ptr<BlobReader>> TieredBlobStore::Open(std::string_view sha256) {
  auto reader = small_->Open(sha256);
  if (reader.ok() || reader.status().code() != StatusCode::kNotFound) return reader;
  return large_->Open(sha256);
}

Result<bool> TieredBlobStore::Exists(std::string_view sha256) {
  ARGUS_ASSIGN_OR_RETURN(bool in_small, small_->Exists(sha256));
  if (in_small) return true;
  return large_->Exists(sha256);
}

Status TieredBlobStore::Delete(std::string_view sha256) {
  ARGUS_RETURN_IF_ERROR(small_->Delete(sha256));
  return large_->Delete(sha256);
}

Result<std::vector<BlobStore::Listed>> TieredBlobStore::List(std::string_view after, int limit) {
  // The first `limit` of the union are among the first `limit` of each part.
  ARGUS_ASSIGN_OR_RETURN(std::vector<Listed> a, small_->List(after, limit));
  ARGUS_ASSIGN_OR_RETURN(std::vector<Listed> b, large_->List(after, limit));
  std::vector<Listed> out;
  out.reserve(std::min(a.size() + b.size(), static_cast<size_t>(limit)));
  size_t i = 0, j = 0;
  while (out.size() < static_cast<size_t>(limit) && (i < a.size() || j < b.size())) {
    if (j == b.size() || (i < a.size() && a[i].sha256 < b[j].sha256)) {
      out.push_back(std::move(a[i++]));
    } else if (i == a.size() || b[j].sha256 < a[i].sha256) {
      out.push_back(std::move(b[j++]));
    } else {  // in both: one blob, last used when either copy was
      Listed both = std::move(a[i++]);
      both.last_used = std::max(both.last_used, b[j++].last_used);
      out.push_back(std::move(both));
    }
  }
  return out;
}

Result<int64_t> TieredBlobStore::CleanTemporary(TimestampUs before) {
  ARGUS_ASSIGN_OR_RETURN(int64_t small, small_->CleanTemporary(before));
  ARGUS_ASSIGN_OR_RETURN(int64_t large, large_->CleanTemporary(before));
  return small + large;
}

}  // namespace argus::store
