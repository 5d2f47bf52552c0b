#include "domain/cascading_delete.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/config.h"
#include "core/crypto.h"
#include "core/id.h"
#include "store/sqlite/register.h"

namespace argus::domain {
namespace {

// Real SQLite stores (metadata and webhooks share metadata.db, as in `argus serve`).
class CascadingDeleteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/cascade_" + NewId();
    std::filesystem::create_directories(dir_);
    ASSERT_TRUE(store::sqlite::RegisterSqliteStores(registry_).ok());
    store::StoreArgs args{&config_, dir_};
    auto metadata = registry_.metadata.Create("sqlite", args);
    ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
    metadata_ = std::move(metadata).value();
    auto webhooks = registry_.webhooks.Create("sqlite", args);
    ASSERT_TRUE(webhooks.ok()) << webhooks.status().ToString();
    webhooks_ = std::move(webhooks).value();
    ctx_ = {.namespaces = metadata_.get(), .buckets = metadata_.get(), .webhooks = webhooks_.get()};
    ns_ = *metadata_->CreateNamespace({.id = NewId(), .name = "team"});
    bucket_ = *metadata_->CreateBucket({.id = NewId(), .namespace_id = ns_.id, .name = "photos"});
    store::StoredObject object;
    object.id = NewId();
    object.namespace_id = ns_.id;
    object.bucket_id = bucket_.id;
    object.key = "a.jpg";
    object.size = 3;
    object.sha256 = HexEncode(Sha256("abc"));
    object.media_type = "image/jpeg";
    ASSERT_TRUE(metadata_->PutObject(object, {}).ok());
    store::Webhook hook;
    hook.id = NewId();
    hook.namespace_id = ns_.id;
    hook.url = "https://example.com/h";
    hook.events = {"*"};
    hook.secret = "whsec_x";
    ASSERT_TRUE(webhooks_->CreateWebhook(hook).ok());
  }
  void TearDown() override {
    webhooks_.reset();
    metadata_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  Config config_;
  store::StoreRegistry registry_;
  std::unique_ptr<store::MetadataStore> metadata_;
  std::unique_ptr<store::WebhookStore> webhooks_;
  CascadeContext ctx_;
  store::Namespace ns_;
  store::Bucket bucket_;
};

TEST_F(CascadingDeleteTest, ANamespaceGoesWithItsWebhooksBucketsAndObjectsAndAgainIsDone) {
  ASSERT_TRUE(DeleteNamespaceCascade(ctx_, DeleteNamespaceInput(ns_.id)).ok());
  EXPECT_EQ(metadata_->GetNamespaceByName("team").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(metadata_->GetBucket(ns_.id, "photos").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(webhooks_->ListEnabledWebhooks()->empty());
  // A retried task, or a second delete that raced the first, finds nothing left: done.
  EXPECT_TRUE(DeleteNamespaceCascade(ctx_, DeleteNamespaceInput(ns_.id)).ok());
  EXPECT_EQ(DeleteNamespaceCascade(ctx_, Json::object()).code(), StatusCode::kInvalidArgument);
}

TEST_F(CascadingDeleteTest, ABucketWithObjectsGoesOnlyWithForce) {
  Status refused = DeleteBucketCascade(ctx_, DeleteBucketInput(ns_.id, "photos", false));
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition) << refused.ToString();
  EXPECT_TRUE(metadata_->GetBucket(ns_.id, "photos").ok());
  ASSERT_TRUE(DeleteBucketCascade(ctx_, DeleteBucketInput(ns_.id, "photos", true)).ok());
  EXPECT_EQ(metadata_->GetBucket(ns_.id, "photos").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(DeleteBucketCascade(ctx_, DeleteBucketInput(ns_.id, "photos", true)).ok());
  EXPECT_EQ(DeleteBucketCascade(ctx_, {{"namespace_id", ns_.id}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(metadata_->GetNamespaceByName("team").ok()) << "only the bucket went";
}

}  // namespace
}  // namespace argus::domain
