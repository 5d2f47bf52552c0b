// The "folder" source: listing order and paging, what is skipped and why, the allowed-roots
// checks, change detection on Open and while reading, and the inotify watch.

#include "store/localfs/folder_source.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "core/json_schema.h"
#include "store/localfs/register.h"

namespace argus::store::localfs {
namespace {

namespace fs = std::filesystem;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Root reads any directory through CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH. Capabilities are
// per thread in Linux: this takes both out of the calling thread's effective set (they stay
// permitted, so the destructor puts them back), so a test run as root (CI) meets EACCES like
// any other user. A no-op for a process that does not have them.
class WithoutDacOverride {
 public:
  WithoutDacOverride() {
    if (::syscall(SYS_capget, &header_, saved_) != 0) return;
    __user_cap_data_struct dropped[2] = {saved_[0], saved_[1]};
    dropped[0].effective &= ~((1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH));
    active_ = ::syscall(SYS_capset, &header_, dropped) == 0;
  }
  ~WithoutDacOverride() {
    if (active_) ::syscall(SYS_capset, &header_, saved_);
  }
  WithoutDacOverride(const WithoutDacOverride&) = delete;
  WithoutDacOverride& operator=(const WithoutDacOverride&) = delete;

 private:
  __user_cap_header_struct header_{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct saved_[2] = {};
  bool active_ = false;
};

class FolderSourceTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "argus-folder-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << pattern;
    base_ = fs::canonical(pattern).string();
    root_ = base_ + "/root";
    fs::create_directory(root_);
  }

  void TearDown() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }

  // Writes `content` to `<root>/<rel>`, creating directories.
  void Write(const std::string& rel, const std::string& content, bool append = false) {
    fs::path path = fs::path(root_) / rel;
    fs::create_directories(path.parent_path());
    std::ofstream out(path, append ? std::ios::app | std::ios::binary : std::ios::binary);
    out << content;
  }

  Result<std::unique_ptr<ObjectSource>> Create(const std::string& path,
                                               std::vector<std::string> roots) {
    return FolderSource::Create(
        SourceArgs{.config = {{"path", path}}, .allowed_roots = std::move(roots)});
  }

  std::unique_ptr<ObjectSource> MustCreate() {
    auto source = Create(root_, {root_});
    EXPECT_TRUE(source.ok()) << source.status().ToString();
    return source.ok() ? std::move(source).value() : nullptr;
  }

  // Every entry path, page by page with `limit`; checks the paging invariants on the way.
  std::vector<std::string> ListAll(ObjectSource& source, int limit,
                                   std::vector<SourceSkip>* skipped = nullptr) {
    std::vector<std::string> paths;
    std::string cursor;
    for (int pages = 0; pages < 10'000; ++pages) {
      auto page = source.List(cursor, limit);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      EXPECT_LE(page->entries.size() + page->skipped.size(), static_cast<size_t>(limit));
      for (const SourceEntry& entry : page->entries) {
        EXPECT_GT(entry.path, cursor);
        if (!paths.empty()) {
          EXPECT_GT(entry.path, paths.back());
        }
        paths.push_back(entry.path);
      }
      if (skipped != nullptr) {
        skipped->insert(skipped->end(), page->skipped.begin(), page->skipped.end());
      }
      if (page->next_cursor.empty()) break;
      EXPECT_GT(page->next_cursor, cursor);
      cursor = page->next_cursor;
    }
    return paths;
  }

  SourceEntry MustFind(ObjectSource& source, const std::string& path) {
    auto page = source.List("", 1000);
    EXPECT_TRUE(page.ok());
    if (page.ok()) {
      for (const SourceEntry& entry : page->entries) {
        if (entry.path == path) return entry;
      }
    }
    ADD_FAILURE() << path << " is not listed";
    return {};
  }

  static Result<std::string> ReadAll(SourceReader& reader, size_t chunk = 4096) {
    std::string out;
    std::string buf(chunk, '\0');
    for (;;) {
      ARGUS_ASSIGN_OR_RETURN(size_t got, reader.Read(buf.data(), buf.size()));
      if (got == 0) return out;
      out.append(buf.data(), got);
    }
  }

  std::string base_;
  std::string root_;
};

TEST_F(FolderSourceTest, ListsInGlobalBytewisePathOrder) {
  for (const char* rel : {"b", "a/y/z", "a.txt", "a/x", "a-b", "A", "a/x0"}) Write(rel, rel);
  auto source = MustCreate();
  auto page = source->List("", 100);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  std::vector<std::string> paths;
  for (const SourceEntry& entry : page->entries) paths.push_back(entry.path);
  EXPECT_THAT(paths, ElementsAre("A", "a-b", "a.txt", "a/x", "a/x0", "a/y/z", "b"));
  EXPECT_EQ(page->next_cursor, "");
  EXPECT_THAT(page->skipped, IsEmpty());
}

TEST_F(FolderSourceTest, EntriesCarrySizeVersionAndMtime) {
  Write("dir/photo.jpg", "12345");
  auto source = MustCreate();
  SourceEntry entry = MustFind(*source, "dir/photo.jpg");
  struct stat st;
  ASSERT_EQ(::stat((root_ + "/dir/photo.jpg").c_str(), &st), 0);
  int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  EXPECT_EQ(entry.size, 5);
  EXPECT_EQ(entry.version, std::to_string(st.st_size) + "-" + std::to_string(mtime_ns) + "-" +
                               std::to_string(st.st_ino));
  EXPECT_EQ(entry.modified_at, mtime_ns / 1000);
}

TEST_F(FolderSourceTest, SmallPagesReturnExactlyTheFullListing) {
  std::vector<std::string> all;
  for (const char* dir : {"", "a/", "a-b/", "a/b/", "a/b/c/", "z/"}) {
    for (const char* name : {"1", "f", "f.b", "f-"}) Write(std::string(dir) + name, "x");
  }
  fs::create_directories(root_ + "/empty/deeper");
  auto source = MustCreate();
  std::vector<std::string> full = ListAll(*source, 1000);
  ASSERT_EQ(full.size(), 24u);
  EXPECT_TRUE(std::is_sorted(full.begin(), full.end()));
  for (int limit : {1, 2, 3, 5, 7, 23, 24, 25}) {
    EXPECT_EQ(ListAll(*source, limit), full) << "limit " << limit;
  }
}

TEST_F(FolderSourceTest, CursorSkipsEverythingAtOrBeforeIt) {
  for (const char* rel : {"a-b", "a.txt", "a/x", "a/y/z", "b"}) Write(rel, rel);
  auto source = MustCreate();
  auto paths_after = [&](std::string_view cursor) {
    std::vector<std::string> paths;
    auto page = source->List(cursor, 100);
    EXPECT_TRUE(page.ok());
    if (page.ok()) {
      for (const SourceEntry& entry : page->entries) paths.push_back(entry.path);
    }
    return paths;
  };
  EXPECT_THAT(paths_after("a/x"), ElementsAre("a/y/z", "b"));
  EXPECT_THAT(paths_after("a/"), ElementsAre("a/x", "a/y/z", "b"));
  EXPECT_THAT(paths_after("a.txt"), ElementsAre("a/x", "a/y/z", "b"));
  EXPECT_THAT(paths_after("a/y/z"), ElementsAre("b"));
  EXPECT_THAT(paths_after("a/zz"), ElementsAre("b"));
  EXPECT_THAT(paths_after("a"), ElementsAre("a-b", "a.txt", "a/x", "a/y/z", "b"));
  EXPECT_THAT(paths_after("b"), IsEmpty());
  auto last = source->List("b", 10);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->next_cursor, "");
}

TEST_F(FolderSourceTest, NextCursorIsTheLastEntryUntilTheWalkEnds) {
  for (const char* rel : {"a/1", "a/2", "b"}) Write(rel, "x");
  auto source = MustCreate();
  auto first = source->List("", 2);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->next_cursor, "a/2");
  auto second = source->List(first->next_cursor, 2);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->entries.size(), 1u);
  EXPECT_EQ(second->entries[0].path, "b");
  EXPECT_EQ(second->next_cursor, "");
  EXPECT_EQ(source->List("", 0).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(FolderSourceTest, HiddenFilesAndDirectoriesAreLeftOutSilently) {
  for (const char* rel : {".hidden", "dir/.x", ".git/config", "ok", "dir/visible"}) Write(rel, "x");
  auto source = MustCreate();
  std::vector<SourceSkip> skipped;
  EXPECT_THAT(ListAll(*source, 10, &skipped), ElementsAre("dir/visible", "ok"));
  EXPECT_THAT(skipped, IsEmpty());
}

TEST_F(FolderSourceTest, SymlinksOutsideTheRootsAreSkippedWithAReason) {
  Write("real.txt", "inside");
  {
    std::ofstream out(base_ + "/outside.txt");
    out << "secret";
  }
  fs::create_directory(base_ + "/outside-dir");
  fs::create_symlink(base_ + "/outside.txt", root_ + "/out");
  fs::create_symlink(base_ + "/outside-dir", root_ + "/out-dir");
  fs::create_symlink(root_ + "/real.txt", root_ + "/in");
  fs::create_symlink(root_ + "/nothing", root_ + "/broken");
  if (fs::exists("/etc/hostname")) fs::create_symlink("/etc/hostname", root_ + "/host");
  auto source = MustCreate();
  std::vector<SourceSkip> skipped;
  EXPECT_THAT(ListAll(*source, 100, &skipped), ElementsAre("in", "real.txt"));
  std::vector<std::string> outside;
  for (const SourceSkip& skip : skipped) {
    if (skip.reason == "symlink leads outside the allowed roots") outside.push_back(skip.path);
  }
  if (fs::exists("/etc/hostname")) {
    EXPECT_THAT(outside, ElementsAre("host", "out", "out-dir"));
  } else {
    EXPECT_THAT(outside, ElementsAre("out", "out-dir"));
  }
  ASSERT_FALSE(skipped.empty());
  EXPECT_EQ(skipped.front().path, "broken");
  EXPECT_THAT(skipped.front().reason, HasSubstr("broken"));

  // The link inside the roots reads its target.
  SourceEntry in = MustFind(*source, "in");
  EXPECT_EQ(in.size, 6);
  auto reader = source->Open(in);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ(ReadAll(**reader).value_or("?"), "inside");
}

TEST_F(FolderSourceTest, SymlinkedDirectoryInsideTheRootsIsWalked) {
  Write("real/x.txt", "x");
  fs::create_directory_symlink(root_ + "/real", root_ + "/link");
  auto source = MustCreate();
  EXPECT_THAT(ListAll(*source, 100), ElementsAre("link/x.txt", "real/x.txt"));
  auto reader = source->Open(MustFind(*source, "link/x.txt"));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ(ReadAll(**reader).value_or("?"), "x");
}

TEST_F(FolderSourceTest, SymlinkCyclesEnd) {
  Write("d/file", "x");
  fs::create_directory_symlink(root_, root_ + "/d/to-root");
  fs::create_directory_symlink(root_ + "/d", root_ + "/d/to-self");
  auto source = MustCreate();
  for (int limit : {1, 2, 100}) {
    std::vector<SourceSkip> skipped;
    EXPECT_THAT(ListAll(*source, limit, &skipped), ElementsAre("d/file")) << limit;
    ASSERT_EQ(skipped.size(), 2u) << limit;
    EXPECT_EQ(skipped[0].path, "d/to-root");
    EXPECT_EQ(skipped[1].path, "d/to-self");
    EXPECT_THAT(skipped[0].reason, HasSubstr("loop"));
  }
}

TEST_F(FolderSourceTest, SpecialFilesAreSkipped) {
  Write("file", "x");
  ASSERT_EQ(::mkfifo((root_ + "/fifo").c_str(), 0600), 0);
  auto source = MustCreate();
  std::vector<SourceSkip> skipped;
  EXPECT_THAT(ListAll(*source, 10, &skipped), ElementsAre("file"));
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].path, "fifo");
  EXPECT_EQ(skipped[0].reason, "not a regular file");
}

TEST_F(FolderSourceTest, UnreadableDirectoryIsSkippedWithTheErrnoText) {
  Write("locked/file", "x");
  Write("open", "x");
  ASSERT_EQ(::chmod((root_ + "/locked").c_str(), 0), 0);
  auto source = MustCreate();
  std::vector<SourceSkip> skipped;
  {
    WithoutDacOverride as_a_plain_user;  // CI runs as root, which reads any directory
    EXPECT_THAT(ListAll(*source, 10, &skipped), ElementsAre("open"));
  }
  ::chmod((root_ + "/locked").c_str(), 0700);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].path, "locked");
  EXPECT_EQ(skipped[0].reason, "Permission denied");
}

TEST_F(FolderSourceTest, FactoryRefusesPathsOutsideTheRoots) {
  fs::create_directories(root_ + "/sub");
  fs::create_directories(base_ + "/root2");
  Write("file", "x");
  fs::create_directory_symlink(base_, root_ + "/escape");

  auto no_roots = Create(root_, {});
  EXPECT_EQ(no_roots.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(no_roots.status().message(),
            "folder syncs are disabled: no syncs.allowed_roots configured");

  auto outside = Create(base_, {root_});
  EXPECT_EQ(outside.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(outside.status().message(), HasSubstr(base_));
  EXPECT_EQ(Create(base_ + "/root2", {root_}).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(Create(root_ + "/escape", {root_}).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(Create(root_ + "/../root2", {root_}).status().code(), StatusCode::kPermissionDenied);
  // A missing path outside the roots does not tell that it is missing.
  EXPECT_EQ(Create(base_ + "/missing", {root_}).status().code(), StatusCode::kPermissionDenied);

  EXPECT_EQ(Create("root", {root_}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Create("", {root_}).status().code(), StatusCode::kInvalidArgument);
  auto missing = Create(root_ + "/missing", {root_});
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("does not exist"));
  EXPECT_EQ(Create(root_ + "/file", {root_}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FolderSource::Create(
                SourceArgs{.config = {{"path", root_}, {"x", 1}}, .allowed_roots = {root_}})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(FolderSource::Create(SourceArgs{.config = {{"path", 1}}, .allowed_roots = {root_}})
                .status()
                .code(),
            StatusCode::kInvalidArgument);

  EXPECT_TRUE(Create(root_, {root_}).ok());
  EXPECT_TRUE(Create(root_ + "/sub/", {root_}).ok());
  EXPECT_TRUE(Create(root_ + "/sub", {"/nonexistent-root", base_ + "/root2", root_ + "/"}).ok());
  auto via_link = Create(root_ + "/sub", {base_ + "/root2", root_ + "/escape/root"});
  EXPECT_TRUE(via_link.ok()) << "roots are compared after realpath";
}

TEST_F(FolderSourceTest, OpenReadsTheContent) {
  std::string content;
  for (int i = 0; i < 50'000; ++i) content += std::to_string(i);
  Write("big.bin", content);
  auto source = MustCreate();
  auto reader = source->Open(MustFind(*source, "big.bin"));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto read = ReadAll(**reader, 1000);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, content);
  auto again = (*reader)->Read(content.data(), 10);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0u);
}

TEST_F(FolderSourceTest, OpenAfterAChangeIsFailedPrecondition) {
  Write("file", "before");
  auto source = MustCreate();
  SourceEntry entry = MustFind(*source, "file");
  Write("file", " and after", /*append=*/true);
  auto reader = source->Open(entry);
  EXPECT_EQ(reader.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(reader.status().message(), HasSubstr("changed since it was listed"));

  SourceEntry fresh = MustFind(*source, "file");
  EXPECT_TRUE(source->Open(fresh).ok());
  fs::remove(root_ + "/file");
  EXPECT_EQ(source->Open(fresh).status().code(), StatusCode::kNotFound);
}

TEST_F(FolderSourceTest, ChangeWhileReadingIsFailedPrecondition) {
  Write("file", std::string(10'000, 'a'));
  auto source = MustCreate();
  auto reader = source->Open(MustFind(*source, "file"));
  ASSERT_TRUE(reader.ok());
  char buf[100];
  ASSERT_TRUE((*reader)->Read(buf, sizeof(buf)).ok());
  Write("file", "more", /*append=*/true);
  EXPECT_EQ(ReadAll(**reader).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(FolderSourceTest, OpenRefusesPathsAListingCannotReturn) {
  Write("file", "x");
  auto source = MustCreate();
  for (const char* path : {"", "/etc/passwd", "../root/file", "a//b", ".hidden", "d/./f"}) {
    EXPECT_EQ(source->Open(SourceEntry{.path = path}).status().code(), StatusCode::kInvalidArgument)
        << path;
  }
}

TEST_F(FolderSourceTest, ListOfARemovedRootIsNotFound) {
  fs::create_directories(root_ + "/sub");
  auto source = Create(root_ + "/sub", {root_});
  ASSERT_TRUE(source.ok());
  fs::remove(root_ + "/sub");
  EXPECT_EQ((*source)->List("", 10).status().code(), StatusCode::kNotFound);
}

TEST_F(FolderSourceTest, WatchFiresForAFileInANewSubdirectory) {
  auto source = MustCreate();
  std::atomic<int> calls{0};
  auto watch = source->Watch([&calls] { calls.fetch_add(1); });
  ASSERT_TRUE(watch.ok()) << watch.status().ToString();
  ASSERT_NE(*watch, nullptr);
  auto wait_for_call = [&calls](int above) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (calls.load() <= above && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return calls.load() > above;
  };
  fs::create_directories(root_ + "/new/deeper");
  ASSERT_TRUE(wait_for_call(0)) << "no callback for a new directory";
  // The new directories are watched before the callback runs; let their events settle.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  int settled = calls.load();
  Write("new/deeper/file.jpg", "x");
  EXPECT_TRUE(wait_for_call(settled)) << "no callback for a file in a new subdirectory";
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  int before_hidden = calls.load();
  Write(".tmp-upload", "x");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(calls.load(), before_hidden) << "hidden names do not call back";
  watch->reset();  // stops and joins: no callback afterwards
  int after_stop = calls.load();
  Write("late", "x");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(calls.load(), after_stop);
}

TEST_F(FolderSourceTest, IsRegisteredAsFolderWithItsSchema) {
  StoreRegistry registry;
  ASSERT_TRUE(RegisterLocalFsStores(registry).ok());
  auto caps = registry.sources.CapabilitiesOf("folder");
  ASSERT_TRUE(caps.ok());
  EXPECT_TRUE(caps->watchable);
  EXPECT_THAT(caps->secret_fields, IsEmpty());
  auto schema = JsonSchema::Compile(caps->config_schema);
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  EXPECT_TRUE(schema->Validate({{"path", "/data"}}).ok());
  EXPECT_FALSE(schema->Validate(Json::object()).ok());
  EXPECT_FALSE(schema->Validate({{"path", 3}}).ok());
  EXPECT_FALSE(schema->Validate({{"path", "/data"}, {"other", 1}}).ok());
  auto source = registry.sources.Create(
      "folder", SourceArgs{.config = {{"path", root_}}, .allowed_roots = {root_}});
  EXPECT_TRUE(source.ok()) << source.status().ToString();
}

// Where the kernel refuses openat2, the O_NOFOLLOW fallback is said, not silent.
TEST_F(FolderSourceTest, WithoutOpenat2TheFallbackIsReportedAndFilesStillOpen) {
  struct Restore {
    ~Restore() { FolderSource::DisableOpenat2ForTest(false); }
  } restore;
  FolderSource::DisableOpenat2ForTest(true);
  SourceCapabilities caps = FolderSource::Capabilities();
  ASSERT_EQ(caps.host_warnings.size(), 1u);
  EXPECT_NE(caps.host_warnings[0].find("openat2(RESOLVE_NO_SYMLINKS)"), std::string::npos);
  EXPECT_NE(caps.host_warnings[0].find("O_NOFOLLOW"), std::string::npos);
  Write("a.txt", "hello");
  auto source = MustCreate();
  auto reader = source->Open(MustFind(*source, "a.txt"));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ(ReadAll(**reader).value_or(""), "hello");
}

TEST_F(FolderSourceTest, HostWarningFollowsWhatTheKernelSays) {
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS;
  long fd = ::syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how));
  const bool kernel_has_openat2 = fd >= 0;
  if (fd >= 0) ::close(static_cast<int>(fd));
  EXPECT_EQ(FolderSource::Capabilities().host_warnings.empty(), kernel_has_openat2);
}

}  // namespace
}  // namespace argus::store::localfs
