#include "store/localfs/folder_watch.h"

#include <dirent.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <set>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>

#include "core/log.h"
#include "core/thread_name.h"
#include "store/localfs/folder_paths.h"

namespace argus::store::localfs {
namespace {

// What can change a listing. IN_MODIFY is left out on purpose: it fires on every write(2), and
// a file being written is not ready anyway; IN_CLOSE_WRITE follows when the writer is done.
constexpr uint32_t kMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                           IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

// Bounds the directories a watch adds (and its recursion), like the listing's nesting limit.
constexpr int kMaxDepth = 256;

class FolderWatch final : public SourceWatch {
 public:
  FolderWatch(std::string root, std::vector<std::string> allowed_roots,
              std::function<void()> on_change, int inotify_fd, int stop_fd)
      : root_(std::move(root)),
        allowed_roots_(std::move(allowed_roots)),
        on_change_(std::move(on_change)),
        inotify_fd_(inotify_fd),
        stop_fd_(stop_fd) {}

  ~FolderWatch() override {
    if (thread_.joinable()) {
      uint64_t one = 1;
      // An eventfd write of 1 only fails when the counter would overflow, which a single stop
      // cannot cause.
      while (::write(stop_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
      }
      thread_.join();
    }
    ::close(inotify_fd_);
    ::close(stop_fd_);
  }

  FolderWatch(const FolderWatch&) = delete;
  FolderWatch& operator=(const FolderWatch&) = delete;

  // Watches the tree; Internal when the root itself cannot be watched.
  Status AddInitialWatches() {
    std::set<int> seen;
    AddTree(root_, 0, seen);
    if (dirs_.empty()) {
      return InternalError(StrCat({"cannot watch folder ", root_, ": ", root_error_}));
    }
    return OkStatus();
  }

  void StartThread() {
    thread_ = std::thread([this] {
      SetThreadName("argus-watch");
      Run();
    });
  }

 private:
  // Adds a watch on directory `abs` and, unless this scan met its inode already (inotify gives
  // one descriptor per inode, which also stops symlink cycles), on the directories below it.
  void AddTree(const std::string& abs, int depth, std::set<int>& seen) {
    if (depth > kMaxDepth) return;
    int wd = ::inotify_add_watch(inotify_fd_, abs.c_str(), kMask);
    if (wd < 0) {
      int err = errno;
      if (depth == 0 && abs == root_) root_error_ = std::strerror(err);
      if (err == ENOSPC && !warned_limit_) {
        warned_limit_ = true;
        log::Warn("folder watch: inotify watch limit reached; changes below are found by polling",
                  {{"folder", root_}, {"directory", abs}});
      }
      return;
    }
    dirs_[wd] = abs;  // also updates the path of a directory that was moved
    if (!seen.insert(wd).second) return;
    DIR* dir = ::opendir(abs.c_str());
    if (dir == nullptr) return;
    std::vector<std::string> subdirs;
    for (;;) {
      const dirent* entry = ::readdir(dir);
      if (entry == nullptr) break;
      std::string_view name = entry->d_name;
      if (name == "." || name == ".." || IsHiddenName(name)) continue;
      if (entry->d_type == DT_DIR) {
        subdirs.push_back(JoinPath(abs, name));
      } else if (entry->d_type == DT_LNK || entry->d_type == DT_UNKNOWN) {
        std::string target = LinkedDirectory(JoinPath(abs, name));
        if (!target.empty()) subdirs.push_back(std::move(target));
      }
    }
    ::closedir(dir);
    for (const std::string& subdir : subdirs) AddTree(subdir, depth + 1, seen);
  }

  // The canonical directory `path` is or leads to inside the allowed roots; "" otherwise.
  std::string LinkedDirectory(const std::string& path) const {
    auto real = RealPath(path);
    if (!real.ok() || !IsAtOrBelowAny(*real, allowed_roots_)) return {};
    struct stat st;
    if (::stat(real->c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return {};
    return std::move(real).value();
  }

  // Reads all queued events; true when any may change a listing.
  bool DrainEvents() {
    alignas(inotify_event) char buf[64 * 1024];
    bool changed = false;
    for (;;) {
      ssize_t got = ::read(inotify_fd_, buf, sizeof(buf));
      if (got < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN) {
          log::Error("folder watch: cannot read inotify events",
                     {{"folder", root_}, {"error", std::strerror(errno)}});
        }
        return changed;
      }
      if (got == 0) return changed;
      for (ssize_t at = 0; at < got;) {
        const auto* event = reinterpret_cast<const inotify_event*>(buf + at);
        at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
        changed |= Handle(*event);
      }
    }
  }

  bool Handle(const inotify_event& event) {
    if (event.mask & IN_Q_OVERFLOW) {
      // Events were lost, directory creations among them: look for directories not watched.
      std::set<int> seen;
      AddTree(root_, 0, seen);
      return true;
    }
    auto dir = dirs_.find(event.wd);
    if (event.mask & IN_IGNORED) {
      if (dir != dirs_.end()) dirs_.erase(dir);
      return false;
    }
    if (dir == dirs_.end()) return false;
    std::string_view name = event.len > 0 ? std::string_view(event.name) : std::string_view();
    if (IsHiddenName(name)) return false;
    if (!name.empty() && (event.mask & (IN_CREATE | IN_MOVED_TO))) {
      std::string path = JoinPath(dir->second, name);
      std::string target = (event.mask & IN_ISDIR) ? path : LinkedDirectory(path);
      if (!target.empty()) {
        std::set<int> seen;
        AddTree(target, 1, seen);
      }
    }
    return true;
  }

  void Run() {
    for (;;) {
      pollfd fds[2] = {{.fd = inotify_fd_, .events = POLLIN, .revents = 0},
                       {.fd = stop_fd_, .events = POLLIN, .revents = 0}};
      int rc = ::poll(fds, 2, -1);
      if (rc < 0) {
        if (errno == EINTR) continue;
        log::Error("folder watch stopped: poll failed",
                   {{"folder", root_}, {"error", std::strerror(errno)}});
        return;
      }
      if (fds[1].revents != 0) return;
      if (fds[0].revents != 0 && DrainEvents()) Notify();
    }
  }

  void Notify() {
    try {
      on_change_();
    } catch (const std::exception& e) {
      log::Error("folder watch: the change callback threw",
                 {{"folder", root_}, {"error", e.what()}});
    } catch (...) {
      log::Error("folder watch: the change callback threw a non-exception", {{"folder", root_}});
    }
  }

  const std::string root_;
  const std::vector<std::string> allowed_roots_;
  const std::function<void()> on_change_;
  const int inotify_fd_;
  const int stop_fd_;
  // Touched by the constructor's thread until StartThread, then only by the watch thread.
  std::unordered_map<int, std::string> dirs_;  // watch descriptor -> directory path
  std::string root_error_;
  bool warned_limit_ = false;
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<SourceWatch>> StartFolderWatch(std::string root,
                                                      std::vector<std::string> allowed_roots,
                                                      std::function<void()> on_change) {
  int inotify_fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd < 0) {
    return InternalError(
        StrCat({"cannot watch folder ", root, ": inotify: ", std::strerror(errno)}));
  }
  int stop_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (stop_fd < 0) {
    int err = errno;
    ::close(inotify_fd);
    return InternalError(StrCat({"cannot watch folder ", root, ": eventfd: ", std::strerror(err)}));
  }
  auto watch = std::make_unique<FolderWatch>(std::move(root), std::move(allowed_roots),
                                             std::move(on_change), inotify_fd, stop_fd);
  ARGUS_RETURN_IF_ERROR(watch->AddInitialWatches());
  try {
    watch->StartThread();
  } catch (const std::system_error& e) {
    return InternalError(StrCat({"cannot start a folder watch thread: ", e.what()}));
  }
  return std::unique_ptr<SourceWatch>(std::move(watch));
}

}  // namespace argus::store::localfs
