#include "core/media_type.h"

#include <magic.h>

#include <algorithm>
#include <memory>

namespace argus {

namespace {

struct MagicCloser {
  void operator()(magic_t m) const {
    if (m != nullptr) magic_close(m);
  }
};
using Magic = std::unique_ptr<std::remove_pointer_t<magic_t>, MagicCloser>;

// One cookie per thread: libmagic handles are not thread-safe. Loaded once, from the system's
// compiled database (Debian's libmagic-mgc).
magic_t ThreadMagic() {
  thread_local Magic cookie = [] {
    Magic m(
        magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_ELF | MAGIC_ERROR));
    if (m && magic_load(m.get(), nullptr) != 0) m.reset();
    return m;
  }();
  return cookie.get();
}

using namespace std::string_view_literals;

bool HasAt(std::string_view head, size_t at, std::string_view signature) {
  return head.size() >= at + signature.size() && head.substr(at, signature.size()) == signature;
}

// Signatures that name their format outright, with the type libmagic gives it (checked against
// libmagic on the media test files: media_type_test.cc).
struct Signature {
  size_t at;
  std::string_view bytes;
  std::string_view media_type;
  size_t also_at = 0;  // a second part, for RIFF's form type
  std::string_view also = {};
};
constexpr Signature kSignatures[] = {
    {0, "\xFF\xD8\xFF"sv, "image/jpeg"},
    {0, "\x89PNG\r\n\x1A\n"sv, "image/png"},
    {0, "GIF87a"sv, "image/gif"},
    {0, "GIF89a"sv, "image/gif"},
    {0, "RIFF"sv, "image/webp", 8, "WEBP"sv},
    {0, "RIFF"sv, "audio/x-wav", 8, "WAVE"sv},
    {0, "RIFF"sv, "video/x-msvideo", 8, "AVI "sv},
    {0, "II*\0"sv, "image/tiff"},
    {0, "MM\0*"sv, "image/tiff"},
    {0, "%PDF-"sv, "application/pdf"},
    {0, "fLaC"sv, "audio/flac"},
    {0, "\x1F\x8B\x08"sv, "application/gzip"},
    {0,
     "\xFD"
     "7zXZ\0"sv,
     "application/x-xz"},
    {0, "\x28\xB5\x2F\xFD"sv, "application/zstd"},
    {0, "7z\xBC\xAF\x27\x1C"sv, "application/x-7z-compressed"},
    {0, "SQLite format 3\0"sv, "application/vnd.sqlite3"},
    {0, "wOFF"sv, "font/woff"},
    {0, "wOF2"sv, "font/woff2"},
    {0, "8BPS"sv, "image/vnd.adobe.photoshop"},
};

// Starts of binary formats libmagic tells apart by more than a fixed signature (the kind of ZIP,
// MP4, Ogg or RIFF file; fonts; icons; MPEG audio and video; executables; archives; Office).
constexpr std::string_view kAskLibmagic[] = {
    "PK\x03\x04"sv,
    "PK\x05\x06"sv,
    "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"sv,
    "OggS"sv,
    "ID3"sv,
    "\x1A\x45\xDF\xA3"sv,
    "RIFF"sv,
    "RIFX"sv,
    "FORM"sv,
    "BM"sv,
    "\0\0\x01\0"sv,
    "\0\0\x02\0"sv,
    "\0\x01\0\0"sv,
    "OTTO"sv,
    "true"sv,
    "ttcf"sv,
    "icns"sv,
    "\xDE\x12\x04\x95"sv,
    "\x95\x04\x12\xDE"sv,
    "MThd"sv,
    "\0\0\x01\xBA"sv,
    "\0\0\x01\xB3"sv,
    "\x7F"
    "ELF"sv,
    "MZ"sv,
    "\xCA\xFE\xBA\xBE"sv,
    "\xCF\xFA\xED\xFE"sv,
    "\0asm"sv,
    "Rar!"sv,
    "BZh"sv,
    "\x30\x82"sv,
    "\xD4\xC3\xB2\xA1"sv,
    "\xA1\xB2\xC3\xD4"sv,
    "\x0A\x0D\x0D\x0A"sv,
    "\0\0\0\x0CjP  "sv,
    "\xFF\x0A"sv,
    "\0\0\0\x0C"
    "JXL "sv,
    "MSCF"sv,
    "\xED\xAB\xEE\xDB"sv,
    "!<arch>"sv,
    "\x04\x22\x4D\x18"sv,
    "\x1F\x9D"sv,
    "\x1F\xA0"sv,
    "LZIP"sv,
    "qoif"sv,
    "DDS "sv,
    "\x76\x2F\x31\x01"sv,
    "#?RADIANCE"sv,
    "gimp xcf"sv,
    "FUJIFILMCCD-RAW"sv,
};

// WHATWG MIME Sniffing's binary data bytes: control characters text never has.
bool IsBinaryByte(unsigned char c) {
  return c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1A) || (c >= 0x1C && c <= 0x1F);
}

// Whether libmagic has something to say that the signature table cannot: text (plain, JSON,
// CSV, HTML, XML, SVG, scripts: told apart by their content), a text encoding's byte order mark,
// a format listed above, an ISO BMFF file ("ftyp" at 4: MP4, MOV, HEIC, AVIF, M4A), an MPEG
// audio frame (sync bits), an MPEG transport stream or a tar archive.
bool WorthAskingLibmagic(std::string_view head) {
  constexpr size_t kTextWindow = 4096;
  if (HasAt(head, 0, "\xEF\xBB\xBF"sv) || HasAt(head, 0, "\xFE\xFF"sv) ||
      HasAt(head, 0, "\xFF\xFE"sv)) {
    return true;
  }
  std::string_view window = head.substr(0, kTextWindow);
  if (std::none_of(window.begin(), window.end(),
                   [](char c) { return IsBinaryByte(static_cast<unsigned char>(c)); })) {
    return true;
  }
  for (std::string_view prefix : kAskLibmagic) {
    if (HasAt(head, 0, prefix)) return true;
  }
  if (HasAt(head, 4, "ftyp"sv) || HasAt(head, 257, "ustar"sv)) return true;
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(head[i]); };
  if (head.size() >= 2 && byte(0) == 0xFF && (byte(1) & 0xE0) == 0xE0) return true;
  if (head.size() > 188 && byte(0) == 0x47 && byte(188) == 0x47) return true;
  return false;
}

}  // namespace

std::string LibmagicMediaType(std::string_view head) {
  constexpr std::string_view kUnknown = "application/octet-stream";
  if (head.empty()) return std::string(kUnknown);
  magic_t m = ThreadMagic();
  if (m == nullptr) return std::string(kUnknown);
  const char* type = magic_buffer(m, head.data(), head.size());
  if (type == nullptr) return std::string(kUnknown);
  std::string out(type);
  // libmagic says "application/x-empty" or "inode/x-empty" for nothing useful.
  if (out.empty() || out.find('/') == std::string::npos) return std::string(kUnknown);
  return out;
}

std::string SniffMediaType(std::string_view head, const SniffOptions& options) {
  for (const Signature& s : kSignatures) {
    if (HasAt(head, s.at, s.bytes) && (s.also.empty() || HasAt(head, s.also_at, s.also))) {
      return std::string(s.media_type);
    }
  }
  if (head.empty() || (!options.libmagic_for_unknown_binary && !WorthAskingLibmagic(head))) {
    return "application/octet-stream";
  }
  return LibmagicMediaType(head);
}

bool MediaTypeMatches(std::string_view pattern, std::string_view media_type) {
  if (pattern == "*/*" || pattern == media_type) return true;
  if (pattern.size() >= 2 && pattern.substr(pattern.size() - 2) == "/*") {
    std::string_view family = pattern.substr(0, pattern.size() - 1);  // "image/"
    return media_type.substr(0, family.size()) == family;
  }
  return false;
}

}  // namespace argus
