// sessions.hpp — browser sessions (accounts_sessions): a random token in the session cookie,
// stored as its SHA-256. Full sessions expire 365 d after creation or after 1440 min without a
// request (sliding); 2FA-pending ("partial") sessions 5 min after creation. Revoking deletes the
// row, so the next request carrying the cookie is anonymous.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services.hpp"

namespace accounts {

struct SessionRow {
  int64_t id = 0;
  int64_t user_id = 0;
  bool partial = false;
  int64_t failed_attempts = 0;  // wrong 2FA codes on a partial session
  int64_t created_at = 0;
  int64_t last_seen_at = 0;
  int64_t expires_at = 0;  // absolute
  std::optional<std::string> ip_address;
  std::optional<std::string> user_agent;
};

struct NewSession {
  std::string token;  // for the cookie only; never stored or logged
  int64_t id = 0;
  int64_t max_age_seconds = 0;
};

NewSession create_session(const Services& svc, int64_t user_id, bool partial,
                          std::string_view ip_address, std::string_view user_agent);

// The live session the token names, or nullopt (unknown, expired, idle too long). Refreshes
// last_seen_at at most every min(60 s, idle/10) so the sliding expiry costs one write a minute.
std::optional<SessionRow> find_live_session(const Services& svc, std::string_view token);

// The user's live full sessions, newest first.
std::vector<SessionRow> list_sessions(const Services& svc, int64_t user_id);
std::string session_json(const SessionRow& s, std::optional<int64_t> current_id);

// Deletes one of the user's sessions; false when it has no such session.
bool delete_session(const Db& db, int64_t user_id, int64_t session_id);
// Spends the user's live partial session in one statement; false when it is gone (expired, ended
// by too many wrong codes, or spent by a concurrent request).
bool consume_partial_session(const Db& db, int64_t user_id, int64_t session_id);
// Deletes all of the user's sessions (partial ones included).
void delete_user_sessions(const Db& db, int64_t user_id);
// Counts a wrong 2FA code against a partial session; returns the new count.
int64_t note_failed_2fa(const Db& db, int64_t session_id);

}  // namespace accounts
