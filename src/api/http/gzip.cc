#include "api/http/gzip.h"

#include <zlib.h>

#include <cctype>

namespace argus::api {

bool GzipCompress(std::string_view data, std::string* out) {
  z_stream zs{};
  // windowBits 15 + 16 selects the gzip wrapper; level 1 favours latency over ratio.
  if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return false;
  out->resize(deflateBound(&zs, static_cast<uLong>(data.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out->data());
  zs.avail_out = static_cast<uInt>(out->size());
  int rc = deflate(&zs, Z_FINISH);
  out->resize(zs.total_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END;
}

bool AcceptsGzip(std::string_view v) {
  size_t i = 0;
  while (i < v.size()) {
    size_t comma = v.find(',', i);
    if (comma == std::string_view::npos) comma = v.size();
    std::string_view item = v.substr(i, comma - i);
    i = comma + 1;
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    std::string_view coding = item.substr(0, item.find(';'));
    while (!coding.empty() && coding.back() == ' ') coding.remove_suffix(1);
    if (coding != "gzip" && coding != "*") continue;
    size_t q = item.find("q=");
    if (q == std::string_view::npos) return true;
    std::string_view qv = item.substr(q + 2);
    // q=0, q=0.0, q=0.000 refuse; anything else admits.
    bool zero = !qv.empty() && qv[0] == '0';
    for (size_t k = 1; zero && k < qv.size(); ++k) {
      if (qv[k] != '.' && qv[k] != '0' && qv[k] != ' ') zero = false;
    }
    return !zero;
  }
  return false;
}

}  // namespace argus::api
