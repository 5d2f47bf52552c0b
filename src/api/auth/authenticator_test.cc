#include "api/auth/authenticator.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/id.h"
#include "store/sqlite/register.h"
#include "tests/fakes/fake_clock.h"

namespace argus::api {
namespace {

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/auth_" + NewId();
    std::filesystem::create_directories(dir_);
    ASSERT_TRUE(store::sqlite::RegisterSqliteStores(registry_).ok());
    auto s = registry_.metadata.Create("sqlite", {&config_, dir_, &clock_});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    auth_ = std::make_unique<Authenticator>(store_.get(), store_.get(), &clock_, 3600);
    ns_.id = NewId();
    ns_.name = "media";
    ASSERT_TRUE(store_->CreateNamespace(ns_).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string AddKey(store::Role role, std::string ns_id,
                     std::optional<TimestampUs> expires = std::nullopt) {
    NewKeySecret s = MakeKeySecret();
    store::ApiKey k;
    k.id = NewId();
    k.namespace_id = std::move(ns_id);
    k.name = "k";
    k.role = role;
    k.prefix = s.prefix;
    k.hash = s.hash;
    k.expires_at = expires;
    EXPECT_TRUE(store_->CreateApiKey(k).ok());
    last_id_ = k.id;
    return s.secret;
  }

  Config config_;
  FakeClock clock_{1'800'000'000'000'000};
  std::string dir_;
  store::StoreRegistry registry_;
  std::unique_ptr<store::MetadataStore> store_;
  std::unique_ptr<Authenticator> auth_;
  store::Namespace ns_;
  std::string last_id_;
};

TEST_F(AuthenticatorTest, SecretsAreHighEntropyAndPrefixed) {
  NewKeySecret a = MakeKeySecret(), b = MakeKeySecret();
  EXPECT_EQ(a.secret.size(), 46u);
  EXPECT_EQ(a.secret.substr(0, 3), "ak_");
  EXPECT_EQ(a.prefix, a.secret.substr(0, kKeyPrefixLength));
  EXPECT_NE(a.secret, b.secret);
  EXPECT_EQ(a.hash.size(), 32u);
}

TEST_F(AuthenticatorTest, VerifiesNamespaceKey) {
  std::string secret = AddKey(store::Role::kEditor, ns_.id);
  auto p = auth_->Verify(secret);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->role, store::Role::kEditor);
  EXPECT_FALSE(p->global);
  EXPECT_EQ(p->namespace_name, "media");
  // Cached: still valid on a second call.
  EXPECT_TRUE(auth_->Verify(secret).ok());
}

TEST_F(AuthenticatorTest, RejectsWrongSecretWithTheRightPrefix) {
  std::string secret = AddKey(store::Role::kAdmin, "");
  std::string forged = secret;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  auto p = auth_->Verify(forged);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kUnauthenticated);
  EXPECT_FALSE(auth_->Verify("short").ok());
  EXPECT_FALSE(auth_->Verify(MakeKeySecret().secret).ok());
}

TEST_F(AuthenticatorTest, RevocationIsImmediateDespiteTheCache) {
  std::string secret = AddKey(store::Role::kViewer, ns_.id);
  ASSERT_TRUE(auth_->Verify(secret).ok());
  ASSERT_TRUE(store_->RevokeApiKey(last_id_, clock_.NowUs()).ok());
  auth_->InvalidateKey(last_id_);
  EXPECT_EQ(auth_->Verify(secret).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(AuthenticatorTest, ExpiredKeyIsRejectedEvenWhenCached) {
  std::string secret = AddKey(store::Role::kViewer, ns_.id, clock_.NowUs() + 1'000'000);
  ASSERT_TRUE(auth_->Verify(secret).ok());
  clock_.AdvanceUs(2'000'000);
  EXPECT_EQ(auth_->Verify(secret).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(AuthenticatorTest, NamespaceDeletionEvictsItsKeys) {
  std::string secret = AddKey(store::Role::kAdmin, ns_.id);
  ASSERT_TRUE(auth_->Verify(secret).ok());
  ASSERT_TRUE(auth_->ResolveNamespace("media").ok());
  ASSERT_TRUE(store_->DeleteNamespace(ns_.id).ok());
  auth_->InvalidateNamespace(ns_.id);
  EXPECT_FALSE(auth_->Verify(secret).ok());
  EXPECT_EQ(auth_->ResolveNamespace("media").status().code(), StatusCode::kNotFound);
}

TEST_F(AuthenticatorTest, UserChosenAdminKey) {
  NewKeySecret s = KeySecretFrom("this-is-my-own-admin-key-of-40-chars-xx");
  EXPECT_EQ(s.prefix, "this-is-my-o");
  EXPECT_EQ(s.secret, "this-is-my-own-admin-key-of-40-chars-xx");
}

}  // namespace
}  // namespace argus::api
