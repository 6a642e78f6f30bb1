// POST /api/sources/{name}/upload-csv: the SDK's multipart parser in process (well-formed and
// hostile bodies), then the endpoint over HTTP against the real host: files landing atomically,
// listed and synced, the csv_uploaded event, and every refusal leaving nothing on disk.
#include <gtest/gtest.h>

#include <plughost/multipart.hpp>

#include "lab.hpp"

namespace {

using namespace dango_test;
namespace mp = plughost::sdk::multipart;

constexpr const char* kBoundary = "----dango-test-7MA4YWxk";

struct FormPart {
  std::string name;
  std::string filename;  // empty: a plain field
  std::string data;
  bool is_file = true;
};

std::string form_body(const std::vector<FormPart>& parts, const std::string& boundary = kBoundary) {
  std::string body;
  for (const auto& p : parts) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + p.name + "\"";
    if (p.is_file) body += "; filename=\"" + p.filename + "\"\r\nContent-Type: text/csv";
    body += "\r\n\r\n" + p.data + "\r\n";
  }
  return body + "--" + boundary + "--\r\n";
}

FormPart file_part(const std::string& filename, const std::string& data) {
  return {"file", filename, data, true};
}
FormPart field(const std::string& name, const std::string& value) {
  return {name, "", value, false};
}

// ---- the parser ----

TEST(dango_multipart, ParsesPartsFieldsAndQuotedFilenames) {
  std::string body =
      "preamble to ignore\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"file\"; filename=\"we \\\"ird\\\" name.csv\"\r\n"
      "Content-Type: text/csv\r\n"
      "\r\n"
      "id\r\n1\r\n--Xy-not-a-delimiter\r\n"
      "\r\n--XyZ  \r\n"
      "content-disposition: FORM-DATA; name=trigger_sync\r\n"
      "\r\n"
      "true\r\n"
      "--XyZ--\r\n"
      "epilogue";
  std::vector<mp::Part> parts;
  std::string error;
  ASSERT_TRUE(mp::parse(body, "XyZ", parts, error)) << error;
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].name, "file");
  ASSERT_TRUE(parts[0].filename.has_value());
  EXPECT_EQ(*parts[0].filename, "we \"ird\" name.csv");
  EXPECT_EQ(parts[0].content_type, "text/csv");
  EXPECT_EQ(parts[0].data, "id\r\n1\r\n--Xy-not-a-delimiter\r\n");
  EXPECT_EQ(parts[1].name, "trigger_sync");
  EXPECT_FALSE(parts[1].filename.has_value());
  EXPECT_EQ(parts[1].data, "true");
  EXPECT_EQ(mp::find(parts, "trigger_sync"), &parts[1]);
  EXPECT_EQ(mp::find(parts, "absent"), nullptr);

  // An empty file part is a part with no bytes.
  ASSERT_TRUE(mp::parse(form_body({file_part("e.csv", "")}), kBoundary, parts, error)) << error;
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_TRUE(parts[0].data.empty());
}

TEST(dango_multipart, TakesTheBoundaryFromTheContentType) {
  EXPECT_EQ(mp::form_data_boundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(mp::form_data_boundary("Multipart/Form-Data;boundary=\"a b:c\""), "a b:c");
  EXPECT_EQ(mp::form_data_boundary("multipart/form-data; charset=utf-8; boundary=x1"), "x1");
  EXPECT_FALSE(mp::form_data_boundary("multipart/form-data"));
  EXPECT_FALSE(mp::form_data_boundary("multipart/mixed; boundary=abc"));
  EXPECT_FALSE(mp::form_data_boundary("application/json"));
  EXPECT_FALSE(mp::form_data_boundary("multipart/form-data; boundary="));
  EXPECT_FALSE(mp::form_data_boundary("multipart/form-data; boundary=\"ends \""));
  EXPECT_FALSE(mp::form_data_boundary("multipart/form-data; boundary=\"bad\\\"quote\""));
  EXPECT_FALSE(mp::form_data_boundary("multipart/form-data; boundary=" + std::string(71, 'a')));
  EXPECT_FALSE(mp::form_data_boundary("multipart/form-data; boundary=a; boundary=b"));
  EXPECT_FALSE(mp::form_data_boundary("multipart/form-data; boundary=\"open"));
}

TEST(dango_multipart, RefusesMalformedAndHostileBodies) {
  std::vector<mp::Part> parts;
  std::string error;
  auto refused = [&](const std::string& body, mp::Limits limits = {}) {
    error.clear();
    bool ok = mp::parse(body, "b", parts, error, limits);
    return !ok && !error.empty();
  };
  EXPECT_TRUE(refused(""));
  EXPECT_TRUE(refused("no delimiter at all"));
  // Bare LF line ends.
  EXPECT_TRUE(refused("--b\nContent-Disposition: form-data; name=\"f\"\n\nx\n--b--\n"));
  // No closing delimiter: truncated upload.
  EXPECT_TRUE(refused("--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nxyz"));
  // Headers never end, or are too long.
  EXPECT_TRUE(refused("--b\r\nContent-Disposition: form-data; name=\"f\"\r\nX: y"));
  EXPECT_TRUE(refused("--b\r\nContent-Disposition: form-data; name=\"f\"\r\nX-Long: " +
                      std::string(10000, 'a') + "\r\n\r\nx\r\n--b--"));
  // No Content-Disposition, not form-data, no name, two of them, folded or nameless lines.
  EXPECT_TRUE(refused("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--"));
  EXPECT_TRUE(refused("--b\r\n\r\nx\r\n--b--"));
  EXPECT_TRUE(refused("--b\r\nContent-Disposition: attachment; name=\"f\"\r\n\r\nx\r\n--b--"));
  EXPECT_TRUE(refused("--b\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nx\r\n--b--"));
  EXPECT_TRUE(refused(
      "--b\r\nContent-Disposition: form-data; name=a\r\nContent-Disposition: form-data; name=b\r\n"
      "\r\nx\r\n--b--"));
  EXPECT_TRUE(refused("--b\r\nContent-Disposition: form-data;\r\n name=\"f\"\r\n\r\nx\r\n--b--"));
  EXPECT_TRUE(refused("--b\r\n: value\r\n\r\nx\r\n--b--"));
  EXPECT_TRUE(
      refused("--b\r\nContent-Disposition: form-data; name=\"unterminated\r\n\r\nx\r\n--b--"));
  // Garbage after a delimiter.
  EXPECT_TRUE(refused("--bX\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--b--"));
  // More parts than allowed.
  std::string many;
  for (int i = 0; i < 5; ++i) many += "--b\r\nContent-Disposition: form-data; name=p\r\n\r\nx\r\n";
  mp::Limits three;
  three.max_parts = 3;
  EXPECT_TRUE(refused(many + "--b--", three));
  EXPECT_FALSE(refused(many + "--b--"));
  EXPECT_EQ(parts.size(), 5u);
}

// ---- the endpoint ----

class UploadApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    lab_ = new Lab(LabSetup(
        "[{name: up, type: csv}, {name: js, type: json}, {name: off, type: csv, enabled: false}]",
        false, "upload: {max_bytes: 2000}"));
    ASSERT_TRUE(lab_->ready()) << lab_->host().output();
  }
  static void TearDownTestSuite() {
    delete lab_;
    lab_ = nullptr;
  }
  static HttpResponse upload(
      const std::string& source, const std::string& body, const std::string& query = "",
      const std::string& content_type = std::string("multipart/form-data; boundary=") + kBoundary) {
    return http(lab_->port(), "POST", "/api/sources/" + source + "/upload-csv" + query,
                {{"Content-Type", content_type}}, body);
  }
  static void expect_error(const HttpResponse& r, int status, const char* code) {
    EXPECT_EQ(r.status, status) << r.body;
    auto d = json(r);
    ASSERT_TRUE(d.IsObject() && d.HasMember("error_code")) << r.body;
    EXPECT_STREQ(d["error_code"].GetString(), code) << r.body;
    EXPECT_TRUE(d["message"].IsString());
  }
  // Every entry of a folder, hidden ones included.
  static std::set<std::string> entries(const std::string& folder) {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(folder)) out.insert(e.path().filename().string());
    return out;
  }
  static Lab* lab_;
};
Lab* UploadApi::lab_ = nullptr;

TEST_F(UploadApi, StoresTheFileListsItSyncsItAndPublishesAnEvent) {
  Connection sse(lab_->port());
  ASSERT_TRUE(
      sse.send_raw("GET /api/events/stream?types=csv_uploaded HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string events;
  ASSERT_TRUE(sse.read_until(": connected", events)) << events;

  const std::string csv = "id,name\r\n1,apple\r\n2,pear\r\n";
  auto r = upload("up", form_body({field("trigger_sync", "true"), file_part("sales.csv", csv)}));
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = json(r);
  EXPECT_TRUE(d["success"].GetBool());
  EXPECT_STREQ(d["source_name"].GetString(), "up");
  EXPECT_STREQ(d["filename"].GetString(), "sales.csv");
  EXPECT_EQ(d["file_path"].GetString(), lab_->folder("up") + "/sales.csv");
  EXPECT_EQ(d["size_bytes"].GetInt64(), static_cast<int64_t>(csv.size()));
  EXPECT_STREQ(d["format"].GetString(), "csv");
  EXPECT_TRUE(d["sync_triggered"].GetBool());
  ASSERT_TRUE(d["run_id"].IsInt64());
  // The bytes exactly, and no temp file left beside them.
  EXPECT_EQ(read_file(lab_->folder("up") + "/sales.csv"), csv);
  EXPECT_EQ(entries(lab_->folder("up")), std::set<std::string>{"sales.csv"});

  ASSERT_TRUE(sse.read_until("event: csv_uploaded", events)) << events;
  ASSERT_TRUE(sse.read_until("\n\n", events)) << events;
  EXPECT_NE(events.find("\"source\":\"up\""), std::string::npos) << events;
  EXPECT_NE(events.find("\"file\":\"sales.csv\""), std::string::npos) << events;

  // The sync it triggered loads the rows; the listing shows the file on disk and loaded.
  int64_t run_id = d["run_id"].GetInt64();
  std::string status;
  ASSERT_TRUE(eventually(
      [&] {
        // The document must outlive the loop (a temporary would end before its first turn).
        auto details = json(lab_->get("/api/sources/up/details"));
        for (const auto& run : details["sync_history"].GetArray()) {
          if (run["id"].GetInt64() == run_id) status = run["status"].GetString();
        }
        return !status.empty() && status != "running";
      },
      30));
  EXPECT_EQ(status, "success");
  EXPECT_EQ(scalar(lab_->warehouse(), "SELECT group_concat(name) FROM raw_up__up"), "apple,pear");
  auto files = json(lab_->get("/api/sources/up/csv-files"));
  ASSERT_EQ(files["total_files"].GetInt64(), 1);
  EXPECT_STREQ(files["files"][0]["filename"].GetString(), "sales.csv");
  EXPECT_TRUE(files["files"][0]["on_disk"].GetBool());
  EXPECT_TRUE(files["files"][0]["in_database"].GetBool());
  EXPECT_EQ(files["files"][0]["row_count"].GetInt64(), 2);

  // The same name again: 409, the first file untouched.
  expect_error(upload("up", form_body({file_part("sales.csv", "id\n9\n")})), 409, "DANGO-F003");
  EXPECT_EQ(read_file(lab_->folder("up") + "/sales.csv"), csv);

  // Without trigger_sync nothing starts; the query parameter works as the field does.
  auto quiet = json(upload("up", form_body({file_part("more.csv", "id,name\n3,fig\n")})));
  EXPECT_FALSE(quiet["sync_triggered"].GetBool());
  EXPECT_TRUE(quiet["run_id"].IsNull());
  auto by_query =
      upload("up", form_body({file_part("last.csv", "id,name\n4,kiwi\n")}), "?trigger_sync=true");
  ASSERT_EQ(by_query.status, 200) << by_query.body;
  EXPECT_TRUE(json(by_query)["sync_triggered"].GetBool());
  expect_error(upload("up", form_body({field("trigger_sync", "maybe"), file_part("m.csv", "a\n")})),
               400, "DANGO-V001");
}

TEST_F(UploadApi, TakesJsonAndNdjsonForJsonSources) {
  auto r = upload("js", form_body({file_part("e.ndjson", "{\"id\": 1}\n{\"id\": 2}\n")}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_STREQ(json(r)["format"].GetString(), "ndjson");
  auto arr = upload("js", form_body({file_part("e.json", "\xEF\xBB\xBF [{\"id\": 3}]")}));
  ASSERT_EQ(arr.status, 200) << arr.body;
  EXPECT_STREQ(json(arr)["format"].GetString(), "json");
  ASSERT_EQ(lab_->sync_and_wait("js"), "success");
  EXPECT_EQ(scalar(lab_->warehouse(), "SELECT COUNT(*) FROM raw_js__js"), "3");
  // CSV text in a .json name is not JSON; a .csv is not a JSON source's file.
  expect_error(upload("js", form_body({file_part("x.json", "id,name\n1,a\n")})), 415, "DANGO-F005");
  expect_error(upload("js", form_body({file_part("x.csv", "id\n1\n")})), 400, "DANGO-F002");
}

TEST_F(UploadApi, RefusesBadUploadsAndLeavesNothingOnDisk) {
  const std::string folder = lab_->folder("up");
  const auto before = entries(folder);
  const std::string uploads = lab_->dir() + "/data/uploads";
  const auto uploads_before = entries(uploads);

  // Over upload.max_bytes (2000): 413 in Dango's envelope, before anything is written.
  auto big =
      upload("up", form_body({file_part("big.csv", "id\n" + std::string(3000, '1') + "\n")}));
  expect_error(big, 413, "DANGO-F004");
  // Parquet by name or by content, and binary junk: 415.
  expect_error(upload("up", form_body({file_part("t.parquet", "PAR1\x15\x04")})), 415,
               "DANGO-F005");
  expect_error(upload("up", form_body({file_part("t.csv", std::string("PAR1\0\0\x15", 7))})), 415,
               "DANGO-F005");
  expect_error(
      upload("up", form_body({file_part("junk.csv", std::string("id\n\x01\x02\0\xff", 7))})), 415,
      "DANGO-F005");
  // Names that would leave the folder, hide, or are not names at all: 400.
  for (const std::string& name : std::vector<std::string>{
           "../evil.csv", "../../evil.csv", "/tmp/evil.csv", "sub/evil.csv", "..\\evil.csv", "..",
           ".hidden.csv", ".", "evil\x01.csv", " spaced.csv", "bad\xff.csv"}) {
    expect_error(upload("up", form_body({file_part(name, "id\n1\n")})), 400, "DANGO-F002");
  }
  // Not a file the source type reads; a source type without uploads.
  expect_error(upload("up", form_body({file_part("notes.txt", "id\n1\n")})), 400, "DANGO-F002");
  // No file part, an empty filename, not multipart, malformed multipart.
  expect_error(upload("up", form_body({field("trigger_sync", "true")})), 400, "DANGO-F001");
  expect_error(upload("up", form_body({file_part("", "id\n1\n")})), 400, "DANGO-F001");
  expect_error(upload("up", form_body({field("file", "id\n1\n")})), 400, "DANGO-F001");
  expect_error(upload("up", "{\"file\": \"x\"}", "", "application/json"), 400, "DANGO-F001");
  expect_error(upload("up", "--" + std::string(kBoundary) + "\r\nbroken"), 400, "DANGO-F001");
  // A sync asked on a disabled source: refused before writing.
  expect_error(
      upload("off", form_body({field("trigger_sync", "1"), file_part("o.csv", "id\n1\n")})), 400,
      "DANGO-SYNC-002");
  EXPECT_FALSE(fs::exists(lab_->folder("off") + "/o.csv"));
  // Unknown source and bad source name as the other routes answer them.
  EXPECT_EQ(upload("nope", form_body({file_part("a.csv", "id\n1\n")})).status, 404);
  expect_error(upload("bad-name", form_body({file_part("a.csv", "id\n1\n")})), 400, "DANGO-V002");

  EXPECT_EQ(entries(folder), before);
  EXPECT_EQ(entries(uploads), uploads_before);
  EXPECT_FALSE(fs::exists(lab_->dir() + "/data/evil.csv"));
  EXPECT_FALSE(fs::exists("/tmp/evil.csv"));
}

// A file larger than the host's server.max_body_bytes (10 MiB by default): the route is a
// large-body route, so the host spools the body to disk and the plugin copies the file part from
// the memory-mapped spool. The bytes land exactly and load.
TEST(dango_upload_streamed, FileOverMaxBodyBytesIsSpooledAndLoads) {
  Lab lab(LabSetup("[{name: big, type: csv}]", false, "upload: {max_bytes: 67108864}"));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  std::string csv = "id,name,amount\n";
  int64_t rows = 0;
  while (csv.size() < 12u * 1024 * 1024) {
    ++rows;
    csv += std::to_string(rows) + ",customer_" + std::to_string(rows * 7919 % 100003) + "," +
           std::to_string(rows % 997) + ".25\n";
  }
  std::string body = form_body({field("trigger_sync", "false"), file_part("big.csv", csv)});
  ASSERT_GT(body.size(), 10u * 1024 * 1024);
  auto r = http(lab.port(), "POST", "/api/sources/big/upload-csv",
                {{"Content-Type", std::string("multipart/form-data; boundary=") + kBoundary}},
                body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json(r)["size_bytes"].GetInt64(), static_cast<int64_t>(csv.size()));
  EXPECT_TRUE(read_file(lab.folder("big") + "/big.csv") == csv) << "the file differs";
  ASSERT_EQ(lab.sync_and_wait("big"), "success");
  EXPECT_EQ(scalar(lab.warehouse(), "SELECT COUNT(*) FROM raw_big__big"), std::to_string(rows));
}

#ifdef DANGO_WITH_ACCOUNTS
TEST(dango_query_upload_permissions, QueryNeedsQueryExecuteAndUploadNeedsCsvUpload) {
  LabSetup setup;
  setup.sources = "[{name: perm, type: csv}]";
  setup.with_accounts = true;
  Lab lab(setup);
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  const std::string query = "{\"sql\": \"SELECT 1 AS one\"}";
  const std::string form = form_body({file_part("p.csv", "id\n1\n")});
  const std::string form_type = std::string("multipart/form-data; boundary=") + kBoundary;
  auto call = [&](const std::string& cookie, const std::string& path, const std::string& body,
                  const std::string& type) {
    Headers h = {{"Content-Type", type}, {"X-Requested-With", "t"}};
    if (!cookie.empty()) h["Cookie"] = cookie;
    return http(lab.port(), "POST", path, h, body);
  };
  for (const auto& [path, body, type] :
       {std::tuple{std::string("/api/query"), query, std::string("application/json")},
        std::tuple{std::string("/api/sources/perm/upload-csv"), form, form_type}}) {
    auto anonymous = call("", path, body, type);
    EXPECT_EQ(anonymous.status, 401) << path;
    EXPECT_STREQ(json(anonymous)["error_code"].GetString(), "DANGO-S001");
  }
  std::string admin = admin_cookie(lab);
  std::string viewer = sign_in_as(lab, admin, "viewer@example.com", "viewer");
  std::string editor = sign_in_as(lab, admin, "editor@example.com", "editor");

  auto denied = call(viewer, "/api/query", query, "application/json");
  EXPECT_EQ(denied.status, 403);
  EXPECT_STREQ(json(denied)["message"].GetString(), "Permission denied: query.execute");
  auto no_upload = call(viewer, "/api/sources/perm/upload-csv", form, form_type);
  EXPECT_EQ(no_upload.status, 403);
  EXPECT_STREQ(json(no_upload)["message"].GetString(), "Permission denied: csv.upload");
  EXPECT_FALSE(fs::exists(lab.folder("perm") + "/p.csv"));

  auto ran = call(editor, "/api/query", query, "application/json");
  ASSERT_EQ(ran.status, 200) << ran.body;
  EXPECT_EQ(json(ran)["rows"][0][0].GetInt64(), 1);
  auto uploaded = call(editor, "/api/sources/perm/upload-csv", form, form_type);
  EXPECT_EQ(uploaded.status, 200) << uploaded.body;
  EXPECT_TRUE(fs::exists(lab.folder("perm") + "/p.csv"));
}
#endif

}  // namespace
