#include "store/localfs/local_blob_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <utility>

#include "core/crypto.h"
#include "core/str_cat.h"
#include "store/localfs/group_sync.h"

namespace argus::store::localfs {
namespace {

constexpr std::string_view kTempSuffix = ".part";

// "cannot <what> <path>: <errno text>", Internal: the contract's code for I/O errors.
Status IoError(std::string_view what, const std::string& path, int err) {
  return InternalError(StrCat({"cannot ", what, " ", path, ": ", std::strerror(err)}));
}

TimestampUs MtimeUs(const struct stat& st) {
  return static_cast<TimestampUs>(st.st_mtim.tv_sec) * 1'000'000 + st.st_mtim.tv_nsec / 1000;
}

bool IsHexDigit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool IsHexPair(std::string_view name) {
  return name.size() == 2 && IsHexDigit(name[0]) && IsHexDigit(name[1]);
}

// Creates `path` unless it exists. Returns whether this call created it.
Result<bool> MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0) return true;
  if (errno == EEXIST) return false;
  return IoError("create directory", path, errno);
}

// Makes the entries of directory `path` (renames, unlinks, new subdirectories) durable.
Status FsyncDir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("open directory", path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return IoError("fsync directory", path, err);
  return OkStatus();
}

// The names in directory `path` except "." and "..", unsorted; none when it does not exist.
Result<std::vector<std::string>> ReadDirNames(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) {
    if (errno == ENOENT) return names;
    return IoError("open directory", path, errno);
  }
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(dir);
    if (entry == nullptr) break;
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0) return IoError("read directory", path, err);
  return names;
}

// Streams into `<root>/tmp/<random>.part`; Commit renames it to `<root>/<aa>/<bb>/<sha256>`.
class LocalBlobWriter final : public BlobWriter {
 public:
  LocalBlobWriter(std::string root, std::shared_ptr<GroupSync> group_sync, std::string temp_path,
                  int fd)
      : root_(std::move(root)),
        group_sync_(std::move(group_sync)),
        temp_path_(std::move(temp_path)),
        fd_(fd) {}
  ~LocalBlobWriter() override { Abort(); }

  // Bytes are hashed as they come and written in pieces of at least 1 MiB: network reads arrive
  // in ~16 KiB pieces at odd offsets, and writing each one costs a syscall and a partial-page fill
  // (bench: about half the large-upload throughput of a plain write before this). A piece that
  // large already (the HTTP transport hands bodies over in 1 MiB chunks) is written as it is,
  // without a copy.
  static constexpr size_t kWritePiece = 1 << 20;
  // Writeback of what was written is started every this many bytes, so the disk works while the
  // rest arrives and Commit's sync waits only for the tail, not for the whole blob.
  static constexpr int64_t kWritebackEvery = 8 << 20;
  // From this size a blob fdatasyncs its own bytes before it joins a group sync.
  static constexpr int64_t kOwnSyncBytes = 4 << 20;

  Status Write(std::string_view bytes) override {
    if (finished_ || digest_.sealed()) {
      return FailedPreconditionError("blob writer is already sealed, committed or aborted");
    }
    digest_.Update(bytes);
    if (pending_.empty() && bytes.size() >= kWritePiece) return WriteOut(bytes);
    if (pending_.capacity() < kWritePiece) pending_.reserve(kWritePiece);
    while (!bytes.empty()) {
      size_t take = std::min(bytes.size(), kWritePiece - pending_.size());
      pending_.append(bytes.substr(0, take));
      bytes.remove_prefix(take);
      if (pending_.size() == kWritePiece) ARGUS_RETURN_IF_ERROR(Flush());
    }
    return OkStatus();
  }

  int64_t size() const override { return digest_.size(); }

  Result<BlobInfo> Seal(std::string_view expected_sha256) override {
    if (finished_) return FailedPreconditionError("blob writer is already committed or aborted");
    if (!digest_.sealed()) ARGUS_RETURN_IF_ERROR(Flush());
    auto info = digest_.Seal(expected_sha256);
    if (!info.ok()) Abort();
    return info;
  }

  Result<BlobInfo> Commit(std::string_view expected_sha256) override {
    ARGUS_ASSIGN_OR_RETURN(BlobInfo info, Seal(expected_sha256));
    Status status = Publish(info);
    Abort();  // the writer is finished either way; removes the temporary unless it was renamed
    if (!status.ok()) return status;
    return info;
  }

  void Abort() override {
    finished_ = true;
    pending_.clear();
    pending_.shrink_to_fit();
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (temp_exists_) {
      // Failing to unlink only leaves a temporary for CleanTemporary to take.
      ::unlink(temp_path_.c_str());
      temp_exists_ = false;
    }
  }

 private:
  // Writes what is buffered to the temporary file; aborts the writer on an I/O error.
  Status Flush() {
    ARGUS_RETURN_IF_ERROR(WriteOut(pending_));
    pending_.clear();
    return OkStatus();
  }

  // Writes `bytes` at the end of the temporary file; aborts the writer on an I/O error.
  Status WriteOut(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        Status error = IoError("write", temp_path_, errno);
        Abort();
        return error;
      }
      bytes.remove_prefix(static_cast<size_t>(n));
      written_ += n;
    }
    if (written_ - writeback_from_ >= kWritebackEvery) {
      // Only starts the writeback (no wait): durability still comes from Commit's sync. A failure
      // here is not an error of the write; that sync reports any real one.
      ::sync_file_range(fd_, writeback_from_, written_ - writeback_from_, SYNC_FILE_RANGE_WRITE);
      writeback_from_ = written_;
    }
    return OkStatus();
  }

  // Moves the temporary under its name (or drops it for an existing copy) and makes that durable.
  // Small blobs are synced as a group (one syncfs for the file data, the rename and any new
  // directory of every commit waiting at that moment); a large one syncs its own data first, so
  // the group it joins is not held up by its bytes.
  Status Publish(const BlobInfo& info) {
    // The mtime is the blob's last_used: stamp the commit, not the last write (an empty or slow
    // upload's last write can be long before).
    if (::futimens(fd_, nullptr) != 0) return IoError("touch", temp_path_, errno);
    // fdatasync, not fsync: the bytes must survive a crash; the fresh mtime need not.
    if (digest_.size() >= kOwnSyncBytes && ::fdatasync(fd_) != 0) {
      return IoError("fdatasync", temp_path_, errno);
    }
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return IoError("close", temp_path_, errno);

    std::string aa_dir = StrCat({root_, "/", std::string_view(info.sha256).substr(0, 2)});
    std::string dir = StrCat({aa_dir, "/", std::string_view(info.sha256).substr(2, 2)});
    std::string path = StrCat({dir, "/", info.sha256});
    ARGUS_ASSIGN_OR_RETURN(bool deduplicated, TouchExisting(path, info.size));
    if (deduplicated) {
      ::unlink(temp_path_.c_str());  // a failure leaves a temporary for CleanTemporary
      temp_exists_ = false;
      // The existing copy may come from a commit still between its rename and its sync: ours is
      // acknowledged now, so make the entry durable too.
      return group_sync_->Sync();
    }
    ARGUS_RETURN_IF_ERROR(MakeDir(aa_dir).status());
    ARGUS_RETURN_IF_ERROR(MakeDir(dir).status());
    if (::rename(temp_path_.c_str(), path.c_str()) != 0) {
      int err = errno;
      return IoError(StrCat({"rename ", temp_path_, " to"}), path, err);
    }
    temp_exists_ = false;
    // The data (unless synced above), the new name and any directory made on the way.
    return group_sync_->Sync();
  }

  // Marks an existing intact copy at `path` as just used. False when there is none (also when it
  // was deleted a moment ago) or when its size differs: a damaged copy is then replaced by ours,
  // whose hash was just checked.
  static Result<bool> TouchExisting(const std::string& path, int64_t size) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) return false;
      return IoError("stat", path, errno);
    }
    if (st.st_size != size) return false;
    if (::utimensat(AT_FDCWD, path.c_str(), nullptr, 0) == 0) return true;
    if (errno == ENOENT) return false;
    return IoError("touch", path, errno);
  }

  std::string root_;
  std::shared_ptr<GroupSync> group_sync_;
  std::string temp_path_;
  int fd_;
  bool temp_exists_ = true;
  bool finished_ = false;
  int64_t written_ = 0;         // bytes handed to the file
  int64_t writeback_from_ = 0;  // where the next sync_file_range starts
  BlobDigest digest_;
  std::string pending_;  // written bytes not yet handed to the file (< kWritePiece)
};

class LocalBlobReader final : public BlobReader {
 public:
  LocalBlobReader(std::string path, int fd, int64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~LocalBlobReader() override { ::close(fd_); }

  int64_t size() const override { return size_; }

  Result<std::string> ReadAt(int64_t offset, size_t max_bytes) override {
    if (offset < 0) {
      return InvalidArgumentError(StrCat({"negative read offset in ", path_}));
    }
    std::string out;
    if (offset >= size_) return out;
    size_t want =
        static_cast<size_t>(std::min<uint64_t>(max_bytes, static_cast<uint64_t>(size_ - offset)));
    out.resize(want);
    size_t got = 0;
    while (got < want) {
      ssize_t n = ::pread(fd_, out.data() + got, want - got, offset + static_cast<off_t>(got));
      if (n < 0) {
        if (errno == EINTR) continue;
        return IoError("read", path_, errno);
      }
      if (n == 0) {
        // Blobs are immutable: a file shorter than when it was opened has been damaged.
        return InternalError(StrCat({path_, " ends at ", std::to_string(offset + got),
                                     ", before its size ", std::to_string(size_)}));
      }
      got += static_cast<size_t>(n);
    }
    return out;
  }

 private:
  std::string path_;
  int fd_;
  int64_t size_;
};

}  // namespace

LocalBlobStore::LocalBlobStore(std::string root)
    : root_(std::move(root)), tmp_dir_(StrCat({root_, "/tmp"})) {}

Result<std::unique_ptr<BlobStore>> LocalBlobStore::Create(const StoreArgs& args) {
  if (args.data_dir.empty()) {
    return InvalidArgumentError("the local blob store needs a data directory");
  }
  struct stat st;
  if (::stat(args.data_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return FailedPreconditionError(
        StrCat({"data directory ", args.data_dir, " does not exist or is not a directory"}));
  }
  std::unique_ptr<LocalBlobStore> store(new LocalBlobStore(StrCat({args.data_dir, "/blobs"})));
  ARGUS_ASSIGN_OR_RETURN(bool made_root, MakeDir(store->root_));
  if (made_root) ARGUS_RETURN_IF_ERROR(FsyncDir(args.data_dir));
  ARGUS_ASSIGN_OR_RETURN(bool made_tmp, MakeDir(store->tmp_dir_));
  if (made_tmp) ARGUS_RETURN_IF_ERROR(FsyncDir(store->root_));
  int fd = ::open(store->root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("open directory", store->root_, errno);
  store->group_sync_ = std::make_shared<GroupSync>(fd, store->root_);
  return std::unique_ptr<BlobStore>(std::move(store));
}

std::string LocalBlobStore::BlobPath(std::string_view sha256) const {
  return StrCat({root_, "/", sha256.substr(0, 2), "/", sha256.substr(2, 2), "/", sha256});
}

Result<std::unique_ptr<BlobWriter>> LocalBlobStore::NewWriter() {
  uint8_t random[16];
  RandomBytes(random, sizeof(random));
  std::string path =
      StrCat({tmp_dir_, "/",
              HexEncode(std::string_view(reinterpret_cast<const char*>(random), sizeof(random))),
              kTempSuffix});
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("create", path, errno);
  return std::unique_ptr<BlobWriter>(new LocalBlobWriter(root_, group_sync_, std::move(path), fd));
}

Result<std::unique_ptr<BlobReader>> LocalBlobStore::Open(std::string_view sha256) {
  if (!IsBlobSha256(sha256)) return BadBlobSha256(sha256);
  std::string path = BlobPath(sha256);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFoundError(StrCat({"blob ", sha256, " does not exist"}));
    return IoError("open", path, errno);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    Status error = IoError("stat", path, errno);
    ::close(fd);
    return error;
  }
  return std::unique_ptr<BlobReader>(new LocalBlobReader(std::move(path), fd, st.st_size));
}

Result<bool> LocalBlobStore::Exists(std::string_view sha256) {
  if (!IsBlobSha256(sha256)) return BadBlobSha256(sha256);
  std::string path = BlobPath(sha256);
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT) return false;
  return IoError("stat", path, errno);
}

Status LocalBlobStore::Delete(std::string_view sha256) {
  if (!IsBlobSha256(sha256)) return BadBlobSha256(sha256);
  std::string path = BlobPath(sha256);
  // No directory fsync: a delete lost in a crash leaves an unreferenced blob that the collector
  // finds and deletes again.
  if (::unlink(path.c_str()) == 0 || errno == ENOENT) return OkStatus();
  return IoError("delete", path, errno);
}

Result<std::vector<BlobStore::Listed>> LocalBlobStore::List(std::string_view after, int limit) {
  if (limit < 1) {
    return InvalidArgumentError(
        StrCat({"blob list limit must be at least 1, not ", std::to_string(limit)}));
  }
  std::vector<Listed> out;
  // Every blob under <aa> (or <aa>/<bb>) sorts before `after` when the directory name sorts
  // before the same-length prefix of `after`: such directories are not read.
  std::string_view after_aa = after.substr(0, 2);
  std::string_view after_bb = after.size() > 2 ? after.substr(2, 2) : std::string_view();
  ARGUS_ASSIGN_OR_RETURN(std::vector<std::string> aas, ReadDirNames(root_));
  std::sort(aas.begin(), aas.end());
  for (const std::string& aa : aas) {
    if (!IsHexPair(aa) || aa < after_aa) continue;
    ARGUS_ASSIGN_OR_RETURN(std::vector<std::string> bbs, ReadDirNames(StrCat({root_, "/", aa})));
    std::sort(bbs.begin(), bbs.end());
    for (const std::string& bb : bbs) {
      if (!IsHexPair(bb) || (aa == after_aa && bb < after_bb)) continue;
      ARGUS_ASSIGN_OR_RETURN(std::vector<Listed> leaf,
                             ListLeafDir(aa, bb, after, static_cast<size_t>(limit) - out.size()));
      for (Listed& listed : leaf) out.push_back(std::move(listed));
      if (out.size() == static_cast<size_t>(limit)) return out;
    }
  }
  return out;
}

Result<std::vector<BlobStore::Listed>> LocalBlobStore::ListLeafDir(const std::string& aa,
                                                                   const std::string& bb,
                                                                   std::string_view after,
                                                                   size_t limit) const {
  std::string dir = StrCat({root_, "/", aa, "/", bb});
  ARGUS_ASSIGN_OR_RETURN(std::vector<std::string> names, ReadDirNames(dir));
  std::string prefix = StrCat({aa, bb});
  std::erase_if(names, [&](const std::string& name) {
    return !IsBlobSha256(name) || !name.starts_with(prefix) || name <= after;
  });
  std::sort(names.begin(), names.end());
  std::vector<Listed> out;
  for (const std::string& name : names) {
    if (out.size() == limit) break;
    std::string path = StrCat({dir, "/", name});
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;  // deleted since the directory was read
      return IoError("stat", path, errno);
    }
    if (!S_ISREG(st.st_mode)) continue;
    out.push_back(Listed{.sha256 = name, .size = st.st_size, .last_used = MtimeUs(st)});
  }
  return out;
}

Result<int64_t> LocalBlobStore::CleanTemporary(TimestampUs before) {
  ARGUS_ASSIGN_OR_RETURN(std::vector<std::string> names, ReadDirNames(tmp_dir_));
  int64_t removed = 0;
  for (const std::string& name : names) {
    if (!name.ends_with(kTempSuffix)) continue;
    std::string path = StrCat({tmp_dir_, "/", name});
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;  // committed or aborted since the directory was read
      return IoError("stat", path, errno);
    }
    if (!S_ISREG(st.st_mode) || MtimeUs(st) >= before) continue;
    if (::unlink(path.c_str()) != 0) {
      if (errno == ENOENT) continue;
      return IoError("delete", path, errno);
    }
    ++removed;
  }
  return removed;
}

}  // namespace argus::store::localfs
