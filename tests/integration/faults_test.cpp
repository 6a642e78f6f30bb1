// Faults the host must survive while serving: handlers that hang, slow clients, a full or
// read-only database. The real binary with the fixture_faults / fixture_store plugins.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace itest {
namespace {

std::string config(const std::string& server_extra, const std::string& plugins,
                   const std::string& storage = "sqlite://plughost.db") {
  return "version: 1\n"
         "auth: {enabled: false}\n"
         "rate_limits: {exempt_loopback: true}\n"
         "server:\n"
         "  listen: 127.0.0.1:0\n" +
         server_extra +
         "log:\n"
         "  format: json\n"
         "storage:\n"
         "  url: " +
         storage +
         "\n"
         "plugins_dir: " FIXTURE_PLUGIN_DIR
         "\n"
         "plugins:\n" +
         plugins;
}

void expect_envelope(const HttpResponse& r, int status, const std::string& code) {
  EXPECT_EQ(r.status, status) << r.body;
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  ASSERT_FALSE(d.HasParseError()) << r.body;
  ASSERT_TRUE(d.IsObject() && d.HasMember("error")) << r.body;
  EXPECT_EQ(std::string(d["error"]["code"].GetString()), code) << r.body;
  EXPECT_EQ(std::string(d["error"]["trace_id"].GetString()), r.header("x-trace-id"));
}

int64_t field(const HttpResponse& r, const char* name) {
  rapidjson::Document d = json(r);
  return d.IsObject() && d.HasMember(name) && d[name].IsInt64() ? d[name].GetInt64() : -1;
}

std::string text_field(const HttpResponse& r, const char* name) {
  rapidjson::Document d = json(r);
  return d.IsObject() && d.HasMember(name) && d[name].IsString() ? d[name].GetString() : "";
}

// A sample's value in Prometheus text; -1 when absent.
int64_t metric(const HttpResponse& r, const std::string& name) {
  size_t at = r.body.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::atoll(r.body.c_str() + at + name.size() + 2);
}

TEST(FaultSettings, CheckReportsEveryOutOfRangeBoundWithItsPath) {
  std::string dir = make_temp_dir();
  write_file(dir + "/plughost.yaml",
             config("  request_timeout_seconds: -1\n  header_timeout_seconds: 0\n"
                    "  body_timeout_seconds: x\n  max_connections: 0\n",
                    "  fixture_faults: {}\n"));
  CommandResult r = run_plughost({"check", "--config", dir + "/plughost.yaml"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  std::string all = r.out + r.err;
  for (const char* key : {"server.request_timeout_seconds", "server.header_timeout_seconds",
                          "server.body_timeout_seconds", "server.max_connections"}) {
    EXPECT_NE(all.find(key), std::string::npos) << key << " not reported:\n" << all;
  }
  EXPECT_NE(all.find("check: 4 errors"), std::string::npos) << all;
}

// ---- a handler that hangs ---------------------------------------------------------------------

TEST(RequestTimeout, HungHandlerIsAnswered504AndTheWorkerServesTheNextRequests) {
  // One reactor thread: if the hung handler kept it, nothing else could be answered.
  Host host(config("  threads: 1\n  request_timeout_seconds: 0.5\n", "  fixture_faults: {}\n"));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  int port = host.port();
  {
    Connection c(port);
    HttpResponse r = c.request("POST", "/api/faults/block/t1?q=v", {{"X-Probe", "p"}}, "payload");
    expect_envelope(r, 504, "TIMEOUT");
  }  // the client goes away: Pistache forgets the request while the handler still runs
  EXPECT_TRUE(host.wait_for_output("exceeded server.request_timeout_seconds"));
  EXPECT_EQ(http(port, "GET", "/healthz").status, 200);
  EXPECT_EQ(http(port, "GET", "/api/faults/quick").status, 200);
  HttpResponse state = http(port, "GET", "/api/faults/state");
  EXPECT_EQ(field(state, "blocked"), 1) << state.body;  // still hung, on a handler thread
  // Released, the late handler reads its request and writes a large answer that goes nowhere.
  EXPECT_EQ(http(port, "POST", "/api/faults/release").status, 200);
  EXPECT_TRUE(eventually(
      [&] { return field(http(port, "GET", "/api/faults/state"), "finished") == 1; }, 30));
  EXPECT_TRUE(host.wait_for_output("dropped the late result of a handler that timed out"));
  EXPECT_EQ(http(port, "GET", "/api/faults/quick").status, 200);
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait_exit(), 0) << host.output();
}

TEST(RequestTimeout, SeveralHungHandlersEachGet504AndShutdownWaitsForThem) {
  Host host(config("  threads: 2\n  request_timeout_seconds: 0.3\n", "  fixture_faults: {}\n"));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  int port = host.port();
  for (int i = 0; i < 3; ++i) {
    expect_envelope(http(port, "POST", "/api/faults/block/n" + std::to_string(i)), 504, "TIMEOUT");
  }
  EXPECT_EQ(field(http(port, "GET", "/api/faults/state"), "blocked"), 3);
  EXPECT_EQ(http(port, "GET", "/api/faults/quick").status, 200);
  EXPECT_EQ(http(port, "POST", "/api/faults/release").status, 200);
  EXPECT_TRUE(eventually(
      [&] { return field(http(port, "GET", "/api/faults/state"), "finished") == 3; }, 30));
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait_exit(), 0) << host.output();
}

// ---- slow clients ------------------------------------------------------------------------------

// A client that speaks as slowly as it likes: raw bytes, and a bounded wait for the server to
// close the connection.
class SlowClient {
 public:
  explicit SlowClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~SlowClient() { ::close(fd_); }
  SlowClient(const SlowClient&) = delete;
  SlowClient& operator=(const SlowClient&) = delete;

  bool connected() const { return connected_; }
  bool send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // Everything the server sent before closing, once it has closed within `ms`; nullopt while
  // the connection is still open.
  std::optional<std::string> closed_within(int ms) {
    pollfd p{fd_, POLLIN, 0};
    while (::poll(&p, 1, ms) > 0) {
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return received_;
      received_.append(buf, static_cast<size_t>(n));
    }
    return std::nullopt;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string received_;
};

TEST(SlowClients, TrickledHeadersAreCutOffAfterTheHeaderTimeout) {
  Host host(config("  threads: 1\n  header_timeout_seconds: 1\n", "  fixture_faults: {}\n"));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  SlowClient slow(host.port());
  ASSERT_TRUE(slow.connected());
  auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(slow.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  std::optional<std::string> answer;
  // One more header line every 100 ms (the attack's pace), never the blank line that ends them.
  while (!answer && std::chrono::steady_clock::now() - started < std::chrono::seconds(20)) {
    slow.send("X-Slow: 1\r\n");
    answer = slow.closed_within(100);
  }
  ASSERT_TRUE(answer) << "a client trickling headers was never cut off";
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  EXPECT_NE(answer->find("408"), std::string::npos) << *answer;
  EXPECT_EQ(http(host.port(), "GET", "/healthz").status, 200);
}

TEST(SlowClients, TwoHundredSlowConnectionsDoNotStarveNormalClients) {
  Host host(config("  threads: 2\n  header_timeout_seconds: 60\n", "  fixture_faults: {}\n"));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  std::vector<std::unique_ptr<SlowClient>> slow;
  for (int i = 0; i < 200; ++i) {
    slow.push_back(std::make_unique<SlowClient>(host.port()));
    ASSERT_TRUE(slow.back()->connected());
    ASSERT_TRUE(slow.back()->send("POST /api/faults/blobs HTTP/1.1\r\nHost: x\r\nX-Part: "));
  }
  EXPECT_TRUE(eventually(
      [&] {  // 200 slow ones plus the scrape itself
        return metric(http(host.port(), "GET", "/metrics"), "plughost_http_connections_open") >=
               201;
      },
      30));
  for (int i = 0; i < 20; ++i) {
    HttpResponse r = http(host.port(), "GET", "/api/faults/quick");
    ASSERT_EQ(r.status, 200) << r.body;
  }
  for (auto& c : slow) EXPECT_FALSE(c->closed_within(0)) << "a slow client was dropped early";
}

TEST(SlowClients, ConnectionsOverTheBoundAreRefusedWith503AndServedAgainOnceClosed) {
  Host host(config("  threads: 1\n  max_connections: 20\n", "  fixture_faults: {}\n"));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  std::vector<std::unique_ptr<SlowClient>> held;
  for (int i = 0; i < 20; ++i) {
    held.push_back(std::make_unique<SlowClient>(host.port()));
    ASSERT_TRUE(held.back()->connected());
  }
  HttpResponse refused;
  EXPECT_TRUE(eventually(
      [&] {
        refused = http(host.port(), "GET", "/healthz");
        return refused.status == 503;
      },
      30));
  expect_envelope(refused, 503, "UNAVAILABLE");
  EXPECT_EQ(refused.header("connection"), "close");
  held.clear();
  EXPECT_TRUE(eventually([&] { return http(host.port(), "GET", "/healthz").status == 200; }, 30));
  EXPECT_GE(metric(http(host.port(), "GET", "/metrics"), "plughost_http_connections_refused_total"),
            1);
}

// ---- hostile request bodies
// ----------------------------------------------------------------------

// Found by fuzzing JSON bodies through the ABI: RapidJSON recursed once per '[' and a few megabytes
// of them overflowed the handler thread's stack, killing the host. The SDK now bounds the nesting.
TEST(HostileBodies, DeeplyNestedJsonIs400AndTheHostKeepsServing) {
  Host host(config("  max_body_bytes: 16777216\n", "  fixture_good: {config: {greeting: hi}}\n"));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  for (std::string body : {std::string(8 * 1024 * 1024, '['), "{\"a\":" + std::string(300, '{')}) {
    HttpResponse r =
        http(host.port(), "POST", "/api/good/echo", {{"Content-Type", "application/json"}}, body);
    expect_envelope(r, 400, "INVALID_JSON");
    EXPECT_NE(r.body.find("nested deeper than 256 levels"), std::string::npos) << r.body;
  }
  EXPECT_EQ(http(host.port(), "GET", "/healthz").status, 200);
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait_exit(), 0) << host.output();
}

// ---- storage that cannot take more -------------------------------------------------------------

// Starts a host whose files may not grow past `max_file_bytes` (RLIMIT_FSIZE, set for the child
// only: the limit is inherited at fork and restored here at once). Unprivileged, unlike a tiny
// filesystem: SQLite's write fails (EFBIG) exactly as it would on a full disk.
std::unique_ptr<Host> start_with_file_limit(const std::string& yaml, rlim_t max_file_bytes) {
  rlimit before{};
  getrlimit(RLIMIT_FSIZE, &before);
  rlimit capped{max_file_bytes, before.rlim_max};
  setrlimit(RLIMIT_FSIZE, &capped);
  auto host = std::make_unique<Host>(yaml);
  setrlimit(RLIMIT_FSIZE, &before);
  return host;
}

TEST(StorageFaults, FullStorageAnswers503KeepsServingReadsAndLosesNothingAcknowledged) {
  std::string dir = make_temp_dir();
  std::string yaml = config("  threads: 2\n  max_body_bytes: 1048576\n", "  fixture_faults: {}\n",
                            "sqlite://" + dir + "/faults.db");
  std::vector<int64_t> acknowledged;
  {
    auto host = start_with_file_limit(yaml, 2 * 1024 * 1024);
    ASSERT_TRUE(host->wait_ready()) << host->output();
    int port = host->port();
    std::string blob(64 * 1024, 'b');
    HttpResponse refused;
    for (int i = 0; i < 200 && refused.status == 0; ++i) {
      HttpResponse r = http(port, "POST", "/api/faults/blobs", {}, blob);
      if (r.status == 201) {
        acknowledged.push_back(field(r, "id"));
      } else {
        refused = r;
      }
    }
    ASSERT_GT(acknowledged.size(), 0u);
    expect_envelope(refused, 503, "UNAVAILABLE");
    EXPECT_EQ(refused.header("retry-after"), "5");
    EXPECT_NE(refused.body.find("storage is unavailable"), std::string::npos) << refused.body;
    EXPECT_TRUE(host->wait_for_output("storage unavailable"));
    // Still full: writes keep failing cleanly, reads and the rest of the host keep working.
    expect_envelope(http(port, "POST", "/api/faults/blobs", {}, blob), 503, "UNAVAILABLE");
    HttpResponse count = http(port, "GET", "/api/faults/blobs");
    ASSERT_EQ(count.status, 200) << count.body;
    EXPECT_EQ(field(count, "count"), static_cast<int64_t>(acknowledged.size()));
    EXPECT_EQ(field(count, "max_id"), acknowledged.back());
    EXPECT_EQ(text_field(http(port, "GET", "/api/faults/integrity"), "integrity"), "ok");
    EXPECT_EQ(http(port, "GET", "/healthz").status, 200);
    host->signal(SIGTERM);
    EXPECT_EQ(host->wait_exit(), 0) << host->output();
  }
  // Restarted with room again: every acknowledged row is there, intact, and writes work.
  Host host(yaml);
  ASSERT_TRUE(host.wait_ready()) << host.output();
  HttpResponse count = http(host.port(), "GET", "/api/faults/blobs");
  EXPECT_EQ(field(count, "count"), static_cast<int64_t>(acknowledged.size())) << count.body;
  EXPECT_EQ(field(count, "bytes"), static_cast<int64_t>(acknowledged.size()) * 64 * 1024);
  EXPECT_EQ(text_field(http(host.port(), "GET", "/api/faults/integrity"), "integrity"), "ok");
  EXPECT_EQ(http(host.port(), "POST", "/api/faults/blobs", {}, "more").status, 201);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// Runs the host in a private mount namespace where `path` (a folder or a file) is bind-mounted
// read-only: the kernel
// answers writes there with EROFS whatever the uid, so this also holds when the tests run as root
// (permission bits do not stop root). Not root: a user namespace too (`--map-root-user`, allowed
// unprivileged on Debian 12).
std::vector<std::string> read_only_launcher(const std::string& path) {
  std::vector<std::string> words = {"unshare"};
  if (geteuid() != 0) words.push_back("--map-root-user");
  words.insert(words.end(),
               {"--mount", "--propagation", "private", "sh", "-c",
                "mount --bind -o ro \"$1\" \"$1\" && shift && exec \"$@\"", "sh", path});
  return words;
}

TEST(StorageFaults, ReadOnlyStorageRefusesToStartNamingTheFileAndCorruptsNothing) {
  std::string dir = make_temp_dir();
  std::string db = dir + "/readonly.db";
  std::string yaml = config("", "  fixture_faults: {}\n", "sqlite://" + db);
  std::vector<int64_t> acknowledged;
  {
    Host host(yaml);
    ASSERT_TRUE(host.wait_ready()) << host.output();
    for (int i = 0; i < 5; ++i) {
      HttpResponse r = http(host.port(), "POST", "/api/faults/blobs", {}, "row");
      ASSERT_EQ(r.status, 201) << r.body;
      acknowledged.push_back(field(r, "id"));
    }
    host.signal(SIGTERM);
    ASSERT_EQ(host.wait_exit(), 0) << host.output();
  }
  const std::string before = read_file(db);
  ASSERT_FALSE(before.empty());
  {
    // The mount is the child's alone: this process still sees a writable folder.
    Host host(yaml, read_only_launcher(dir));
    EXPECT_FALSE(host.wait_ready()) << host.output();
    EXPECT_EQ(host.wait_exit(), 1) << host.output();
    std::string out = host.output();
    EXPECT_NE(out.find("cannot open storage sqlite://" + db + ": the folder " + dir +
                       " is read-only (Read-only file system)"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("readonly.db-wal"), std::string::npos) << out;
    EXPECT_NE(out.find("\"msg\":\"storage unavailable\""), std::string::npos) << out;
  }
  {
    // Only the file read-only, its folder writable: SQLite would open it read-only and fail on
    // the first write; the host refuses up front instead.
    Host host(yaml, read_only_launcher(db));
    EXPECT_FALSE(host.wait_ready()) << host.output();
    EXPECT_EQ(host.wait_exit(), 1) << host.output();
    EXPECT_NE(host.output().find("cannot open storage sqlite://" + db + ": the database file " +
                                 db + " is read-only (Read-only file system)"),
              std::string::npos)
        << host.output();
  }
  EXPECT_EQ(read_file(db), before);
  EXPECT_FALSE(std::filesystem::exists(db + "-wal"));
  // Writable again: everything acknowledged is there, intact, and writes work.
  Host host(yaml);
  ASSERT_TRUE(host.wait_ready()) << host.output();
  HttpResponse count = http(host.port(), "GET", "/api/faults/blobs");
  EXPECT_EQ(field(count, "count"), static_cast<int64_t>(acknowledged.size())) << count.body;
  EXPECT_EQ(field(count, "max_id"), acknowledged.back());
  EXPECT_EQ(text_field(http(host.port(), "GET", "/api/faults/integrity"), "integrity"), "ok");
  EXPECT_EQ(http(host.port(), "POST", "/api/faults/blobs", {}, "more").status, 201);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// ---- storage the kernel turns read-only while the host runs ----------------------------------

// Runs `command` through sh; its exit status, and stdout and stderr together.
CommandResult shell(const std::string& command) {
  CommandResult r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  return r;
}

// An ext4 file system in a 16 MiB image file, mounted through a loop device with
// `errors=remount-ro` in the host's own mount namespace (the mount and the loop device go away
// with the host: `mount -o loop` sets autoclear). trigger_error() makes the kernel record a file
// system error (ext4's /sys/fs/ext4/<dev>/trigger_fs_error, the same ext4_error() path as a
// corrupt block or a failed journal write), and errors=remount-ro does what it does on servers:
// the journal is aborted and every later write fails with EROFS, while SQLite keeps the file
// open. Needs root (a loop device and an ext4 mount), as CI's container runs it.
class ExtImage {
 public:
  ExtImage() : dir_(make_temp_dir()) {
    image_ = dir_ + "/storage.img";
    mount_ = dir_ + "/mnt";
    std::filesystem::create_directory(mount_);
    if (geteuid() != 0) {
      problem_ = "needs root: it mounts an ext4 image through a loop device";
      return;
    }
    CommandResult mkfs = shell("truncate -s 16M " + image_ + " && mkfs.ext4 -q -F " + image_);
    if (mkfs.exit_code != 0) problem_ = "mkfs.ext4 (e2fsprogs) failed: " + mkfs.out;
  }
  ~ExtImage() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  ExtImage(const ExtImage&) = delete;
  ExtImage& operator=(const ExtImage&) = delete;

  // Empty when the image could be made; else what is missing.
  const std::string& problem() const { return problem_; }
  const std::string& mount_point() const { return mount_; }
  std::string pid_file() const { return dir_ + "/host.pid"; }

  // Runs the host with the image mounted at mount_point(), in a private mount namespace; the
  // launcher notes the host's pid (sh execs the host in its place).
  std::vector<std::string> launcher() const {
    return {"unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            "mount -o loop,errors=remount-ro \"$1\" \"$2\" && echo $$ > \"$3\" && shift 3 && "
            "exec \"$@\"",
            "sh",
            image_,
            mount_,
            pid_file()};
  }

  // The loop device (loopN) the image is attached to, or "" when it is attached to none.
  std::string loop_device() const {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/sys/block", ec)) {
      std::string name = entry.path().filename().string();
      if (name.rfind("loop", 0) != 0) continue;
      std::string backing = read_file(entry.path().string() + "/loop/backing_file");
      while (!backing.empty() && backing.back() == '\n') backing.pop_back();
      if (backing == image_) return name;
    }
    return "";
  }

  // Makes the kernel record an error on the mounted file system. Empty on success, else why not.
  std::string trigger_error() const {
    std::string device = loop_device();
    if (device.empty()) return "the image is not attached to a loop device";
    std::string path = "/sys/fs/ext4/" + device + "/trigger_fs_error";
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) return "cannot open " + path + " (" + std::strerror(errno) + "): is /sys read-only?";
    bool written = std::fputs("1", f) >= 0;
    bool closed = std::fclose(f) == 0;
    return written && closed ? "" : "writing " + path + " failed: " + std::strerror(errno);
  }

  // Flushes what the host's file system holds in memory to the image, as the kernel does by
  // itself within seconds (syncfs on the mount, reached through the host's /proc root).
  bool write_back() const {
    std::string pid = read_file(pid_file());
    while (!pid.empty() && pid.back() == '\n') pid.pop_back();
    std::string path = "/proc/" + pid + "/root" + mount_;
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return false;
    bool ok = ::syncfs(fd) == 0;
    ::close(fd);
    return ok;
  }

  // Once the host has exited: what an operator does before using the file system again (e2fsck
  // replays the journal and repairs), then `sql` by the sqlite3 shell on the mounted image.
  // "e2fsck=<status>" on the first line, the sqlite3 output after it.
  CommandResult check_and_query(const std::string& db_file, const std::string& sql) const {
    return shell(
        "unshare --mount --propagation private sh -c 'e2fsck -fy \"$1\" >/dev/null 2>&1; "
        "echo e2fsck=$?; mount -o loop \"$1\" \"$2\" && sqlite3 \"$2/$3\" \"$4\"' sh " +
        image_ + " " + mount_ + " " + db_file + " \"" + sql + "\"");
  }

 private:
  std::string dir_;
  std::string image_;
  std::string mount_;
  std::string problem_;
};

std::set<int64_t> id_set(const std::string& comma_separated) {
  std::set<int64_t> ids;
  for (size_t at = 0; at < comma_separated.size();) {
    ids.insert(std::atoll(comma_separated.c_str() + at));
    size_t comma = comma_separated.find(',', at);
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return ids;
}

// What the running host does once its storage is read-only: every write 503 `read_only`,
// logged; reads, integrity and health unchanged; `acknowledged` all readable; a clean stop.
void expect_read_only_service(Host& host, const std::vector<int64_t>& acknowledged) {
  int port = host.port();
  for (int i = 0; i < 3; ++i) {
    HttpResponse refused = http(port, "POST", "/api/faults/blobs", {}, "after");
    expect_envelope(refused, 503, "UNAVAILABLE");
    EXPECT_EQ(refused.header("retry-after"), "5");
    // SQLite reports the aborted journal as a disk I/O error, with EROFS as the system errno
    // when the failing call was a write: either way a retryable storage fault, never a 500.
    EXPECT_TRUE(refused.body.find("storage is unavailable (read_only)") != std::string::npos ||
                refused.body.find("storage is unavailable (io_error)") != std::string::npos)
        << refused.body;
  }
  EXPECT_TRUE(eventually(
      [&] {
        return host.output().find("plugin handler failed: storage unavailable") !=
               std::string::npos;
      },
      10))
      << host.output();
  HttpResponse count = http(port, "GET", "/api/faults/blobs");
  ASSERT_EQ(count.status, 200) << count.body;
  EXPECT_EQ(field(count, "count"), static_cast<int64_t>(acknowledged.size())) << count.body;
  EXPECT_EQ(field(count, "max_id"), acknowledged.back());
  EXPECT_EQ(text_field(http(port, "GET", "/api/faults/integrity"), "integrity"), "ok");
  EXPECT_EQ(http(port, "GET", "/healthz").status, 200);
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait_exit(), 0) << host.output();
}

std::vector<int64_t> write_rows(int port, int n) {
  std::vector<int64_t> ids;
  for (int i = 0; i < n; ++i) {
    HttpResponse r = http(port, "POST", "/api/faults/blobs", {}, "row " + std::to_string(i));
    EXPECT_EQ(r.status, 201) << r.body;
    ids.push_back(field(r, "id"));
  }
  return ids;
}

TEST(StorageFaults, FileSystemRemountedReadOnlyWhileServingAnswers503AndKeepsEveryFlushedCommit) {
  ExtImage image;
  ASSERT_EQ(image.problem(), "");
  std::string yaml = config("", "  fixture_faults: {}\n",
                            "sqlite://" + image.mount_point() + "/plughost.db?synchronous=full");
  std::vector<int64_t> acknowledged;
  {
    Host host(yaml, image.launcher());
    ASSERT_TRUE(host.wait_ready()) << host.output();
    acknowledged = write_rows(host.port(), 20);
    // Nothing flushes here: with synchronous=full a 201 means the commit is on the disk.
    ASSERT_EQ(image.trigger_error(), "");
    expect_read_only_service(host, acknowledged);
  }
  // The namespace, its mount and (autoclear) the loop device end with the host.
  ASSERT_TRUE(eventually([&] { return image.loop_device().empty(); }, 10))
      << "the loop device was not detached after the host exited";
  CommandResult check = image.check_and_query(
      "plughost.db", "SELECT group_concat(id) FROM fixture_blobs; PRAGMA integrity_check;");
  ASSERT_EQ(check.exit_code, 0) << check.out;
  EXPECT_TRUE(check.out.rfind("e2fsck=0\n", 0) == 0 || check.out.rfind("e2fsck=1\n", 0) == 0)
      << "e2fsck found errors it could not repair:\n"
      << check.out;
  size_t line = check.out.find('\n') + 1;
  std::string ids = check.out.substr(line, check.out.find('\n', line) - line);
  EXPECT_EQ(id_set(ids), std::set<int64_t>(acknowledged.begin(), acknowledged.end())) << check.out;
  EXPECT_NE(check.out.find("\nok\n"), std::string::npos) << check.out;
  // Repaired and mounted again: the host starts, reads them and writes again.
  Host host(yaml, image.launcher());
  ASSERT_TRUE(host.wait_ready()) << host.output();
  EXPECT_EQ(field(http(host.port(), "GET", "/api/faults/blobs"), "count"),
            static_cast<int64_t>(acknowledged.size()));
  EXPECT_EQ(http(host.port(), "POST", "/api/faults/blobs", {}, "more").status, 201);
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait_exit(), 0) << host.output();
}

// The default, synchronous=NORMAL: a commit reaches the disk when the kernel writes it back (or
// at a checkpoint). What was written back survives the error intact; commits acknowledged
// after it may be lost with the aborted journal, like on a power cut, but the database is never
// corrupt.
TEST(StorageFaults, FileSystemRemountedReadOnlyUnderDefaultSyncKeepsWhatWasWrittenBackIntact) {
  ExtImage image;
  ASSERT_EQ(image.problem(), "");
  std::string yaml =
      config("", "  fixture_faults: {}\n", "sqlite://" + image.mount_point() + "/plughost.db");
  std::vector<int64_t> written_back, acknowledged;
  {
    Host host(yaml, image.launcher());
    ASSERT_TRUE(host.wait_ready()) << host.output();
    written_back = write_rows(host.port(), 20);
    ASSERT_TRUE(image.write_back()) << std::strerror(errno);
    acknowledged = written_back;
    for (int64_t id : write_rows(host.port(), 10)) acknowledged.push_back(id);
    ASSERT_EQ(image.trigger_error(), "");
    expect_read_only_service(host, acknowledged);
  }
  ASSERT_TRUE(eventually([&] { return image.loop_device().empty(); }, 10))
      << "the loop device was not detached after the host exited";
  CommandResult check = image.check_and_query(
      "plughost.db", "SELECT group_concat(id) FROM fixture_blobs; PRAGMA integrity_check;");
  ASSERT_EQ(check.exit_code, 0) << check.out;
  EXPECT_TRUE(check.out.rfind("e2fsck=0\n", 0) == 0 || check.out.rfind("e2fsck=1\n", 0) == 0)
      << check.out;
  size_t line = check.out.find('\n') + 1;
  std::set<int64_t> stored = id_set(check.out.substr(line, check.out.find('\n', line) - line));
  for (int64_t id : written_back) EXPECT_TRUE(stored.count(id)) << "row " << id << " lost";
  for (int64_t id : stored) {
    EXPECT_TRUE(std::find(acknowledged.begin(), acknowledged.end(), id) != acknowledged.end())
        << "row " << id << " was never acknowledged";
  }
  EXPECT_NE(check.out.find("\nok\n"), std::string::npos) << check.out;
}

// ---- PostgreSQL restarted under load (run by tests/scripts/with_postgres.sh) --------------------

TEST(PostgresRestart, WritesFailCleanlyDuringARestartResumeAfterAndNothingAcknowledgedIsLost) {
  const char* url = std::getenv("PLUGHOST_TEST_POSTGRES_URL");
  const char* restart = std::getenv("PLUGHOST_TEST_POSTGRES_RESTART");
  ASSERT_TRUE(url && restart) << "run via tests/scripts/with_postgres.sh";
  Host host(config("  threads: 2\n", "  fixture_faults: {}\n", url));
  ASSERT_TRUE(host.wait_ready()) << host.output();
  int port = host.port();
  std::mutex mu;
  std::vector<int64_t> acknowledged;
  std::vector<std::string> unexpected;
  int refused = 0;
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    while (!stop) {
      HttpResponse r = http(port, "POST", "/api/faults/blobs", {}, "row");
      std::lock_guard<std::mutex> lock(mu);
      if (r.status == 201) {
        acknowledged.push_back(field(r, "id"));
      } else if (r.status == 503 && r.body.find("\"UNAVAILABLE\"") != std::string::npos &&
                 r.body.find("unreachable") != std::string::npos) {
        ++refused;
      } else {
        unexpected.push_back(std::to_string(r.status) + " " + r.body);
      }
    }
  });
  auto count = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return acknowledged.size();
  };
  EXPECT_TRUE(eventually([&] { return count() >= 50; }, 60));
  EXPECT_EQ(std::system(restart), 0);
  size_t before_restart_done = count();
  EXPECT_TRUE(eventually([&] { return count() >= before_restart_done + 50; }, 60))
      << "writes never resumed after the restart";
  stop = true;
  writer.join();
  EXPECT_TRUE(unexpected.empty()) << unexpected.size() << " unexpected answers, first: "
                                  << (unexpected.empty() ? "" : unexpected.front());
  // Every session the restart cut fails once, cleanly, then reconnects.
  EXPECT_GE(refused, 1);
  // A pooled session the writer did not touch since the restart fails once too (503): the read
  // is retried like any client would.
  rapidjson::Document ids;
  ASSERT_TRUE(eventually(
      [&] {
        ids = json(http(port, "GET", "/api/faults/blobs/ids"));
        return ids.IsObject() && ids.HasMember("ids") && ids["ids"].IsArray();
      },
      30));
  std::set<int64_t> stored;
  for (const auto& id : ids["ids"].GetArray()) stored.insert(id.GetInt64());
  for (int64_t id : acknowledged)
    EXPECT_TRUE(stored.count(id)) << "acknowledged row " << id << " lost";
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait_exit(), 0) << host.output();
}

}  // namespace
}  // namespace itest
