// lab.hpp — what the dango-sources HTTP tests share: a temp dir with the plugins linked in, a
// host started on it with a given `sources:` list, and small request helpers.
#pragma once

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <memory>
#include <plughost/testing.hpp>
#include <string>
#include <vector>

namespace dango_test {

namespace fs = std::filesystem;
using namespace plughost::testing;
using Headers = std::map<std::string, std::string>;

constexpr const char* kSecretKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
constexpr const char* kAdminEmail = "admin@example.com";
constexpr const char* kAdminPassword = "Correct-Horse-Battery-9";

struct LabSetup {
  LabSetup(std::string sources_yaml = "[]", bool accounts = false, std::string extra = "")
      : sources(std::move(sources_yaml)), with_accounts(accounts), extra_config(std::move(extra)) {}
  std::string sources;         // YAML flow sequence under plugins.dango-sources.config.sources
  bool with_accounts = false;  // auth on, signed in through the accounts plugin
  std::string extra_config;    // more keys under the plugin's config (flow mapping members)
  std::string storage_url;     // host storage; empty: a SQLite file in the lab's dir
  std::string plugin_entry;    // more lines of the plugins.dango-sources entry ("    k: v\n")
};

class Lab {
 public:
  explicit Lab(const LabSetup& setup) : dir_(make_temp_dir()) {
    std::string plugins = dir_ + "/plugins";
    fs::create_directories(plugins);
    fs::create_symlink(PLUGHOST_TEST_PLUGIN_DIR "/plughost_dango-sources.so",
                       plugins + "/plughost_dango-sources.so");
    fs::create_symlink(DANGO_TEST_SOURCE_DIR "/plughost_dango_test_source.so",
                       plugins + "/plughost_dango_test_source.so");
    std::string accounts;
    if (setup.with_accounts) {
      fs::create_symlink(PLUGHOST_TEST_PLUGIN_DIR "/plughost_accounts.so",
                         plugins + "/plughost_accounts.so");
      accounts = std::string("  accounts:\n    config:\n      secret_key: \"") + kSecretKey +
                 "\"\n      password_hashing: {opslimit: 1, memlimit_kib: 1024}\n"
                 "      bootstrap_admin: {email: " +
                 kAdminEmail + ", password: \"" + kAdminPassword +
                 "\", must_change_password: false}\n";
    }
    std::string yaml =
        "version: 1\n"
        "server: {listen: 127.0.0.1:0, threads: 4}\n"
        "log: {format: json, access: false}\n"
        "storage: {url: \"" +
        (setup.storage_url.empty() ? "sqlite://" + dir_ + "/host.db" : setup.storage_url) +
        "\", pool_size: 4}\n" + "tasks: {workers: 2, poll_interval_seconds: 0.02}\n" +
        "auth: {enabled: " + (setup.with_accounts ? "true" : "false") + "}\n" +
        "rate_limits: {enabled: false}\n" + "plugins_dir: " + plugins + "\nplugins:\n" + accounts +
        "  dango_test_source: {}\n"
        "  dango-sources:\n" +
        setup.plugin_entry + "    config: {data_dir: \"" + dir_ +
        "/data\", sources: " + setup.sources +
        (setup.extra_config.empty() ? "" : ", " + setup.extra_config) + "}\n";
    host_ = std::make_unique<Host>(yaml);
    ready_ = host_->wait_ready();
  }
  ~Lab() {
    host_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  bool ready() const { return ready_; }
  int port() const { return host_->port(); }
  Host& host() { return *host_; }
  const std::string& dir() const { return dir_; }
  // The default upload folder of `source`.
  std::string folder(const std::string& source) const { return dir_ + "/data/uploads/" + source; }
  std::string warehouse() const { return dir_ + "/data/warehouse.db"; }

  HttpResponse get(const std::string& target, const Headers& h = {}) {
    return http(port(), "GET", target, h);
  }
  HttpResponse post(const std::string& target, const std::string& body = "{}", Headers h = {}) {
    h["Content-Type"] = "application/json";
    return http(port(), "POST", target, h, body);
  }
  HttpResponse del(const std::string& target, const Headers& h = {}) {
    return http(port(), "DELETE", target, h);
  }

  // Starts a sync of `source` and waits until its latest run is no longer running; returns the
  // final status of that run ("success", "failed", …).
  std::string sync_and_wait(const std::string& source, const std::string& body = "{}") {
    auto r = post("/api/sources/" + source + "/sync", body);
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return "not started";
    int64_t run_id = json(r)["run_id"].GetInt64();
    std::string status;
    eventually(
        [&] {
          auto d = get("/api/sources/" + source + "/details");
          if (d.status != 200) return false;
          auto doc = json(d);
          for (const auto& run : doc["sync_history"].GetArray()) {
            if (run["id"].GetInt64() == run_id) status = run["status"].GetString();
          }
          return !status.empty() && status != "running";
        },
        30);
    return status;
  }

 private:
  std::string dir_;
  std::unique_ptr<Host> host_;
  bool ready_ = false;
};

inline void write_text(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  write_file(path, text);
}

// Sets a file's mtime `seconds` after its current one, so an edit is seen even within a second.
inline void bump_mtime(const std::string& path, int seconds) {
  fs::last_write_time(path, fs::last_write_time(path) + std::chrono::seconds(seconds));
}

// Rows of a query on a SQLite file, every value as text ("NULL" for NULL); empty on error.
inline std::vector<std::vector<std::string>> query(const std::string& db, const std::string& sql) {
  std::vector<std::vector<std::string>> rows;
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(h);
    return rows;
  }
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        const unsigned char* t = sqlite3_column_text(st, i);
        row.push_back(t ? reinterpret_cast<const char*>(t) : "NULL");
      }
      rows.push_back(std::move(row));
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return rows;
}

inline std::string scalar(const std::string& db, const std::string& sql) {
  auto rows = query(db, sql);
  return rows.empty() || rows[0].empty() ? "<none>" : rows[0][0];
}

// A user created through the accounts plugin's admin API, signed in; returns its cookie header.
inline std::string sign_in_as(Lab& lab, const std::string& admin_cookie, const std::string& email,
                              const std::string& role) {
  auto created = http(
      lab.port(), "POST", "/api/admin/users",
      {{"Cookie", admin_cookie}, {"X-Requested-With", "t"}, {"Content-Type", "application/json"}},
      "{\"email\":\"" + email + "\",\"role\":\"" + role + "\"}");
  EXPECT_EQ(created.status, 201) << created.body;
  std::string url = json(created)["invite_url"].GetString();
  std::string token = url.substr(url.rfind('/') + 1);
  const std::string password = "Another-Long-Passphrase-7";
  auto accepted =
      http(lab.port(), "POST", "/api/auth/accept-invite", {{"Content-Type", "application/json"}},
           "{\"token\":\"" + token + "\",\"password\":\"" + password + "\"}");
  EXPECT_EQ(accepted.status, 200) << accepted.body;
  auto login = http(lab.port(), "POST", "/api/auth/login", {{"Content-Type", "application/json"}},
                    "{\"email\":\"" + email + "\",\"password\":\"" + password + "\"}");
  EXPECT_EQ(login.status, 200) << login.body;
  std::string set_cookie = login.header("set-cookie");
  size_t at = set_cookie.find("dango_session=");
  return set_cookie.substr(at, set_cookie.find(';', at) - at);
}

// The bootstrap admin of LabSetup::with_accounts, signed in; returns its cookie header.
inline std::string admin_cookie(Lab& lab) {
  auto login = http(
      lab.port(), "POST", "/api/auth/login", {{"Content-Type", "application/json"}},
      std::string("{\"email\":\"") + kAdminEmail + "\",\"password\":\"" + kAdminPassword + "\"}");
  EXPECT_EQ(login.status, 200) << login.body;
  std::string set_cookie = login.header("set-cookie");
  size_t at = set_cookie.find("dango_session=");
  if (at == std::string::npos) return "";
  return set_cookie.substr(at, set_cookie.find(';', at) - at);
}

}  // namespace dango_test
