#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "store/blob_store.h"
#include "store/store_registry.h"

namespace argus::server {

/// Registers every backend compiled into this binary (explicitly: no static self-registration).
Status RegisterAllStores(store::StoreRegistry& registry);

/// The blob store `config` names (blobs.backend). For "local", blobs of at most
/// blobs.small_blob_bytes (unless 0) are rows of the "sqlite" blob store in front of the files
/// (store/tiered_blob_store.h, ADR 0010). InvalidArgument for a small_blob_bytes out of range.
Result<std::unique_ptr<store::BlobStore>> CreateBlobStore(const store::BlobStoreRegistry& blobs,
                                                          const Config& config,
                                                          const store::StoreArgs& args);

/// The host warnings of every registered backend (capabilities' host_warnings), each prefixed
/// with its registry and name, e.g. "source 'folder': ...": what `argus serve` logs at start-up
/// and `argus config print` lists.
std::vector<std::string> HostWarnings(const store::StoreRegistry& registry);

}  // namespace argus::server
