#include "cli/upload.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "cli/objects.h"
#include "core/crypto.h"
#include "core/thread_name.h"

namespace argus::cli {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr size_t kReadChunk = 1 << 20;
constexpr int kAttempts = 3;  // per file, for transport failures and 503
constexpr auto kRefresh = std::chrono::milliseconds(200);

// One file to upload.
struct Job {
  std::string path;   // on disk
  std::string key;    // in the bucket
  int64_t size = 0;   // as seen by the walk (the hashing pass has the last word)
  std::string error;  // set by the walk: this one fails without being read
};

std::string ErrnoText() { return std::strerror(errno); }

// "12.3 MiB"
std::string HumanBytes(double n) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int unit = 0;
  while (n >= 1024 && unit < 5) {
    n /= 1024;
    ++unit;
  }
  char buf[32];
  if (unit == 0) {
    std::snprintf(buf, sizeof(buf), "%.0f %s", n, kUnits[unit]);
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f %s", n, kUnits[unit]);
  }
  return buf;
}

// "9s", "4m05s", "2h03m"
std::string HumanDuration(double seconds) {
  auto s = static_cast<int64_t>(seconds + 0.5);
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof(buf), "%llds", static_cast<long long>(s));
  } else if (s < 3600) {
    std::snprintf(buf, sizeof(buf), "%lldm%02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof(buf), "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60));
  }
  return buf;
}

// Collects the files under the paths given, in a stable (sorted) order.
class Walker {
 public:
  explicit Walker(std::string prefix) : prefix_(std::move(prefix)) {}

  void AddArgument(const std::string& arg) {
    struct stat st;
    if (::stat(arg.c_str(), &st) != 0) {
      Fail(arg, prefix_ + fs::path(arg).filename().string(), "cannot read it: " + ErrnoText());
      return;
    }
    if (S_ISDIR(st.st_mode)) {
      WalkDirectory(arg, "");
    } else if (S_ISREG(st.st_mode)) {
      Add(arg, prefix_ + fs::path(arg).filename().string(), st.st_size);
    } else {
      Fail(arg, "", "not a regular file or a directory");
    }
  }

  std::vector<Job> TakeJobs() { return std::move(jobs_); }

 private:
  // `rel`: the key of `dir` relative to the directory given ("" or "a/b/").
  void WalkDirectory(const fs::path& dir, const std::string& rel) {
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) {
      Fail(dir.string(), prefix_ + rel, "cannot list the directory: " + ec.message());
      return;
    }
    std::vector<fs::path> entries;
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) break;
      entries.push_back(it->path());
    }
    if (ec) {
      Fail(dir.string(), prefix_ + rel, "cannot list the directory: " + ec.message());
      return;
    }
    std::sort(entries.begin(), entries.end());
    for (const auto& entry : entries) {
      std::string name = entry.filename().string();
      std::string key = prefix_;
      key.append(rel).append(name);
      struct stat st;
      if (::lstat(entry.c_str(), &st) != 0) {
        Fail(entry.string(), key, "cannot read it: " + ErrnoText());
        continue;
      }
      if (S_ISLNK(st.st_mode)) {
        if (::stat(entry.c_str(), &st) != 0) {
          Fail(entry.string(), key, "a symbolic link to nothing: " + ErrnoText());
          continue;
        }
        if (S_ISDIR(st.st_mode)) continue;  // links to directories are not followed
      }
      if (S_ISDIR(st.st_mode)) {
        std::string sub = rel;
        sub.append(name).append("/");
        WalkDirectory(entry, sub);
      } else if (S_ISREG(st.st_mode)) {
        Add(entry.string(), key, st.st_size);
      } else {
        std::fprintf(stderr, "argus: skipping %s: not a regular file\n", entry.c_str());
      }
    }
  }

  void Add(std::string path, std::string key, int64_t size) {
    auto [it, fresh] = keys_.emplace(key, path);
    if (!fresh) {
      std::string why = "its key '";
      why.append(key).append("' also comes from ").append(it->second);
      Fail(std::move(path), std::move(key), std::move(why));
      return;
    }
    jobs_.push_back({std::move(path), std::move(key), size, ""});
  }

  void Fail(std::string path, std::string key, std::string error) {
    jobs_.push_back({std::move(path), std::move(key), 0, std::move(error)});
  }

  std::string prefix_;
  std::vector<Job> jobs_;
  std::map<std::string, std::string> keys_;  // key → the path it came from
};

// Progress shared by the workers; rendered by the main thread.
struct Progress {
  std::atomic<int64_t> total_bytes{0};
  std::atomic<int64_t> done_bytes{0};  // uploaded, skipped or given up on
  std::atomic<int64_t> sent_bytes{0};  // read for sending (the rate), retries included
  std::atomic<int64_t> uploaded_bytes{0};
  std::atomic<int64_t> hashing_bytes{0};  // read by hashing passes still running
  std::atomic<int> uploaded{0};
  std::atomic<int> skipped{0};
  std::atomic<int> failed{0};
};

// An upload body read from an open file with pread, counting into Progress.
class FileSource final : public BodySource {
 public:
  FileSource(int fd, int64_t size, const std::string& path, Progress* progress)
      : fd_(fd), size_(size), path_(path), progress_(progress) {}

  int64_t size() const override { return size_; }
  int64_t position() const { return position_; }

  Result<size_t> Read(char* out, size_t max) override {
    size_t want =
        static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(max), size_ - position_));
    if (want == 0) return size_t{0};
    ssize_t n;
    do {
      n = ::pread(fd_, out, want, position_);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return InternalError("cannot read " + path_ + ": " + ErrnoText());
    if (n == 0) return FailedPreconditionError(path_ + " got shorter while it was being uploaded");
    position_ += n;
    progress_->done_bytes += n;
    progress_->sent_bytes += n;
    return static_cast<size_t>(n);
  }

  Status Rewind() override {
    progress_->done_bytes -= position_;
    position_ = 0;
    return OkStatus();
  }

 private:
  int fd_;
  int64_t size_;
  const std::string& path_;
  Progress* progress_;
  int64_t position_ = 0;
};

// Closes a file descriptor on scope exit.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

class Uploader {
 public:
  Uploader(const ClientOptions& client, const UploadOptions& options, std::vector<Job> jobs,
           Json metadata, std::string metadata_header)
      : client_(client),
        options_(options),
        jobs_(std::move(jobs)),
        metadata_(std::move(metadata)),
        metadata_header_(std::move(metadata_header)),
        tty_(::isatty(STDERR_FILENO) == 1) {
    for (const auto& j : jobs_) progress_.total_bytes += j.size;
  }

  int Run() {
    start_ = Clock::now();
    {
      HttpClient http(client_);
      auto bucket = http.Call("GET", "/v1/buckets/" + UrlEncode(options_.bucket));
      if (!bucket.ok()) {
        // Nothing can go in: one error for all.
        std::string message(bucket.status().message());
        std::fprintf(stderr, "argus: %s\n", message.c_str());
        progress_.failed = static_cast<int>(jobs_.size());
        errors_.push_back(Json{{"error", message}});
        return Finish();
      }
    }
    int threads = std::max(1, std::min<int>(options_.parallel, static_cast<int>(jobs_.size())));
    std::vector<std::thread> workers;
    for (int i = 0; i < threads; ++i)
      workers.emplace_back([this] {
        SetThreadName("argus-upload");
        Work();
      });
    if (tty_) {
      std::unique_lock lock(mu_);
      auto next_draw = Clock::now();
      while (finished_workers_ < threads) {
        if (Clock::now() >= next_draw) {
          DrawLocked();
          next_draw = Clock::now() + kRefresh;
        }
        done_cv_.wait_until(lock, next_draw);
      }
      std::fputs("\r\033[K", stderr);
    }
    for (auto& t : workers) t.join();
    return Finish();
  }

 private:
  void Work() {
    HttpClient http(client_);
    while (true) {
      size_t i = next_.fetch_add(1);
      if (i >= jobs_.size()) break;
      const Job& job = jobs_[i];
      if (!job.error.empty()) {
        Failed(job, job.error, job.size);
        continue;
      }
      UploadOne(http, job);
    }
    std::lock_guard lock(mu_);
    ++finished_workers_;
    done_cv_.notify_all();
  }

  void UploadOne(HttpClient& http, const Job& job) {
    int fd = ::open(job.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      Failed(job, "cannot open it: " + ErrnoText(), job.size);
      return;
    }
    FdCloser closer(fd);
    // The hashing pass: the server checks the bytes against this, and it decides the skip.
    int64_t size = 0;
    std::string sha256;
    {
      Sha256Hasher hasher;
      std::string buf(kReadChunk, '\0');
      while (true) {
        ssize_t n = ::pread(fd, buf.data(), buf.size(), size);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          progress_.hashing_bytes -= size;
          Failed(job, "cannot read it: " + ErrnoText(), job.size);
          return;
        }
        if (n == 0) break;
        hasher.Update(std::string_view(buf.data(), static_cast<size_t>(n)));
        size += n;
        progress_.hashing_bytes += n;
      }
      progress_.hashing_bytes -= size;
      sha256 = HexEncode(hasher.Finish());
    }
    progress_.total_bytes += size - job.size;  // the file changed since the walk
    std::string record_path = ObjectPath(options_.bucket, "objects", job.key);
    auto existing = http.Call("GET", record_path);
    if (existing.ok()) {
      bool same_bytes = existing->is_object() && existing->value("sha256", "") == sha256;
      bool same_metadata = metadata_.is_null() ||
                           (existing->contains("metadata") && (*existing)["metadata"] == metadata_);
      if (same_bytes && same_metadata) {
        progress_.done_bytes += size;
        ++progress_.skipped;
        return;
      }
    } else if (existing.status().code() != StatusCode::kNotFound) {
      Failed(job, std::string(existing.status().message()), size);
      return;
    }
    std::vector<std::string> headers = {"X-Argus-Sha256: " + sha256};
    if (!metadata_header_.empty()) headers.push_back("X-Argus-Metadata: " + metadata_header_);
    FileSource source(fd, size, job.path, &progress_);
    Status status;
    for (int attempt = 1; attempt <= kAttempts; ++attempt) {
      if (attempt > 1) {
        std::this_thread::sleep_for(std::chrono::seconds(attempt - 1));
        status = source.Rewind();
        if (!status.ok()) break;
      }
      auto put = http.Send("PUT", record_path, source, headers);
      status = put.status();
      if (status.code() != StatusCode::kUnavailable) break;
    }
    if (!status.ok()) {
      Failed(job, std::string(status.message()), size - source.position());
      return;
    }
    progress_.done_bytes += size - source.position();
    progress_.uploaded_bytes += size;
    ++progress_.uploaded;
  }

  // Records and prints a failure; `remaining` bytes of it are counted as done.
  void Failed(const Job& job, const std::string& message, int64_t remaining) {
    progress_.done_bytes += remaining;
    ++progress_.failed;
    std::lock_guard lock(mu_);
    if (tty_) std::fputs("\r\033[K", stderr);
    std::string where = job.path;
    if (!job.key.empty()) where.append(" (key ").append(job.key).append(")");
    std::fprintf(stderr, "argus: failed: %s: %s\n", where.c_str(), message.c_str());
    errors_.push_back(Json{{"path", job.path}, {"key", job.key}, {"error", message}});
  }

  double Seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

  // Bytes per second over the last few seconds (since the start while that is shorter).
  double Rate() {
    auto now = Clock::now();
    int64_t sent = progress_.sent_bytes;
    samples_.emplace_back(now, sent);
    while (samples_.size() > 2 && now - samples_.front().first > std::chrono::seconds(5)) {
      samples_.pop_front();
    }
    double dt = std::chrono::duration<double>(now - samples_.front().first).count();
    rate_settled_ = dt >= 1;
    if (!rate_settled_) {
      double elapsed = Seconds();
      return elapsed > 0 ? static_cast<double>(sent) / elapsed : 0;
    }
    return static_cast<double>(sent - samples_.front().second) / dt;
  }

  void DrawLocked() {
    int64_t total = progress_.total_bytes, done = progress_.done_bytes;
    double rate = Rate();
    int finished = progress_.uploaded + progress_.skipped + progress_.failed;
    std::string line = "\r\033[K";
    line.append(HumanBytes(static_cast<double>(done))).append(" / ");
    line.append(HumanBytes(static_cast<double>(total))).append("  ");
    line.append(HumanBytes(rate)).append("/s  ETA ");
    double eta = rate > 0 && total >= done ? static_cast<double>(total - done) / rate : -1;
    line.append(rate_settled_ && eta >= 0 && eta < 100 * 3600 ? HumanDuration(eta)
                                                              : std::string("--"));
    line.append("  files ").append(std::to_string(finished)).append("/");
    line.append(std::to_string(jobs_.size())).append(" (");
    line.append(std::to_string(progress_.skipped)).append(" skipped, ");
    line.append(std::to_string(progress_.failed)).append(" failed)");
    // A large file is read once for its sha256 before it is sent: show that it is moving.
    if (int64_t hashing = progress_.hashing_bytes; hashing > 0) {
      line.append("  hashing ").append(HumanBytes(static_cast<double>(hashing)));
    }
    std::fputs(line.c_str(), stderr);
    std::fflush(stderr);
  }

  int Finish() {
    double seconds = Seconds();
    int64_t bytes = progress_.uploaded_bytes;
    if (options_.json) {
      Json summary = {{"uploaded", progress_.uploaded.load()},
                      {"skipped", progress_.skipped.load()},
                      {"failed", progress_.failed.load()},
                      {"bytes", bytes},
                      {"seconds", seconds},
                      {"errors", errors_}};
      std::cout << summary.dump(2) << "\n";
    } else {
      std::string line = "argus: uploaded ";
      line.append(std::to_string(progress_.uploaded)).append(", skipped ");
      line.append(std::to_string(progress_.skipped)).append(", failed ");
      line.append(std::to_string(progress_.failed)).append(" of ");
      line.append(std::to_string(jobs_.size())).append(" files; ");
      line.append(HumanBytes(static_cast<double>(bytes))).append(" in ");
      char secs[32];
      std::snprintf(secs, sizeof(secs), "%.1f s", seconds);
      line.append(secs);
      if (seconds > 0 && bytes > 0) {
        line.append(" (").append(HumanBytes(static_cast<double>(bytes) / seconds)).append("/s)");
      }
      std::fprintf(stderr, "%s\n", line.c_str());
    }
    return progress_.failed > 0 ? 1 : 0;
  }

  const ClientOptions& client_;
  const UploadOptions& options_;
  const std::vector<Job> jobs_;
  const Json metadata_;  // null when --metadata was not given
  const std::string metadata_header_;
  const bool tty_;

  Progress progress_;
  std::atomic<size_t> next_{0};
  Clock::time_point start_;
  std::deque<std::pair<Clock::time_point, int64_t>> samples_;  // main thread only
  bool rate_settled_ = false;  // the rate covers a second or more (main thread only)

  std::mutex mu_;  // guards what follows, and stderr output
  std::condition_variable done_cv_;
  int finished_workers_ = 0;
  Json errors_ = Json::array();
};

}  // namespace

int RunUpload(const ClientOptions& client, const UploadOptions& options) {
  Json metadata;  // null: not given
  std::string header;
  if (!options.metadata.empty()) {
    metadata = Json::parse(options.metadata, nullptr, /*allow_exceptions=*/false);
    if (metadata.is_discarded() || !metadata.is_object()) {
      std::fprintf(stderr, "argus: --metadata must be a JSON object\n");
      return 2;
    }
    header = metadata.dump();
    // Header values are ASCII: the server takes a value starting with '%' as percent-encoded.
    if (std::any_of(header.begin(), header.end(),
                    [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
      header = UrlEncode(header);
    }
  }
  if (options.parallel < 1) {
    std::fprintf(stderr, "argus: --parallel must be at least 1\n");
    return 2;
  }
  Walker walker(options.prefix);
  for (const auto& p : options.paths) walker.AddArgument(p);
  Uploader uploader(client, options, walker.TakeJobs(), std::move(metadata), std::move(header));
  return uploader.Run();
}

}  // namespace argus::cli
