// Test double of the rag and llm plugins for the embed tests: `retriever/rag` searches three
// fixed documents by shared words (endpoint "docs" only), `llm/echo` answers with what it was
// given, `llm/broken` always fails.
#include <algorithm>
#include <cctype>
#include <plughost/plugin.hpp>
#include <set>

namespace {

namespace sdk = plughost::sdk;

struct Doc {
  const char* id;
  const char* title;
  const char* content;
};

const Doc kDocs[] = {
    {"doc-webhooks", "Webhooks",
     "# Webhooks\nEvery webhook request is signed. The signature is an HMAC-SHA256 of the raw body "
     "sent in the X-Webhook-Signature header. Requests with a bad signature are refused with 401."},
    {"doc-limits", "Rate limits",
     "Each client may send 120 requests per minute. Over the limit the answer is 429 with a "
     "Retry-After header."},
    {"doc-install", "Installing",
     "Install the packages with apt. Then run the host with the sample configuration."},
};

std::set<std::string> words(const std::string& text) {
  std::set<std::string> out;
  std::string w;
  for (char c : text + " ") {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      w += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!w.empty()) {
      if (w.size() > 3) out.insert(w.back() == 's' ? w.substr(0, w.size() - 1) : w);
      w.clear();
    }
  }
  return out;
}

class FakeSources : public sdk::Plugin {
  void init() override {
    connector({"retriever", "rag", "Fixed three-document index", {}},
              [](std::string_view op, std::string_view input) {
                if (op != "query") throw sdk::Error(PH_ERR_UNSUPPORTED, "unknown operation");
                rapidjson::Document in;
                std::string error;
                if (!sdk::parse_json(input, in, error) || !in.IsObject()) {
                  throw sdk::Error(PH_ERR_INVALID_ARGUMENT, "bad input");
                }
                if (!in.HasMember("tenant") || std::string(in["tenant"].GetString()) != "default") {
                  throw sdk::Error(PH_ERR_NOT_FOUND, "no such endpoint in that tenant");
                }
                if (std::string(in["endpoint"].GetString()) != "docs") {
                  throw sdk::Error(PH_ERR_NOT_FOUND, "unknown endpoint");
                }
                auto q = words(in["query"].GetString());
                rapidjson::Document out(rapidjson::kObjectType);
                auto& a = out.GetAllocator();
                rapidjson::Value results(rapidjson::kArrayType);
                std::vector<std::pair<int, const Doc*>> ranked;
                for (const Doc& d : kDocs) {
                  auto w = words(d.content);
                  int shared = static_cast<int>(std::count_if(
                      q.begin(), q.end(), [&](const std::string& x) { return w.count(x) > 0; }));
                  if (shared > 0) ranked.emplace_back(shared, &d);
                }
                std::stable_sort(ranked.begin(), ranked.end(),
                                 [](const auto& x, const auto& y) { return x.first > y.first; });
                for (const auto& [score, d] : ranked) {
                  rapidjson::Value r(rapidjson::kObjectType);
                  r.AddMember("id", rapidjson::StringRef(d->id), a);
                  r.AddMember("content", rapidjson::StringRef(d->content), a);
                  r.AddMember("score", score, a);
                  rapidjson::Value meta(rapidjson::kObjectType);
                  meta.AddMember("title", rapidjson::StringRef(d->title), a);
                  r.AddMember("metadata", meta, a);
                  results.PushBack(r, a);
                }
                out.AddMember("results", results, a);
                return sdk::to_json(out);
              });
    // Answers "turns=<n> context=<yes|no> last=<the user's message>".
    connector({"llm", "echo", "Echoes its input", {}},
              [](std::string_view op, std::string_view input) {
                if (op != "chat") throw sdk::Error(PH_ERR_UNSUPPORTED, "unknown operation");
                rapidjson::Document in;
                std::string error;
                sdk::parse_json(input, in, error);
                const auto& messages = in["messages"];
                std::string system = messages[0]["content"].GetString();
                std::string last = messages[messages.Size() - 1]["content"].GetString();
                std::string content =
                    "turns=" + std::to_string(messages.Size()) +
                    " context=" + (system.find("Context:") != std::string::npos ? "yes" : "no") +
                    " last=" + last;
                rapidjson::Document out(rapidjson::kObjectType);
                out.AddMember("content", rapidjson::Value(content.c_str(), out.GetAllocator()),
                              out.GetAllocator());
                out.AddMember("model", "echo", out.GetAllocator());
                return sdk::to_json(out);
              });
    connector({"llm", "broken", "Always fails", {}},
              [](std::string_view, std::string_view) -> std::string {
                throw sdk::Error(PH_ERR_INTERNAL,
                                 "model server unreachable at 10.0.0.9 (secret-ish detail)");
              });
  }
};

}  // namespace

PLUGHOST_PLUGIN(FakeSources, "embed_fake_sources", "1.0.0", "Test double of rag and llm", "test")
