// database.hpp — the host's storage: a SOCI connection pool on SQLite (embedded default) or
// PostgreSQL, and leases of one session at a time. Plugins reach it only through the C ABI.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace soci {
class session;
class connection_pool;
}  // namespace soci

namespace plughost {

enum class Dialect { kSqlite, kPostgres };
const char* dialect_name(Dialect d);
// The auto-increment integer primary key column "id" in the dialect's DDL.
const char* serial_id_column(Dialect d);

struct StorageUrl {
  Dialect dialect = Dialect::kSqlite;
  std::string sqlite_path;        // kSqlite: file path (":memory:" allowed)
  std::string postgres_conninfo;  // kPostgres: libpq keyword/value string, password included
  std::string redacted;           // the URL with any password replaced by "***", for logs
  // kSqlite, `?synchronous=full`: every commit is flushed to the disk before it is acknowledged
  // (one fsync of the WAL each). The default, synchronous=NORMAL, flushes at checkpoints only:
  // a commit survives the process dying, but not the machine dying, or its file system going
  // read-only after an error, before the kernel wrote it back (up to ~30 s).
  bool sqlite_synchronous_full = false;
};

// Parses `sqlite:///abs/path.db[?synchronous=full]`, `sqlite://relative.db` (resolved against
// `base_dir`) or `postgresql://user:pass@host:port/db?sslmode=…`. Returns nullopt and sets
// `error` otherwise.
std::optional<StorageUrl> parse_storage_url(const std::string& url, const std::string& base_dir,
                                            std::string& error);

// For `run`: throws std::runtime_error when a SQLite database could not be written: the file or
// its folder is read-only (a read-only mount, permission bits) or the folder is missing. SQLite
// itself would only say "unable to open database file" (WAL mode creates <file>-wal and
// <file>-shm next to the database), or open it read-only and fail on the first write.
// PostgreSQL and :memory: are not checked.
void check_sqlite_writable(const StorageUrl& url);

class Database {
 public:
  // A session borrowed from the pool; returned when the lease is destroyed. Not thread-safe:
  // one lease, one thread at a time.
  class Lease {
   public:
    Lease(Database& db, size_t slot);
    ~Lease();
    Lease(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    soci::session& session();
    // The native handle under SOCI: sqlite3* or PGconn*.
    void* native_handle();

   private:
    Database* db_;
    size_t slot_;
  };

  // Opens `pool_size` sessions. SQLite sessions get WAL, synchronous=NORMAL (FULL on request), a
  // busy timeout and foreign keys. Throws std::runtime_error with a redacted message when a session
  // cannot open.
  Database(const StorageUrl& url, size_t pool_size, int busy_timeout_ms = 5000);
  ~Database();

  Dialect dialect() const { return url_.dialect; }
  const StorageUrl& url() const { return url_; }
  size_t pool_size() const { return pool_size_; }
  // Sessions not leased right now (a snapshot; it may change at once).
  size_t pool_available() const { return pool_size_ - std::min(pool_size_, in_use_.load()); }

  // Blocks until a session is free.
  Lease acquire();

 private:
  StorageUrl url_;
  size_t pool_size_;
  std::atomic<size_t> in_use_{0};
  std::unique_ptr<soci::connection_pool> pool_;
};

}  // namespace plughost
