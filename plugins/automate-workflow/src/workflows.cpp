#include "workflows.hpp"

#include <optional>
#include <set>

#include "basics.hpp"
#include "graph.hpp"
#include "pagination.hpp"
#include "steps.hpp"

namespace automate {

using plughost::sdk::ErrorDetail;
using plughost::sdk::HttpError;
using plughost::sdk::Statement;
using Alloc = rapidjson::Document::AllocatorType;

namespace {

constexpr const char* kColumns =
    "id, name, slug, description, enabled, trigger_type, trigger_config, graph, graph_hash, "
    "workflow_version, created_at, updated_at";
const std::set<std::string> kTriggerTypes = {"webhook", "event", "schedule", "manual"};

HttpError invalid(std::vector<ErrorDetail> details) {
  return HttpError(400, "VALIDATION_ERROR", "Invalid input", std::move(details));
}

// The list summary's columns (the seed's list answer): no description, trigger_config, graph or
// graph_hash, which can be large and the list never shows.
constexpr const char* kSummaryColumns =
    "id, name, slug, enabled, trigger_type, workflow_version, created_at, updated_at";

rapidjson::Value summary_json(const Statement& st, Alloc& a) {
  rapidjson::Value o(rapidjson::kObjectType);
  o.AddMember("id", str(st.text(0), a), a);
  o.AddMember("name", str(st.text(1), a), a);
  o.AddMember("slug", str(st.text(2), a), a);
  o.AddMember("enabled", st.int64(3) != 0, a);
  o.AddMember("trigger_type", str(st.text(4), a), a);
  o.AddMember("workflow_version", st.int64(5), a);
  o.AddMember("created_at", str(st.text(6), a), a);
  o.AddMember("updated_at", str(st.text(7), a), a);
  return o;
}

// One row read with kColumns, as the detail object.
rapidjson::Value row_json(const Statement& st, Alloc& a) {
  rapidjson::Value o(rapidjson::kObjectType);
  o.AddMember("id", str(st.text(0), a), a);
  o.AddMember("name", str(st.text(1), a), a);
  o.AddMember("slug", str(st.text(2), a), a);
  o.AddMember("description", str(st.text(3), a), a);
  o.AddMember("enabled", st.int64(4) != 0, a);
  o.AddMember("trigger_type", str(st.text(5), a), a);
  o.AddMember("trigger_config", parse_into(st.text(6), a), a);
  o.AddMember("workflow_version", st.int64(9), a);
  o.AddMember("graph", parse_into(st.text(7), a), a);
  o.AddMember("graph_hash", str(st.text(8), a), a);
  o.AddMember("created_at", str(st.text(10), a), a);
  o.AddMember("updated_at", str(st.text(11), a), a);
  return o;
}

// The stored workflow as detail JSON text; nullopt when `id` is not one of `tenant`'s.
template <typename Db>
std::optional<std::string> load(Db& db, std::string_view tenant, std::string_view id) {
  auto st = db.sql(std::string("SELECT ") + kColumns +
                   " FROM automate_workflows WHERE tenant = :tenant AND id = :id");
  st.bind(":tenant", tenant).bind(":id", id);
  if (!st.step()) return std::nullopt;
  rapidjson::Document d;
  rapidjson::Value v = row_json(st, d.GetAllocator());
  return plughost::sdk::to_json(v);
}

bool valid_slug(std::string_view s) {
  if (s.empty() || s.size() > 100) return false;
  for (unsigned char c : s) {
    if (!(std::islower(c) || std::isdigit(c) || c == '-' || c == '_')) return false;
  }
  return true;
}

// Checks the members a create or update carries; `creating` makes `name` required. Fills in
// defaults on create. Throws the 400 with every problem found.
void validate_fields(const std::set<std::string>& step_types, rapidjson::Document& body,
                     bool creating) {
  if (!body.IsObject()) throw invalid({{"", "The body must be a JSON object"}});
  std::vector<ErrorDetail> problems;
  auto& a = body.GetAllocator();
  auto has = [&](const char* k) { return body.HasMember(k); };
  if (has("name")) {
    const auto& v = body["name"];
    if (!v.IsString() || v.GetStringLength() == 0 || v.GetStringLength() > 200) {
      problems.push_back({"name", "A non-empty string of at most 200 characters is required"});
    }
  } else if (creating) {
    problems.push_back({"name", "This field is required"});
  }
  if (has("slug") && !(body["slug"].IsString() && valid_slug(body["slug"].GetString()))) {
    problems.push_back({"slug", "Use 1-100 lower-case letters, digits, '-' or '_'"});
  }
  if (has("description") && !body["description"].IsString()) {
    problems.push_back({"description", "Must be a string"});
  }
  if (has("enabled") && !body["enabled"].IsBool()) {
    problems.push_back({"enabled", "Must be true or false"});
  }
  if (has("trigger_type") &&
      !(body["trigger_type"].IsString() && kTriggerTypes.count(body["trigger_type"].GetString()))) {
    problems.push_back({"trigger_type", "Must be one of webhook, event, schedule, manual"});
  }
  if (has("trigger_config") && !body["trigger_config"].IsObject()) {
    problems.push_back({"trigger_config", "Must be an object"});
  }
  if (has("graph")) {
    auto graph_problems = validate_graph(body["graph"], step_types);
    problems.insert(problems.end(), graph_problems.begin(), graph_problems.end());
  }
  if (!problems.empty()) throw invalid(std::move(problems));
  if (creating) {
    if (!has("description")) body.AddMember("description", "", a);
    if (!has("enabled")) body.AddMember("enabled", true, a);
    if (!has("trigger_type")) body.AddMember("trigger_type", "manual", a);
    if (!has("trigger_config"))
      body.AddMember("trigger_config", rapidjson::Value(rapidjson::kObjectType), a);
    if (!has("graph")) {
      rapidjson::Value g(rapidjson::kObjectType);
      g.AddMember("nodes", rapidjson::Value(rapidjson::kArrayType), a);
      body.AddMember("graph", g, a);
    }
  }
  if (!has("graph")) return;
  auto& graph = body["graph"];
  if (!graph.HasMember("edges") || graph["edges"].IsNull()) {
    graph.RemoveMember("edges");
    graph.AddMember("edges", rapidjson::Value(rapidjson::kArrayType), a);
  }
}

bool slug_taken(plughost::sdk::Transaction& txn, std::string_view tenant, std::string_view slug,
                std::string_view except_id = {}) {
  auto st = txn.sql(
      "SELECT 1 FROM automate_workflows WHERE tenant = :tenant AND slug = :slug AND id <> :id");
  st.bind(":tenant", tenant).bind(":slug", slug).bind(":id", except_id);
  return st.step();
}

// `base`, else base-1, base-2… whichever is free in the tenant.
std::string free_slug(plughost::sdk::Transaction& txn, std::string_view tenant,
                      const std::string& base) {
  if (!slug_taken(txn, tenant, base)) return base;
  for (int n = 1;; ++n) {
    std::string candidate = base + "-" + std::to_string(n);
    if (!slug_taken(txn, tenant, candidate)) return candidate;
  }
}

std::string id_param(const Request& rq) {
  return std::string(rq.param("id").value_or(""));
}

HttpError not_found() {
  return HttpError(404, "NOT_FOUND", "Workflow not found");
}

// Column and direction for `ordering` (default -created_at); 400 naming `ordering` otherwise.
std::string order_by(std::string_view ordering_param) {
  static const std::set<std::string> kFields = {
      "name", "slug", "created_at", "updated_at", "enabled", "workflow_version", "trigger_type"};
  std::string ordering(ordering_param);
  bool desc = !ordering.empty() && ordering[0] == '-';
  std::string field = desc ? ordering.substr(1) : ordering;
  if (!kFields.count(field)) {
    throw invalid({{"ordering", "Unknown field '" + field + "'"}});
  }
  return field + (desc ? " DESC" : " ASC") + ", id" + (desc ? " DESC" : " ASC");
}

std::optional<bool> enabled_filter(const Request& rq) {
  auto v = rq.query("enabled");
  if (!v) return std::nullopt;
  if (*v == "true" || *v == "1" || *v == "True") return true;
  if (*v == "false" || *v == "0" || *v == "False") return false;
  throw invalid({{"enabled", "Must be true or false"}});
}

std::string like_pattern(std::string_view search) {
  std::string out = "%";
  for (unsigned char c : search) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += static_cast<char>(std::tolower(c));
  }
  return out + "%";
}

}  // namespace

ListSql workflow_list_sql(std::string_view ordering, bool by_enabled, bool by_search) {
  ListSql q{std::string("SELECT ") + kSummaryColumns,
            "FROM automate_workflows WHERE tenant = :tenant", order_by(ordering)};
  if (by_enabled) q.from_where += " AND enabled = :enabled";
  if (by_search) {
    q.from_where += " AND (LOWER(name) LIKE :p1 ESCAPE '\\' OR LOWER(slug) LIKE :p2 ESCAPE '\\')";
  }
  return q;
}

void list_workflows(const Services& p, const Request& rq, Response& rs) {
  Page page = read_page(rq);
  auto enabled = enabled_filter(rq);
  auto search = rq.query("search");
  ListSql q = workflow_list_sql(rq.query("ordering").value_or("-created_at"), enabled.has_value(),
                                search.has_value());
  auto bind = [&](Statement& st) {
    st.bind(":tenant", rq.tenant());
    if (enabled) st.bind(":enabled", *enabled ? 1 : 0);
    if (search) st.bind(":p1", like_pattern(*search)).bind(":p2", like_pattern(*search));
  };
  answer_page(p, rq, rs, page, q, bind, summary_json);
}

Reply create_workflow(const Services& p, const Request& rq) {
  rapidjson::Document body = rq.json();
  return {201, insert_workflow(p, std::string(rq.tenant()), body, available_step_types(p))};
}

std::string insert_workflow(const Services& p, const std::string& tenant, rapidjson::Document& body,
                            const std::set<std::string>& step_types) {
  validate_fields(step_types, body, true);
  std::string id = new_uuid(), now = now_iso();
  auto txn = p.transaction();
  std::string slug;
  if (body.HasMember("slug")) {
    slug = body["slug"].GetString();
    if (slug_taken(txn, tenant, slug)) {
      throw invalid({{"slug", "A workflow with this slug already exists"}});
    }
  } else {
    slug = free_slug(txn, tenant, slugify(body["name"].GetString()));
  }
  txn.sql(
         "INSERT INTO automate_workflows (id, tenant, name, slug, description, enabled, "
         "trigger_type, trigger_config, graph, graph_hash, workflow_version, created_at, "
         "updated_at) VALUES (:id, :tenant, :name, :slug, :description, :enabled, :trigger_type, "
         ":trigger_config, :graph, :graph_hash, 1, :now, :now2)")
      .bind(":id", id)
      .bind(":tenant", tenant)
      .bind(":name", body["name"].GetString())
      .bind(":slug", slug)
      .bind(":description", body["description"].GetString())
      .bind(":enabled", body["enabled"].GetBool() ? 1 : 0)
      .bind(":trigger_type", body["trigger_type"].GetString())
      .bind(":trigger_config", plughost::sdk::to_json(body["trigger_config"]))
      .bind(":graph", plughost::sdk::to_json(body["graph"]))
      .bind(":graph_hash", sha256_hex(canonical_json(body["graph"])))
      .bind(":now", now)
      .bind(":now2", now)
      .exec();
  auto created = load(txn, tenant, id);
  txn.commit();
  return *created;
}

void get_workflow(const Services& p, const Request& rq, Response& rs) {
  auto w = load(p, rq.tenant(), id_param(rq));
  if (!w) throw not_found();
  rs.json_text(*w);
}

Reply update_workflow(const Services& p, const Request& rq) {
  rapidjson::Document body = rq.json();
  validate_fields(available_step_types(p), body, false);
  std::string tenant(rq.tenant()), id = id_param(rq);
  auto txn = p.transaction();
  auto current_text = load(txn, tenant, id);
  if (!current_text) throw not_found();
  rapidjson::Document current;
  current.Parse(current_text->c_str());
  if (body.HasMember("slug") && body["slug"] != current["slug"] &&
      slug_taken(txn, tenant, body["slug"].GetString(), id)) {
    throw invalid({{"slug", "A workflow with this slug already exists"}});
  }
  int64_t version = current["workflow_version"].GetInt64();
  txn.sql(
         "INSERT INTO automate_workflow_versions (workflow_id, workflow_version, snapshot, "
         "created_at) VALUES (:id, :version, :snapshot, :now)")
      .bind(":id", id)
      .bind(":version", version)
      .bind(":snapshot", *current_text)
      .bind(":now", now_iso())
      .exec();
  auto& a = current.GetAllocator();
  for (auto& m : body.GetObject()) {
    if (!current.HasMember(m.name) || m.name == "id" || m.name == "workflow_version" ||
        m.name == "graph_hash" || m.name == "created_at" || m.name == "updated_at") {
      continue;
    }
    current[m.name.GetString()].CopyFrom(m.value, a);
  }
  txn.sql(
         "UPDATE automate_workflows SET name = :name, slug = :slug, description = :description, "
         "enabled = :enabled, trigger_type = :trigger_type, trigger_config = :trigger_config, "
         "graph = :graph, graph_hash = :graph_hash, workflow_version = :version, updated_at = :now "
         "WHERE tenant = :tenant AND id = :id")
      .bind(":name", current["name"].GetString())
      .bind(":slug", current["slug"].GetString())
      .bind(":description", current["description"].GetString())
      .bind(":enabled", current["enabled"].GetBool() ? 1 : 0)
      .bind(":trigger_type", current["trigger_type"].GetString())
      .bind(":trigger_config", plughost::sdk::to_json(current["trigger_config"]))
      .bind(":graph", plughost::sdk::to_json(current["graph"]))
      .bind(":graph_hash", sha256_hex(canonical_json(current["graph"])))
      .bind(":version", version + 1)
      .bind(":now", now_iso())
      .bind(":tenant", tenant)
      .bind(":id", id)
      .exec();
  auto updated = load(txn, tenant, id);
  txn.commit();
  return {200, *updated};
}

Reply delete_workflow(const Services& p, const Request& rq) {
  std::string tenant(rq.tenant()), id = id_param(rq);
  auto txn = p.transaction();
  int64_t n = txn.sql("DELETE FROM automate_workflows WHERE tenant = :tenant AND id = :id")
                  .bind(":tenant", tenant)
                  .bind(":id", id)
                  .exec();
  if (n == 0) throw not_found();
  txn.sql("DELETE FROM automate_workflow_versions WHERE workflow_id = :id").bind(":id", id).exec();
  txn.commit();
  return {204, {}};
}

void list_workflow_versions(const Services& p, const Request& rq, Response& rs) {
  std::string id = id_param(rq);
  if (!load(p, rq.tenant(), id)) throw not_found();
  rapidjson::Document doc(rapidjson::kArrayType);
  auto& a = doc.GetAllocator();
  auto st = p.sql(
      "SELECT workflow_version, created_at, snapshot FROM automate_workflow_versions "
      "WHERE workflow_id = :id ORDER BY workflow_version DESC");
  st.bind(":id", id);
  while (st.step()) {
    rapidjson::Value v(rapidjson::kObjectType);
    v.AddMember("workflow_version", st.int64(0), a);
    v.AddMember("created_at", str(st.text(1), a), a);
    v.AddMember("snapshot", parse_into(st.text(2), a), a);
    doc.PushBack(v, a);
  }
  rs.json(doc);
}

std::vector<RunnableWorkflow> workflows_triggered_by(const Services& p, const std::string& tenant,
                                                     const std::string& source,
                                                     const std::string& type) {
  std::vector<RunnableWorkflow> out;
  auto st = p.sql(
      "SELECT id, name, workflow_version, graph, trigger_type, trigger_config "
      "FROM automate_workflows WHERE tenant = :tenant AND enabled = 1 "
      "AND trigger_type IN ('webhook', 'event') ORDER BY created_at");
  st.bind(":tenant", tenant);
  while (st.step()) {
    rapidjson::Document config;
    config.Parse(st.text(5).c_str());
    if (!config.IsObject()) continue;
    auto wants = [&](const char* key, const std::string& actual) {
      return !config.HasMember(key) || !config[key].IsString() || config[key].GetString() == actual;
    };
    bool webhook = st.text(4) == "webhook";
    if (webhook && source.empty()) continue;    // an emitted event triggers `event` workflows
    if (!webhook && !source.empty()) continue;  // a webhook triggers `webhook` workflows
    if (webhook && !wants("source", source)) continue;
    if (!wants("event_type", type)) continue;
    out.push_back({st.text(0), st.text(1), st.int64(2), st.text(3)});
  }
  return out;
}

void seed_workflows(const Services& p, const rapidjson::Value& seeds,
                    const std::set<std::string>& step_types) {
  if (!seeds.IsArray()) return;
  for (const auto& seed : seeds.GetArray()) {
    if (!seed.IsObject()) continue;
    rapidjson::Document body;
    body.CopyFrom(seed, body.GetAllocator());
    std::string tenant = "default";
    if (body.HasMember("tenant")) {
      if (body["tenant"].IsString()) tenant = body["tenant"].GetString();
      body.RemoveMember("tenant");
    }
    std::string name =
        body.HasMember("name") && body["name"].IsString() ? body["name"].GetString() : "(unnamed)";
    try {
      if (!body.HasMember("slug") && body.HasMember("name") && body["name"].IsString()) {
        body.AddMember("slug", rapidjson::Value(slugify(name).c_str(), body.GetAllocator()),
                       body.GetAllocator());
      }
      if (body.HasMember("slug") && body["slug"].IsString()) {
        auto st = p.sql("SELECT 1 FROM automate_workflows WHERE tenant = :tenant AND slug = :slug");
        st.bind(":tenant", tenant).bind(":slug", body["slug"].GetString());
        if (st.step()) continue;  // already there (perhaps edited since): leave it alone
      }
      insert_workflow(p, tenant, body, step_types);
      p.info("automate: created workflow '" + name + "' from the config (tenant " + tenant + ")");
    } catch (const HttpError& e) {
      std::string why = e.what();
      for (const auto& d : e.details()) why += "; " + d.field + ": " + d.message;
      p.warn("automate: workflow '" + name + "' in the config is invalid: " + why);
    }
  }
}

}  // namespace automate
