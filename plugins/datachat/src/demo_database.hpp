// demo_database — the demo shop (customers, products, orders, order_items) the plugin answers
// from when no database.url is configured, built from fixtures/demo_shop.sql.
#pragma once

#include <string>

namespace datachat {

// The script; "{{TODAY}}" stands for the day the rows' dates count back from.
extern const char* const kDemoShopSql;

// Creates the SQLite file at `path` (and its folder) with the demo rows dated back from `today`
// (YYYY-MM-DD), unless the file already exists. Returns true when it built the file. Built in a
// temporary file renamed into place, so a crash never leaves half a database. Throws
// std::runtime_error when it cannot.
bool ensure_demo_database(const std::string& path, const std::string& today);

}  // namespace datachat
