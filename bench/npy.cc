#include "npy.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <utility>

#include "tflstm/model.h"

namespace tflstm::bench {

namespace {

// The value of `key` in the header's Python dict literal, e.g. 'descr': '<f4'.
std::string Field(const std::string& header, const std::string& key) {
  const size_t k = header.find("'" + key + "'");
  if (k == std::string::npos) return "";
  size_t v = header.find(':', k);
  if (v == std::string::npos) return "";
  ++v;
  while (v < header.size() && header[v] == ' ') ++v;
  const char open = header[v];
  const char close = open == '(' ? ')' : open == '\'' ? '\'' : ',';
  const size_t end = header.find(close, v + 1);
  return end == std::string::npos ? "" : header.substr(v, end - v + 1);
}

constexpr std::pair<DType, const char*> kDescr[] = {
    {DType::kFloat32, "'<f4'"}, {DType::kInt8, "'|i1'"},  {DType::kUInt8, "'|u1'"},
    {DType::kInt16, "'<i2'"},   {DType::kInt32, "'<i4'"}, {DType::kInt64, "'<i8'"},
};

DType TypeOf(const std::string& descr) {
  for (const auto& [type, text] : kDescr) {
    if (descr == text) return type;
  }
  return DType::kNone;
}

}  // namespace

Result<NpyArray> ReadNpy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status(ErrorCode::kInvalidArgument, "cannot open '" + path + "'");
  const std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto bad = [&](const std::string& why) { return Status(ErrorCode::kInvalidArgument, "'" + path + "': " + why); };
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0) return bad("not a .npy file");
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8;
    offset = 10;
  } else {
    if (bytes.size() < 12) return bad("truncated header");
    for (int i = 3; i >= 0; --i) header_len = header_len << 8 | static_cast<unsigned char>(bytes[8 + i]);
    offset = 12;
  }
  if (offset + header_len > bytes.size()) return bad("truncated header");
  const std::string header(bytes.data() + offset, header_len);
  NpyArray a;
  a.dtype = TypeOf(Field(header, "descr"));
  if (a.dtype == DType::kNone) return bad("unsupported dtype " + Field(header, "descr"));
  if (Field(header, "fortran_order").rfind("True", 0) == 0) return bad("Fortran order is not supported");
  std::string dims = Field(header, "shape");
  for (char& c : dims) {
    if (c == '(' || c == ')' || c == ',') c = ' ';
  }
  std::istringstream in(dims);
  size_t count = 1;
  for (int d; in >> d;) {
    a.shape.push_back(d);
    count *= static_cast<size_t>(d);
  }
  const size_t want = count * DTypeSize(a.dtype);
  if (bytes.size() - offset - header_len != want) {
    return bad("holds " + std::to_string(bytes.size() - offset - header_len) + " data bytes, its shape needs " +
               std::to_string(want));
  }
  a.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(offset + header_len), bytes.end());
  return a;
}

Status WriteNpy(const std::string& path, DType dtype, const int* shape, size_t rank, const void* data, size_t bytes) {
  const char* descr = nullptr;
  for (const auto& [type, text] : kDescr) {
    if (type == dtype) descr = text;
  }
  if (descr == nullptr) return Status(ErrorCode::kInvalidArgument, std::string("cannot write ") + DTypeName(dtype));
  std::string dims;
  for (size_t i = 0; i < rank; ++i) dims += std::to_string(shape[i]) + (rank == 1 || i + 1 < rank ? "," : "");
  std::string header = std::string("{'descr': ") + descr + ", 'fortran_order': False, 'shape': (" + dims + "), }";
  header.append(63 - (10 + header.size()) % 64, ' ');  // data starts 64-byte aligned
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  const char magic[] = {'\x93',
                        'N',
                        'U',
                        'M',
                        'P',
                        'Y',
                        1,
                        0,
                        static_cast<char>(header.size() & 0xff),
                        static_cast<char>(header.size() >> 8)};
  f.write(magic, sizeof magic);
  f.write(header.data(), static_cast<std::streamsize>(header.size()));
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
  if (!f) return Status(ErrorCode::kInvalidArgument, "cannot write '" + path + "'");
  return Status::Ok();
}

}  // namespace tflstm::bench
