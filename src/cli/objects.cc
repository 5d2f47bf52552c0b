#include "cli/objects.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "core/crypto.h"

namespace argus::cli {

namespace {

std::string ErrnoMessage(std::string_view what, const std::string& path) {
  std::string m(what);
  m.append(" ").append(path).append(": ").append(std::strerror(errno));
  return m;
}

// Writes everything or fails naming `path`.
Status WriteAll(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return InternalError(ErrnoMessage("cannot write", path));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

}  // namespace

std::string ObjectPath(std::string_view bucket, std::string_view what, std::string_view key) {
  std::string path = "/v1/buckets/";
  path.append(UrlEncode(bucket)).append("/").append(what).append("/").append(UrlEncodeKey(key));
  return path;
}

Result<Json> ListAll(HttpClient& http, const std::string& path) {
  Json items = Json::array();
  Json prefixes = Json::array();
  std::set<std::string> seen_prefixes;
  std::string cursor;
  const char* sep = path.find('?') == std::string::npos ? "?" : "&";
  while (true) {
    std::string page_path = path;
    page_path.append(sep).append("limit=1000");
    if (!cursor.empty()) page_path.append("&cursor=").append(UrlEncode(cursor));
    ARGUS_ASSIGN_OR_RETURN(Json page, http.Call("GET", page_path));
    if (!page.is_object() || !page.contains("items") || !page["items"].is_array()) {
      return InternalError("the server's list answer has no items");
    }
    for (auto& item : page["items"]) items.push_back(std::move(item));
    if (page.contains("common_prefixes") && page["common_prefixes"].is_array()) {
      for (const auto& p : page["common_prefixes"]) {
        if (p.is_string() && seen_prefixes.insert(p.get<std::string>()).second)
          prefixes.push_back(p);
      }
    }
    if (!page.contains("next_cursor") || !page["next_cursor"].is_string()) break;
    std::string next = page["next_cursor"].get<std::string>();
    if (next.empty() || next == cursor) break;
    cursor = std::move(next);
  }
  return Json{{"items", std::move(items)}, {"common_prefixes", std::move(prefixes)}};
}

Status Download(HttpClient& http, std::string_view bucket, std::string_view key,
                const std::string& out_file) {
  bool to_stdout = out_file.empty() || out_file == "-";
  // A special file (a FIFO, /dev/null) is written in place; a regular one goes to a temporary
  // name first.
  struct stat st;
  bool in_place = to_stdout || (::stat(out_file.c_str(), &st) == 0 && !S_ISREG(st.st_mode));
  std::string write_path = to_stdout ? "standard output" : out_file;
  if (!in_place) write_path += ".argus-part";
  int fd = to_stdout ? STDOUT_FILENO : -1;
  auto open_output = [&]() -> Status {
    if (fd >= 0) return OkStatus();
    fd = ::open(write_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) return InternalError(ErrnoMessage("cannot create", write_path));
    return OkStatus();
  };
  Sha256Hasher hasher;
  int64_t received = 0;
  // The output is opened on the first byte of a successful answer, so that a 404 creates
  // nothing.
  BodySink sink = [&](std::string_view bytes) -> Status {
    ARGUS_RETURN_IF_ERROR(open_output());
    hasher.Update(bytes);
    received += static_cast<int64_t>(bytes.size());
    return WriteAll(fd, bytes, write_path);
  };
  auto headers = http.Fetch(ObjectPath(bucket, "content", key), sink);
  Status result = headers.status();
  if (result.ok()) result = open_output();  // an empty object still makes a file
  if (result.ok()) {
    std::string etag;
    if (auto it = headers->find("etag"); it != headers->end()) etag = it->second;
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
      etag = etag.substr(1, etag.size() - 2);
    }
    std::string got = HexEncode(hasher.Finish());
    if (!etag.empty() && etag != got) {
      std::string m = "the bytes received for '";
      m.append(key).append("' (").append(std::to_string(received));
      m.append(" bytes) do not match its sha256 ").append(etag);
      result = Status(StatusCode::kDataLoss, m);
    }
  }
  if (fd >= 0 && !to_stdout) {
    if (result.ok() && ::fsync(fd) != 0 && errno != EINVAL) {
      result = InternalError(ErrnoMessage("cannot write", write_path));
    }
    if (::close(fd) != 0 && result.ok()) {
      result = InternalError(ErrnoMessage("cannot write", write_path));
    }
  }
  if (!in_place) {
    if (result.ok() && std::rename(write_path.c_str(), out_file.c_str()) != 0) {
      result = InternalError(ErrnoMessage("cannot rename into place", out_file));
    }
    if (!result.ok()) ::unlink(write_path.c_str());
  }
  return result;
}

}  // namespace argus::cli
