#include "storage/database.hpp"

#include <libpq-fe.h>
#include <soci/connection-pool.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace plughost {
namespace {

// Percent-decodes a URL component (user names and passwords may contain @ or :).
std::string url_decode(const std::string& in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out += static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

// libpq keyword/value quoting: single quotes around values, \ and ' escaped.
std::string conninfo_value(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::optional<StorageUrl> parse_postgres(const std::string& url, std::string& error) {
  StorageUrl out;
  out.dialect = Dialect::kPostgres;
  std::string rest = url.substr(url.find("://") + 3);
  std::string query;
  if (auto q = rest.find('?'); q != std::string::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string userinfo, hostport = rest, db;
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    userinfo = rest.substr(0, at);
    hostport = rest.substr(at + 1);
  }
  if (auto slash = hostport.find('/'); slash != std::string::npos) {
    db = hostport.substr(slash + 1);
    hostport = hostport.substr(0, slash);
  }
  if (db.empty()) {
    error = "postgresql URL needs a database name: postgresql://user:pass@host:port/db";
    return std::nullopt;
  }
  std::string user, password, host = hostport, port;
  if (auto colon = userinfo.find(':'); colon != std::string::npos) {
    user = url_decode(userinfo.substr(0, colon));
    password = url_decode(userinfo.substr(colon + 1));
  } else {
    user = url_decode(userinfo);
  }
  if (auto colon = hostport.rfind(':'); colon != std::string::npos) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
  }
  std::string& ci = out.postgres_conninfo;
  ci = "dbname=" + conninfo_value(url_decode(db));
  if (!host.empty()) ci += " host=" + conninfo_value(host);
  if (!port.empty()) ci += " port=" + conninfo_value(port);
  if (!user.empty()) ci += " user=" + conninfo_value(user);
  if (!password.empty()) ci += " password=" + conninfo_value(password);
  for (size_t start = 0; start < query.size();) {
    size_t amp = query.find('&', start);
    std::string kv =
        query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    if (auto eq = kv.find('='); eq != std::string::npos) {
      ci += " " + kv.substr(0, eq) + "=" + conninfo_value(url_decode(kv.substr(eq + 1)));
    }
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  // Built from the parts, so no password (user info or ?password=/sslpassword=) survives.
  out.redacted = url.substr(0, url.find("://") + 3);
  if (!user.empty()) out.redacted += user + (password.empty() ? "@" : ":***@");
  out.redacted += hostport + "/" + db;
  if (!query.empty()) {
    std::string q;
    for (size_t start = 0; start < query.size();) {
      size_t amp = query.find('&', start);
      std::string kv =
          query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
      std::string key = kv.substr(0, kv.find('='));
      q += (q.empty() ? "?" : "&") +
           ((key == "password" || key == "sslpassword") ? key + "=***" : kv);
      if (amp == std::string::npos) break;
      start = amp + 1;
    }
    out.redacted += q;
  }
  return out;
}

}  // namespace

const char* serial_id_column(Dialect d) {
  return d == Dialect::kSqlite ? "id INTEGER PRIMARY KEY AUTOINCREMENT"
                               : "id BIGSERIAL PRIMARY KEY";
}

const char* dialect_name(Dialect d) {
  return d == Dialect::kSqlite ? "sqlite" : "postgresql";
}

std::optional<StorageUrl> parse_storage_url(const std::string& url, const std::string& base_dir,
                                            std::string& error) {
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    return parse_postgres(url, error);
  }
  if (url.rfind("sqlite://", 0) != 0) {
    error = "storage.url must start with sqlite:// or postgresql://";
    return std::nullopt;
  }
  StorageUrl out;
  out.dialect = Dialect::kSqlite;
  std::string path = url.substr(9);
  std::string query;
  if (auto q = path.find('?'); q != std::string::npos) {
    query = path.substr(q + 1);
    path = path.substr(0, q);
  }
  for (size_t start = 0; start < query.size();) {
    size_t amp = query.find('&', start);
    std::string kv =
        query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    if (kv == "synchronous=full") {
      out.sqlite_synchronous_full = true;
    } else if (kv != "synchronous=normal") {
      error = "sqlite URL: unknown option \"" + kv +
              "\" (the only one is synchronous=normal|full: sqlite:///path.db?synchronous=full)";
      return std::nullopt;
    }
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  if (path.empty()) {
    error = "sqlite URL needs a file path: sqlite:///var/lib/plughost/plughost.db";
    return std::nullopt;
  }
  if (path != ":memory:" && path[0] != '/' && !base_dir.empty()) {
    path = (std::filesystem::path(base_dir) / path).lexically_normal().string();
  }
  out.sqlite_path = path;
  out.redacted = "sqlite://" + path + (query.empty() ? "" : "?" + query);
  return out;
}

void check_sqlite_writable(const StorageUrl& url) {
  if (url.dialect != Dialect::kSqlite || url.sqlite_path == ":memory:") return;
  const std::filesystem::path file(url.sqlite_path);
  const std::filesystem::path dir = file.has_parent_path() ? file.parent_path() : ".";
  auto refuse = [&](const std::string& what, int err) {
    std::string why = err == EROFS || err == EACCES || err == EPERM ? " is read-only (" : " (";
    throw std::runtime_error("cannot open storage " + url.redacted + ": " + what + why +
                             std::strerror(err) + "); plughost writes the database and keeps " +
                             file.filename().string() + "-wal and " + file.filename().string() +
                             "-shm next to it");
  };
  // access() asks the kernel: a read-only mount answers EROFS even to root.
  if (::access(dir.c_str(), W_OK | X_OK) != 0) refuse("the folder " + dir.string(), errno);
  if (::access(file.c_str(), F_OK) == 0 && ::access(file.c_str(), W_OK) != 0) {
    refuse("the database file " + file.string(), errno);
  }
}

Database::Database(const StorageUrl& url, size_t pool_size, int busy_timeout_ms)
    : url_(url), pool_size_(pool_size), pool_(std::make_unique<soci::connection_pool>(pool_size)) {
  for (size_t i = 0; i < pool_size; ++i) {
    soci::session& s = pool_->at(i);
    try {
      if (url_.dialect == Dialect::kSqlite) {
        s.open(soci::sqlite3, "db=" + url_.sqlite_path +
                                  " timeout=" + std::to_string((busy_timeout_ms + 999) / 1000) +
                                  " shared_cache=false");
        s << "PRAGMA journal_mode=WAL";
        s << (url_.sqlite_synchronous_full ? "PRAGMA synchronous=FULL"
                                           : "PRAGMA synchronous=NORMAL");
        s << "PRAGMA foreign_keys=ON";
        s << "PRAGMA busy_timeout=" + std::to_string(busy_timeout_ms);
      } else {
        s.open(soci::postgresql, url_.postgres_conninfo);
        s << "SET client_min_messages = warning";  // no NOTICE chatter on stderr
      }
    } catch (const std::exception& e) {
      std::string msg = e.what();
      // libpq echoes parts of the conninfo in some errors; never let a password through.
      if (auto p = msg.find("password"); p != std::string::npos) msg = msg.substr(0, p) + "…";
      throw std::runtime_error("cannot open storage " + url_.redacted + ": " + msg);
    }
  }
}

Database::~Database() = default;

Database::Lease Database::acquire() {
  return Lease(*this, pool_->lease());
}

Database::Lease::Lease(Database& db, size_t slot) : db_(&db), slot_(slot) {
  db_->in_use_.fetch_add(1);
}
Database::Lease::~Lease() {
  if (!db_) return;
  // A session goes back to the pool clean: no open transaction, a live connection.
  try {
    void* handle = native_handle();
    if (db_->dialect() == Dialect::kSqlite) {
      // soci-sqlite3.h wraps the sqlite3 API in namespace sqlite_api.
      auto* conn = static_cast<sqlite_api::sqlite3*>(handle);
      if (!sqlite_api::sqlite3_get_autocommit(conn)) {
        sqlite_api::sqlite3_exec(conn, "ROLLBACK", nullptr, nullptr, nullptr);
      }
    } else {
      auto* conn = static_cast<PGconn*>(handle);
      if (PQstatus(conn) == CONNECTION_BAD) {
        PQreset(conn);
      } else if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
        PQclear(PQexec(conn, "ROLLBACK"));
      }
    }
  } catch (...) {
    // Returning the slot matters more than cleaning it.
  }
  db_->in_use_.fetch_sub(1);
  db_->pool_->give_back(slot_);
}
Database::Lease::Lease(Lease&& other) noexcept : db_(other.db_), slot_(other.slot_) {
  other.db_ = nullptr;
}
soci::session& Database::Lease::session() {
  return db_->pool_->at(slot_);
}

void* Database::Lease::native_handle() {
  soci::session& s = session();
  if (db_->dialect() == Dialect::kSqlite) {
    return static_cast<soci::sqlite3_session_backend*>(s.get_backend())->conn_;
  }
  return static_cast<soci::postgresql_session_backend*>(s.get_backend())->conn_;
}

}  // namespace plughost
