#include "store/localfs/folder_source.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "store/localfs/folder_paths.h"
#include "store/localfs/folder_watch.h"

namespace argus::store::localfs {
namespace {

constexpr std::string_view kOutsideRoots = "symlink leads outside the allowed roots";
constexpr std::string_view kNoRoots =
    "folder syncs are disabled: no syncs.allowed_roots configured";

int64_t MtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

std::string VersionOf(const struct stat& st) {
  return StrCat({std::to_string(st.st_size), "-", std::to_string(MtimeNs(st)), "-",
                 std::to_string(st.st_ino)});
}

SourceEntry EntryOf(std::string path, const struct stat& st) {
  return SourceEntry{.path = std::move(path),
                     .size = static_cast<int64_t>(st.st_size),
                     .version = VersionOf(st),
                     .modified_at = static_cast<TimestampUs>(st.st_mtim.tv_sec) * 1'000'000 +
                                    st.st_mtim.tv_nsec / 1000};
}

struct CloseDir {
  void operator()(DIR* dir) const { ::closedir(dir); }
};
using DirPtr = std::unique_ptr<DIR, CloseDir>;

// Whether openat2(RESOLVE_NO_SYMLINKS) works here, asked of the kernel once: Linux < 5.6 lacks
// the call (ENOSYS) and some seccomp filters refuse it (EPERM). The errno text when it does not.
struct Openat2Support {
  bool available = false;
  std::string why_not;
};

std::atomic<bool> openat2_disabled_for_test{false};

const Openat2Support& ProbeOpenat2() {
  static const Openat2Support support = [] {
    open_how how{};
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    long fd = ::syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how));
    if (fd >= 0) {
      ::close(static_cast<int>(fd));
      return Openat2Support{true, ""};
    }
    return Openat2Support{false, std::strerror(errno)};
  }();
  return support;
}

bool Openat2Available() {
  return !openat2_disabled_for_test.load(std::memory_order_relaxed) && ProbeOpenat2().available;
}

// Opens canonical `path` refusing a symlink in any component (openat2 RESOLVE_NO_SYMLINKS, ELOOP),
// so a directory swapped for a symlink after realpath cannot lead outside the roots. Where openat2
// is missing (probed once, reported by Capabilities().host_warnings) O_NOFOLLOW guards the last
// component only.
int OpenCanonical(const std::string& path, int flags) {
  if (Openat2Available()) {
    open_how how{};
    how.flags = static_cast<uint64_t>(flags | O_NOFOLLOW);
    how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    return static_cast<int>(::syscall(SYS_openat2, AT_FDCWD, path.c_str(), &how, sizeof(how)));
  }
  return ::open(path.c_str(), flags | O_NOFOLLOW);
}

// What a directory member is, decided before sorting (its sort key depends on it).
enum class Kind {
  kFile,      // a regular file (stat'ed when reached)
  kDir,       // a directory, opened relative to its parent
  kLinkFile,  // a symlink to a regular file inside the roots (`st` is the target's)
  kLinkDir,   // a symlink to a directory inside the roots (`target` is its canonical path)
  kSymlink,   // a symlink not resolved yet (Classify turns it into one of the others)
  kSkip,      // reported in `skipped` with `reason`
};

struct Child {
  std::string name;
  std::string key;  // relative path as it sorts: "a/b" for a file, "a/b/" for a directory
  Kind kind = Kind::kFile;
  std::string target;
  std::string reason;
  struct stat st {};
};

// One List call: a depth-first walk that visits children in key order and stops when the page
// holds `limit` items (entries and skips).
class Walker {
 public:
  Walker(const std::vector<std::string>& roots, std::string_view cursor, size_t limit)
      : roots_(roots), cursor_(cursor), limit_(limit) {}

  // Walks the open directory `dir` (canonical-ish path `abs`, relative path `rel`, "" or ending
  // in "/"). False when the page filled up (stop everything).
  bool WalkDir(DIR* dir, const std::string& abs, const std::string& rel, int depth);

  bool full() const { return page_.entries.size() + page_.skipped.size() >= limit_; }
  SourcePage TakePage() {
    page_.next_cursor = full() ? last_key_ : "";
    return std::move(page_);
  }
  // Set when the root itself cannot be read to the end.
  const Status& root_error() const { return root_error_; }

 private:
  // Whether a directory keyed `key` has a path > cursor (else the whole subtree is skipped).
  bool DirNeeded(std::string_view key) const {
    return !(key < cursor_ && !cursor_.starts_with(key));
  }
  Result<std::vector<Child>> ReadChildren(DIR* dir, const std::string& abs, const std::string& rel);
  void Classify(const std::string& abs, const std::string& rel, Child& child);
  void ClassifySymlink(const std::string& abs, const std::string& rel, Child& child);
  bool VisitDir(int parent_fd, const std::string& parent_abs, const Child& child, int depth);

  void AddEntry(SourceEntry entry) {
    last_key_ = entry.path;
    page_.entries.push_back(std::move(entry));
  }
  void AddSkip(const Child& child, std::string reason) {
    last_key_ = child.key;
    std::string path = child.key;
    if (path.ends_with('/')) path.pop_back();
    page_.skipped.push_back(SourceSkip{.path = std::move(path), .reason = std::move(reason)});
  }

  const std::vector<std::string>& roots_;
  std::string_view cursor_;
  size_t limit_;
  SourcePage page_;
  std::string last_key_;
  std::vector<std::pair<dev_t, ino_t>> ancestors_;  // directories on the current descent path
  Status root_error_;
};

void Walker::ClassifySymlink(const std::string& abs, const std::string& rel, Child& child) {
  child.kind = Kind::kSkip;
  child.key = rel + child.name;
  auto target = RealPath(JoinPath(abs, child.name));
  if (!target.ok()) {
    switch (target.status().code()) {
      case StatusCode::kNotFound:
        child.reason = "broken symlink";
        break;
      case StatusCode::kPermissionDenied:
        child.reason = "symlink cannot be resolved: permission denied";
        break;
      default:
        child.reason = "symlink cannot be resolved (a loop or an over-long path)";
        break;
    }
    return;
  }
  if (!IsAtOrBelowAny(*target, roots_)) {
    child.reason = std::string(kOutsideRoots);
    return;
  }
  if (::stat(target->c_str(), &child.st) != 0) {
    child.reason = StrCat({"symlink target cannot be read: ", std::strerror(errno)});
    return;
  }
  if (S_ISREG(child.st.st_mode)) {
    child.kind = Kind::kLinkFile;
  } else if (S_ISDIR(child.st.st_mode)) {
    child.kind = Kind::kLinkDir;
    child.key.push_back('/');
    child.target = std::move(target).value();
  } else {
    child.reason = "symlink to something that is not a regular file";
  }
}

void Walker::Classify(const std::string& abs, const std::string& rel, Child& child) {
  if (child.kind == Kind::kDir) {
    child.key = StrCat({rel, child.name, "/"});
    return;
  }
  if (child.kind != Kind::kSymlink) {
    child.key = rel + child.name;
    return;
  }
  // A symlink: resolving it decides whether it sorts as a file or as a directory. Neither key
  // can be past the cursor when both are at or before it, and then it need not be resolved.
  std::string as_file = rel + child.name;
  std::string as_dir = as_file + "/";
  if (as_file <= cursor_ && !DirNeeded(as_dir)) {
    child.kind = Kind::kSkip;
    child.key = std::move(as_file);
    return;
  }
  ClassifySymlink(abs, rel, child);
}

Result<std::vector<Child>> Walker::ReadChildren(DIR* dir, const std::string& abs,
                                                const std::string& rel) {
  int dir_fd = ::dirfd(dir);
  std::vector<Child> children;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(dir);
    if (entry == nullptr) {
      if (errno != 0) return InternalError(std::strerror(errno));
      break;
    }
    std::string_view name = entry->d_name;
    if (name == "." || name == ".." || IsHiddenName(name)) continue;
    Child child{.name = std::string(name)};
    unsigned char type = entry->d_type;
    if (type == DT_UNKNOWN) {
      struct stat st;
      if (::fstatat(dir_fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone
      type = S_ISREG(st.st_mode)   ? DT_REG
             : S_ISDIR(st.st_mode) ? DT_DIR
             : S_ISLNK(st.st_mode) ? DT_LNK
                                   : DT_UNKNOWN;
    }
    if (type == DT_REG) {
      child.kind = Kind::kFile;
    } else if (type == DT_DIR) {
      child.kind = Kind::kDir;
    } else if (type == DT_LNK) {
      child.kind = Kind::kSymlink;
    } else {
      child.kind = Kind::kSkip;
      child.reason = "not a regular file";
    }
    Classify(abs, rel, child);
    bool is_dir = child.kind == Kind::kDir || child.kind == Kind::kLinkDir;
    if (is_dir ? DirNeeded(child.key) : child.key > cursor_) children.push_back(std::move(child));
  }
  std::sort(children.begin(), children.end(),
            [](const Child& a, const Child& b) { return a.key < b.key; });
  return children;
}

// Opens and walks directory `child`; false when the page filled up.
bool Walker::VisitDir(int parent_fd, const std::string& parent_abs, const Child& child, int depth) {
  // Problems with the directory itself are reported once: when it is first reached, not again
  // from a cursor inside it or equal to its key.
  bool report = std::string_view(child.key) > cursor_;
  if (depth >= FolderSource::kMaxDepth) {
    if (report) AddSkip(child, "directories nested too deep");
    return !full();
  }
  int fd =
      child.kind == Kind::kDir
          ? ::openat(parent_fd, child.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
          : OpenCanonical(child.target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return true;  // removed since it was read
    if (report) AddSkip(child, std::strerror(err));
    return !full();
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    if (report) AddSkip(child, std::strerror(err));
    return !full();
  }
  std::pair<dev_t, ino_t> id{st.st_dev, st.st_ino};
  if (std::find(ancestors_.begin(), ancestors_.end(), id) != ancestors_.end()) {
    ::close(fd);
    if (report) AddSkip(child, "symlink loop: leads back to an enclosing directory");
    return !full();
  }
  DirPtr dir(::fdopendir(fd));
  if (dir == nullptr) {
    int err = errno;
    ::close(fd);
    if (report) AddSkip(child, std::strerror(err));
    return !full();
  }
  std::string abs = child.kind == Kind::kDir ? JoinPath(parent_abs, child.name) : child.target;
  ancestors_.push_back(id);
  bool more = WalkDir(dir.get(), abs, child.key, depth + 1);
  ancestors_.pop_back();
  return more;
}

bool Walker::WalkDir(DIR* dir, const std::string& abs, const std::string& rel, int depth) {
  if (depth == 0) {
    struct stat st;
    if (::fstat(::dirfd(dir), &st) == 0) ancestors_.emplace_back(st.st_dev, st.st_ino);
  }
  auto children = ReadChildren(dir, abs, rel);
  if (!children.ok()) {
    if (depth == 0) {
      root_error_ =
          InternalError(StrCat({"cannot read folder ", abs, ": ", children.status().message()}));
      return false;
    }
    // Reported like an unreadable directory; entries already read are not offered, so the
    // directory is listed whole or not at all.
    if (std::string_view(rel) > cursor_) {
      AddSkip(Child{.key = rel}, std::string(children.status().message()));
    }
    return !full();
  }
  int dir_fd = ::dirfd(dir);
  for (const Child& child : *children) {
    switch (child.kind) {
      case Kind::kDir:
      case Kind::kLinkDir:
        if (!VisitDir(dir_fd, abs, child, depth)) return false;
        continue;
      case Kind::kFile: {
        struct stat st;
        if (::fstatat(dir_fd, child.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
          if (errno == ENOENT) continue;  // removed since it was read
          AddSkip(child, std::strerror(errno));
        } else if (S_ISREG(st.st_mode)) {
          AddEntry(EntryOf(child.key, st));
        } else {
          continue;  // replaced by something else since it was read: the next listing sees it
        }
        break;
      }
      case Kind::kLinkFile:
        AddEntry(EntryOf(child.key, child.st));
        break;
      case Kind::kSkip:
        AddSkip(child, child.reason);
        break;
      case Kind::kSymlink:
        continue;  // Classify resolved every symlink
    }
    if (full()) return false;
  }
  return true;
}

// "a/b.jpg": no leading '/', no empty, "." or ".." or hidden segments.
bool IsListablePath(std::string_view path) {
  if (path.empty() || path.find('\0') != std::string_view::npos) return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (segment.empty() || IsHiddenName(segment)) return false;
    start = end + 1;
  }
  return true;
}

class FolderReader final : public SourceReader {
 public:
  FolderReader(int fd, std::string path, const struct stat& st)
      : fd_(fd), path_(std::move(path)), size_(st.st_size), mtime_ns_(MtimeNs(st)) {}
  ~FolderReader() override { ::close(fd_); }
  FolderReader(const FolderReader&) = delete;
  FolderReader& operator=(const FolderReader&) = delete;

  Result<size_t> Read(char* buf, size_t n) override {
    if (at_end_ || n == 0) return size_t{0};
    ssize_t got;
    do {
      got = ::read(fd_, buf, n);
    } while (got < 0 && errno == EINTR);
    if (got < 0) return InternalError(StrCat({"cannot read ", path_, ": ", std::strerror(errno)}));
    read_ += got;
    if (read_ > size_) return Changed();
    if (got > 0) return static_cast<size_t>(got);
    // The end: a writer that replaced bytes in place, truncated or appended shows in size/mtime.
    struct stat st;
    if (::fstat(fd_, &st) != 0) {
      return InternalError(StrCat({"cannot stat ", path_, ": ", std::strerror(errno)}));
    }
    if (st.st_size != size_ || MtimeNs(st) != mtime_ns_ || read_ != size_) return Changed();
    at_end_ = true;
    return size_t{0};
  }

 private:
  Status Changed() const {
    return FailedPreconditionError(StrCat({"folder file ", path_, " changed while being read"}));
  }

  int fd_;
  std::string path_;
  off_t size_;
  int64_t mtime_ns_;
  off_t read_ = 0;
  bool at_end_ = false;
};

// The canonical, existing allowed roots; relative or missing ones cannot hold anything.
std::vector<std::string> CanonicalRoots(const std::vector<std::string>& roots) {
  std::vector<std::string> out;
  for (const std::string& root : roots) {
    if (root.empty() || root.front() != '/') continue;
    auto real = RealPath(root);
    if (real.ok()) out.push_back(std::move(real).value());
  }
  return out;
}

std::string LexicallyNormal(const std::string& path) {
  std::string out = std::filesystem::path(path).lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

}  // namespace

FolderSource::FolderSource(std::string root, std::vector<std::string> allowed_roots)
    : root_(std::move(root)), allowed_roots_(std::move(allowed_roots)) {}

Result<std::unique_ptr<ObjectSource>> FolderSource::Create(const SourceArgs& args) {
  const Json& config = args.config;
  if (!config.is_object()) return InvalidArgumentError("folder source settings must be an object");
  for (const auto& [name, value] : config.items()) {
    if (name != "path") {
      return InvalidArgumentError(
          StrCat({"unknown folder source setting '", name, "' (known: path)"}));
    }
  }
  auto it = config.find("path");
  if (it == config.end() || !it->is_string()) {
    return InvalidArgumentError("folder source setting 'path' must be a string");
  }
  const std::string& path = it->get_ref<const std::string&>();
  if (path.empty() || path.front() != '/' || path.find('\0') != std::string::npos) {
    return InvalidArgumentError(StrCat({"folder path must be absolute, not '", path, "'"}));
  }
  if (args.allowed_roots.empty()) return PermissionDeniedError(std::string(kNoRoots));
  std::vector<std::string> roots = CanonicalRoots(args.allowed_roots);
  Status outside = PermissionDeniedError(
      StrCat({"folder ", path, " is outside the allowed roots (syncs.allowed_roots)"}));
  auto real = RealPath(path);
  if (!real.ok()) {
    if (real.status().code() != StatusCode::kNotFound) return real.status();
    // Only a path that would be inside a root learns that it does not exist, so the factory
    // does not tell whether paths elsewhere exist.
    std::string normal = LexicallyNormal(path);
    std::vector<std::string> lexical_roots;
    for (const std::string& root : args.allowed_roots)
      lexical_roots.push_back(LexicallyNormal(root));
    if (!IsAtOrBelowAny(normal, roots) && !IsAtOrBelowAny(normal, lexical_roots)) return outside;
    return InvalidArgumentError(StrCat({"folder ", path, " does not exist"}));
  }
  if (!IsAtOrBelowAny(*real, roots)) return outside;
  struct stat st;
  if (::stat(real->c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return InvalidArgumentError(StrCat({"folder ", path, " is not a directory"}));
  }
  return std::unique_ptr<ObjectSource>(new FolderSource(std::move(real).value(), std::move(roots)));
}

SourceCapabilities FolderSource::Capabilities() {
  Json path = {{"type", "string"},
               {"minLength", 1},
               {"maxLength", 4096},
               {"description", "absolute directory on the server, below syncs.allowed_roots"}};
  SourceCapabilities caps{.watchable = true,
                          .secret_fields = {},
                          .config_schema = {{"type", "object"},
                                            {"properties", {{"path", std::move(path)}}},
                                            {"required", Json::array({"path"})},
                                            {"additionalProperties", false}}};
  if (!Openat2Available()) {
    const std::string& why = ProbeOpenat2().why_not;
    caps.host_warnings.push_back(
        "folder syncs: this kernel refuses openat2(RESOLVE_NO_SYMLINKS)" +
        (why.empty() ? std::string() : " (" + why + ")") +
        ", so files are opened with O_NOFOLLOW, which refuses a symlink only as the last path "
        "component: a directory replaced by a symlink between listing and opening could lead "
        "outside syncs.allowed_roots (Linux 5.6 or later without a seccomp filter on openat2 "
        "closes this)");
  }
  return caps;
}

void FolderSource::DisableOpenat2ForTest(bool disabled) {
  openat2_disabled_for_test.store(disabled, std::memory_order_relaxed);
}

Result<SourcePage> FolderSource::List(std::string_view cursor, int limit) {
  if (limit < 1) return InvalidArgumentError("folder listing limit must be at least 1");
  // The root is resolved again: it may have been replaced by a symlink since Create.
  auto real = RealPath(root_);
  if (!real.ok()) {
    if (real.status().code() == StatusCode::kNotFound) {
      return NotFoundError(StrCat({"folder ", root_, " is gone"}));
    }
    return real.status();
  }
  if (!IsAtOrBelowAny(*real, allowed_roots_)) {
    return PermissionDeniedError(
        StrCat({"folder ", root_, " now leads outside the allowed roots"}));
  }
  int fd = OpenCanonical(*real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string message = StrCat({"cannot open folder ", root_, ": ", std::strerror(err)});
    if (err == ENOENT) return NotFoundError(std::move(message));
    if (err == EACCES || err == EPERM) return PermissionDeniedError(std::move(message));
    return InternalError(std::move(message));
  }
  DirPtr dir(::fdopendir(fd));
  if (dir == nullptr) {
    int err = errno;
    ::close(fd);
    return InternalError(StrCat({"cannot read folder ", root_, ": ", std::strerror(err)}));
  }
  Walker walker(allowed_roots_, cursor, static_cast<size_t>(limit));
  walker.WalkDir(dir.get(), *real, "", 0);
  if (!walker.root_error().ok()) return walker.root_error();
  return walker.TakePage();
}

Result<std::unique_ptr<SourceReader>> FolderSource::Open(const SourceEntry& entry) {
  const std::string& path = entry.path;
  if (!IsListablePath(path)) {
    return InvalidArgumentError(StrCat({"'", path, "' is not a path a folder listing returns"}));
  }
  auto real = RealPath(JoinPath(root_, path));
  if (!real.ok()) {
    if (real.status().code() == StatusCode::kNotFound) {
      return NotFoundError(StrCat({"folder file ", path, " is gone"}));
    }
    return real.status();
  }
  if (!IsAtOrBelowAny(*real, allowed_roots_)) {
    return PermissionDeniedError(
        StrCat({"folder file ", path, " leads outside the allowed roots"}));
  }
  // O_NONBLOCK: a FIFO swapped in after the checks must not block the open.
  int fd = OpenCanonical(*real, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    int err = errno;
    std::string message = StrCat({"cannot open folder file ", path, ": ", std::strerror(err)});
    if (err == ENOENT) return NotFoundError(std::move(message));
    if (err == ELOOP) {
      return FailedPreconditionError(
          StrCat({"folder file ", path, " changed since it was listed"}));
    }
    if (err == EACCES || err == EPERM) return PermissionDeniedError(std::move(message));
    return InternalError(std::move(message));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return InternalError(StrCat({"cannot stat folder file ", path, ": ", std::strerror(err)}));
  }
  if (!S_ISREG(st.st_mode) || VersionOf(st) != entry.version) {
    ::close(fd);
    return FailedPreconditionError(StrCat({"folder file ", path, " changed since it was listed"}));
  }
  return std::unique_ptr<SourceReader>(new FolderReader(fd, path, st));
}

Result<std::unique_ptr<SourceWatch>> FolderSource::Watch(std::function<void()> on_change) {
  if (!on_change) return InvalidArgumentError("a folder watch needs a callback");
  return StartFolderWatch(root_, allowed_roots_, std::move(on_change));
}

}  // namespace argus::store::localfs
