#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "store/object_source.h"
#include "tests/fakes/fault_plan.h"

namespace argus::store {

/// An ObjectSource that forwards every call to `base` (owned), except the calls `plan` fails or
/// delays ("List", "Open", "Watch", and its readers' "Read"). The plan is borrowed, not owned as
/// in the other fault-injecting wrappers: syncs make a new source for every run (through the
/// ObjectSourceRegistry), so a test registers a factory that wraps each source it makes with the
/// one plan the test holds, and the call counts run on across runs. For testing what the sync
/// runner does when its source fails. Thread-safe as `base` is; readers, like `base`'s, are not.
class FaultInjectingObjectSource final : public ObjectSource {
 public:
  FaultInjectingObjectSource(std::unique_ptr<ObjectSource> base, FaultPlan* plan)
      : base_(std::move(base)), plan_(plan) {}

  /// Registers `name` in `registry` as the source `inner` of `from` (its capabilities and
  /// factory), each source made wrapped with `plan` (borrowed: it must outlive the registry).
  static Status RegisterWrapped(ObjectSourceRegistry& registry, const std::string& name,
                                const ObjectSourceRegistry& from, const std::string& inner,
                                FaultPlan* plan) {
    ARGUS_ASSIGN_OR_RETURN(auto caps, from.CapabilitiesOf(inner));
    return registry.Register(
        name, std::move(caps),
        [&from, inner, plan](const SourceArgs& args) -> Result<std::unique_ptr<ObjectSource>> {
          ARGUS_ASSIGN_OR_RETURN(auto base, from.Create(inner, args));
          return std::unique_ptr<ObjectSource>(
              new FaultInjectingObjectSource(std::move(base), plan));
        });
  }

  Result<SourcePage> List(std::string_view cursor, int limit) override {
    ARGUS_INJECT_FAULT(*plan_, "List");
    return base_->List(cursor, limit);
  }
  Result<std::unique_ptr<SourceReader>> Open(const SourceEntry& entry) override {
    ARGUS_INJECT_FAULT(*plan_, "Open");
    ARGUS_ASSIGN_OR_RETURN(auto reader, base_->Open(entry));
    return std::unique_ptr<SourceReader>(new Reader(plan_, std::move(reader)));
  }
  Result<std::unique_ptr<SourceWatch>> Watch(std::function<void()> on_change) override {
    ARGUS_INJECT_FAULT(*plan_, "Watch");
    return base_->Watch(std::move(on_change));
  }

 private:
  class Reader final : public SourceReader {
   public:
    Reader(FaultPlan* plan, std::unique_ptr<SourceReader> base)
        : plan_(plan), base_(std::move(base)) {}
    Result<size_t> Read(char* buf, size_t n) override {
      ARGUS_INJECT_FAULT(*plan_, "Read");
      return base_->Read(buf, n);
    }

   private:
    FaultPlan* plan_;
    std::unique_ptr<SourceReader> base_;
  };

  std::unique_ptr<ObjectSource> base_;
  FaultPlan* plan_;
};

}  // namespace argus::store
