#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/blob_store.h"
#include "tests/fakes/fault_plan.h"

namespace argus::store {

/// A BlobStore that forwards every call to `base` (borrowed), except the calls its FaultPlan
/// fails or delays ("NewWriter", "Open", "Exists", "Delete", "List", "CleanTemporary", and the
/// writers' "Seal" and "Commit"), and with hooks that run at the moments a race needs: after a
/// writer's Commit returned (before its caller sees the result) and before a Delete reaches `base`.
/// For testing what the blob collector and the upload path do when they interleave or fail.
/// Thread-safe as `base` is; hooks run on the calling thread.
class FaultInjectingBlobStore final : public BlobStore {
 public:
  explicit FaultInjectingBlobStore(BlobStore* base) : base_(base) {}
  FaultPlan& plan() { return plan_; }

  /// Runs after each successful Commit of a writer of this store, with the committed blob;
  /// nullptr: none.
  void SetAfterCommit(std::function<void(const BlobInfo&)> hook) {
    std::lock_guard lock(mu_);
    after_commit_ = std::make_shared<std::function<void(const BlobInfo&)>>(std::move(hook));
  }
  /// Runs before each Delete is forwarded, with its sha256; nullptr: none.
  void SetBeforeDelete(std::function<void(std::string_view)> hook) {
    std::lock_guard lock(mu_);
    before_delete_ = std::make_shared<std::function<void(std::string_view)>>(std::move(hook));
  }

  Result<std::unique_ptr<BlobWriter>> NewWriter() override {
    ARGUS_INJECT_FAULT(plan_, "NewWriter");
    ARGUS_ASSIGN_OR_RETURN(auto writer, base_->NewWriter());
    return std::unique_ptr<BlobWriter>(new Writer(this, std::move(writer)));
  }
  Result<std::unique_ptr<BlobReader>> Open(std::string_view sha256) override {
    ARGUS_INJECT_FAULT(plan_, "Open");
    return base_->Open(sha256);
  }
  Result<bool> Exists(std::string_view sha256) override {
    ARGUS_INJECT_FAULT(plan_, "Exists");
    return base_->Exists(sha256);
  }
  Status Delete(std::string_view sha256) override {
    ARGUS_INJECT_FAULT(plan_, "Delete");
    if (auto hook = Hook(before_delete_); hook && *hook) (*hook)(sha256);
    return base_->Delete(sha256);
  }
  Result<std::vector<Listed>> List(std::string_view after, int limit) override {
    ARGUS_INJECT_FAULT(plan_, "List");
    return base_->List(after, limit);
  }
  Result<int64_t> CleanTemporary(TimestampUs before) override {
    ARGUS_INJECT_FAULT(plan_, "CleanTemporary");
    return base_->CleanTemporary(before);
  }

 private:
  class Writer final : public BlobWriter {
   public:
    Writer(FaultInjectingBlobStore* store, std::unique_ptr<BlobWriter> base)
        : store_(store), base_(std::move(base)) {}
    Status Write(std::string_view bytes) override { return base_->Write(bytes); }
    int64_t size() const override { return base_->size(); }
    Result<BlobInfo> Seal(std::string_view expected_sha256) override {
      ARGUS_INJECT_FAULT(store_->plan_, "Seal");
      return base_->Seal(expected_sha256);
    }
    Result<BlobInfo> Commit(std::string_view expected_sha256) override {
      ARGUS_INJECT_FAULT(store_->plan_, "Commit");
      ARGUS_ASSIGN_OR_RETURN(BlobInfo info, base_->Commit(expected_sha256));
      if (auto hook = store_->Hook(store_->after_commit_); hook && *hook) (*hook)(info);
      return info;
    }
    void Abort() override { base_->Abort(); }

   private:
    FaultInjectingBlobStore* store_;
    std::unique_ptr<BlobWriter> base_;
  };

  // A copy of the hook, so that it runs outside mu_ (a hook may set hooks or call the store).
  template <typename F>
  std::shared_ptr<F> Hook(const std::shared_ptr<F>& hook) {
    std::lock_guard lock(mu_);
    return hook;
  }

  BlobStore* base_;
  FaultPlan plan_;
  std::mutex mu_;
  std::shared_ptr<std::function<void(const BlobInfo&)>> after_commit_;    // GUARDED_BY(mu_)
  std::shared_ptr<std::function<void(std::string_view)>> before_delete_;  // GUARDED_BY(mu_)
};

}  // namespace argus::store
