// A third-party source type for the dango-sources tests, built only with them: connector
// source/blocking, whose `read` waits until the test releases it, so a test can hold a sync open
// for as long as it needs without relying on timing.
//   GET  /api/test-source/state   {"entered": n, "released": n}
//   POST /api/test-source/release lets one waiting (or the next) read finish
//   GET  /api/test-source/events  the sync_* and dbt_* events seen on the host bus, as a JSON
//                                 array of their payloads (subscribed in init: none is missed)
//   POST /api/test-source/publish?count=N&bytes=M  N events dbt_run_probe of ~M bytes each
//   GET  /api/test-source/schedule?name=S  the host scheduler's view of schedule S (404: none)
//   POST /api/test-source/fire?name=S  enqueues what the host scheduler enqueues when S comes
//                                 due at its next run: its task kind, its payload with "due"
//                                 added, its idempotency key (so a test need not wait for cron);
//                                 &due=<unix seconds> fires that due time instead
//   GET  /api/test-source/task?id=N  the host's task JSON
// A read answers table "items" with the rows of its source's `options.rows` (default 2 rows).
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <plughost/plugin.hpp>
#include <string>

namespace {

class BlockingSource : public plughost::sdk::Plugin {
  void init() override {
    connector({"source", "blocking", "Waits for the test to release each read", {}},
              [this](std::string_view op, std::string_view input) {
                if (op != "read")
                  throw plughost::sdk::Error(PH_ERR_UNSUPPORTED, "unknown operation");
                return read(input);
              });
    route({"GET", "/api/test-source/state", "", PH_PERMISSION_PUBLIC, {}, {}, {}},
          [this](const plughost::sdk::Request&, plughost::sdk::Response& rs) {
            std::lock_guard<std::mutex> lock(mu_);
            rs.json_text("{\"entered\":" + std::to_string(entered_) +
                         ",\"released\":" + std::to_string(released_) + "}");
          });
    subscribe("sync_*", [this](std::string_view, std::string_view payload) {
      std::lock_guard<std::mutex> lock(mu_);
      events_ += (events_.empty() ? "" : ",") + std::string(payload);
    });
    subscribe("dbt_*", [this](std::string_view, std::string_view payload) {
      std::lock_guard<std::mutex> lock(mu_);
      events_ += (events_.empty() ? "" : ",") + std::string(payload);
    });
    route({"GET", "/api/test-source/events", "", PH_PERMISSION_PUBLIC, {}, {}, {}},
          [this](const plughost::sdk::Request&, plughost::sdk::Response& rs) {
            std::lock_guard<std::mutex> lock(mu_);
            rs.json_text("[" + events_ + "]");
          });
    route({"POST", "/api/test-source/release", "", PH_PERMISSION_PUBLIC, {}, {}, {}},
          [this](const plughost::sdk::Request&, plughost::sdk::Response& rs) {
            {
              std::lock_guard<std::mutex> lock(mu_);
              ++permits_;
            }
            cv_.notify_all();
            rs.json_text("{}");
          });
    route({"GET", "/api/test-source/schedule", "", PH_PERMISSION_PUBLIC, {}, {}, {}},
          [this](const plughost::sdk::Request& rq, plughost::sdk::Response& rs) {
            auto json = schedule_json(std::string(rq.query("name").value_or("")));
            if (!json) throw plughost::sdk::HttpError(404, "no such schedule");
            rs.json_text(*json);
          });
    route({"GET", "/api/test-source/task", "", PH_PERMISSION_PUBLIC, {}, {}, {}},
          [this](const plughost::sdk::Request& rq, plughost::sdk::Response& rs) {
            auto json = task_json(std::stoll(std::string(rq.query("id").value_or("0"))));
            if (!json) throw plughost::sdk::HttpError(404, "no such task");
            rs.json_text(*json);
          });
    route({"POST", "/api/test-source/fire", "", PH_PERMISSION_PUBLIC, {}, {}, {}},
          [this](const plughost::sdk::Request& rq, plughost::sdk::Response& rs) { fire(rq, rs); });
    // ?count=N&bytes=M: publishes N events "dbt_run_probe" of about M bytes each (the /ws tests'
    // flood).
    route({"POST", "/api/test-source/publish", "", PH_PERMISSION_PUBLIC, {}, {}, {}},
          [this](const plughost::sdk::Request& rq, plughost::sdk::Response& rs) {
            int count = std::stoi(std::string(rq.query("count").value_or("1")));
            size_t bytes = std::stoul(std::string(rq.query("bytes").value_or("10")));
            for (int i = 0; i < count; ++i) {
              publish("dbt_run_probe", "{\"type\":\"dbt_run_probe\",\"n\":" + std::to_string(i) +
                                           ",\"pad\":\"" + std::string(bytes, 'x') + "\"}");
            }
            rs.json_text("{}");
          });
  }

  void fire(const plughost::sdk::Request& rq, plughost::sdk::Response& rs) {
    std::string name(rq.query("name").value_or(""));
    auto described = schedule_json(name);
    if (!described) throw plughost::sdk::HttpError(404, "no schedule " + name);
    rapidjson::Document d;
    std::string error;
    plughost::sdk::parse_json(*described, d, error);
    // "2026-11-23T01:00:00Z" → Unix seconds (timegm without the TZ dance).
    std::string next = d["next_run"].GetString();
    std::tm tm{};
    strptime(next.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    int64_t due = static_cast<int64_t>(timegm(&tm));
    if (auto given = rq.query("due")) due = std::stoll(std::string(*given));
    rapidjson::Value& payload = d["payload"];
    if (d["payload_with_due"].GetBool()) {
      payload.RemoveMember("due");
      payload.AddMember("due", due, d.GetAllocator());
    }
    plughost::sdk::TaskRequest r;
    r.kind = d["task"].GetString();
    r.payload_json = plughost::sdk::to_json(payload);
    r.idempotency_key = "schedule:" + name + ":" + std::to_string(due);
    int64_t id = enqueue(r);
    rs.json_text("{\"task_id\":" + std::to_string(id) + ",\"due\":" + std::to_string(due) + "}");
  }

  std::string read(std::string_view input) {
    rapidjson::Document in;
    std::string error;
    plughost::sdk::parse_json(input, in, error);
    int rows = 2;
    if (in.IsObject() && in.HasMember("options") && in["options"].IsObject() &&
        in["options"].HasMember("rows") && in["options"]["rows"].IsInt()) {
      rows = in["options"]["rows"].GetInt();
    }
    {
      std::unique_lock<std::mutex> lock(mu_);
      ++entered_;
      // The bound only keeps a broken test from hanging the host forever.
      if (!cv_.wait_for(lock, std::chrono::seconds(60), [&] { return permits_ > 0; })) {
        throw plughost::sdk::Error(PH_ERR_INTERNAL, "never released");
      }
      --permits_;
      ++released_;
    }
    std::string out =
        "{\"tables\":[{\"name\":\"items\",\"columns\":[{\"name\":\"id\",\"type\":"
        "\"integer\"},{\"name\":\"label\",\"type\":\"text\"}],\"rows\":[";
    for (int i = 0; i < rows; ++i) {
      out += (i ? "," : "") + std::string("[") + std::to_string(i + 1) + ",\"item " +
             std::to_string(i + 1) + "\"]";
    }
    out += "],\"mode\":\"replace\"}],\"state\":{}}";
    return out;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  int entered_ = 0;
  int released_ = 0;
  int permits_ = 0;
  std::string events_;
};

}  // namespace

PLUGHOST_PLUGIN(BlockingSource, "dango_test_source", "1.0.0", "Test source type that blocks",
                "experimental")
