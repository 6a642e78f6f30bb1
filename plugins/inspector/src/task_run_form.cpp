#include "task_run_form.hpp"

#include <plughost/json.hpp>

#include "text.hpp"

namespace inspector {
namespace {

constexpr size_t kNotesMaxLength = 280;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string form_decode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 &&
               hex_value(in[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return valid_utf8(out);
}

// Later values of a repeated field win, as QueryDict.get() does.
FormFields read_urlencoded(std::string_view body) {
  FormFields fields;
  size_t start = 0;
  while (start <= body.size()) {
    size_t amp = body.find('&', start);
    if (amp == std::string_view::npos) amp = body.size();
    std::string_view pair = body.substr(start, amp - start);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      std::string name = form_decode(pair.substr(0, eq));
      std::string value = eq == std::string_view::npos ? "" : form_decode(pair.substr(eq + 1));
      fields[name] = value;
    }
    start = amp + 1;
  }
  return fields;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string parameter(std::string_view header, std::string_view name) {
  std::string h = lower(header);
  size_t at = h.find(std::string(name) + "=");
  if (at == std::string::npos) return {};
  std::string_view v = header.substr(at + name.size() + 1);
  if (!v.empty() && v[0] == '"') {
    size_t close = v.find('"', 1);
    return std::string(v.substr(1, close == std::string_view::npos ? v.size() - 1 : close - 1));
  }
  size_t end = v.find_first_of("; \t");
  return std::string(v.substr(0, end));
}

FormFields read_multipart(std::string_view body, std::string_view content_type) {
  FormFields fields;
  std::string boundary = parameter(content_type, "boundary");
  if (boundary.empty()) return fields;
  std::string delimiter = "--" + boundary;
  size_t at = body.find(delimiter);
  while (at != std::string_view::npos) {
    size_t part = at + delimiter.size();
    if (body.substr(part, 2) == "--") break;
    size_t headers_end = body.find("\r\n\r\n", part);
    if (headers_end == std::string_view::npos) break;
    size_t next = body.find("\r\n" + delimiter, headers_end + 4);
    if (next == std::string_view::npos) break;
    std::string_view headers = body.substr(part, headers_end - part);
    std::string name = parameter(headers, "name");
    if (!name.empty() && parameter(headers, "filename").empty()) {
      fields[name] = valid_utf8(body.substr(headers_end + 4, next - headers_end - 4));
    }
    at = next + 2;
  }
  return fields;
}

// A JSON body's members as form values: strings as they are, booleans as "true"/"false",
// numbers as written, null as absent.
std::optional<FormFields> read_json(std::string_view body) {
  rapidjson::Document d;
  std::string error;
  if (!plughost::sdk::parse_json(body, d, error) || !d.IsObject()) return std::nullopt;
  FormFields fields;
  for (const auto& m : d.GetObject()) {
    std::string name = m.name.GetString();
    if (m.value.IsString()) {
      fields[name] = std::string(m.value.GetString(), m.value.GetStringLength());
    } else if (m.value.IsBool()) {
      fields[name] = m.value.GetBool() ? "true" : "false";
    } else if (m.value.IsNumber()) {
      fields[name] = m.value.IsDouble() ? std::to_string(m.value.GetDouble())
                                        : plughost::sdk::to_json(m.value);
    } else if (!m.value.IsNull()) {
      fields[name] = plughost::sdk::to_json(m.value);
    }
  }
  return fields;
}

const std::string* field(const FormFields& fields, const char* name) {
  auto it = fields.find(name);
  return it == fields.end() ? nullptr : &it->second;
}

}  // namespace

std::optional<FormFields> read_form(std::string_view body, std::string_view content_type) {
  std::string type = lower(content_type);
  if (type.find("json") != std::string::npos) return read_json(body);
  if (type.rfind("multipart/form-data", 0) == 0) return read_multipart(body, content_type);
  return read_urlencoded(body);
}

TaskRunValidation validate_task_run(const FormFields& fields, const Settings& settings) {
  TaskRunValidation out;
  TaskRunRequest request;
  const char* kRequired = "This field is required.";
  const char* kInvalidChoice =
      "Select a valid choice. That choice is not one of the available choices.";

  const std::string* workspace = field(fields, "workspace");
  if (!workspace || workspace->empty()) {
    out.errors.push_back({"workspace", {kRequired}});
  } else if (!(request.workspace = settings.workspace(*workspace))) {
    out.errors.push_back({"workspace", {kInvalidChoice}});
  }
  const std::string* preset = field(fields, "preset");
  if (!preset || preset->empty()) {
    out.errors.push_back({"preset", {kRequired}});
  } else if (!(request.preset = settings.preset(*preset))) {
    out.errors.push_back({"preset", {kInvalidChoice}});
  }
  if (const std::string* notes = field(fields, "notes")) {
    request.notes = std::string(trim(*notes));
    size_t length = code_points(request.notes);
    if (length > kNotesMaxLength) {
      out.errors.push_back({"notes",
                            {"Ensure this value has at most " + std::to_string(kNotesMaxLength) +
                             " characters (it has " + std::to_string(length) + ")."}});
    }
  }
  const std::string* confirm = field(fields, "confirm_safe");
  bool confirmed = confirm && !confirm->empty() && lower(*confirm) != "false";
  if (!confirmed) {
    out.errors.push_back({"confirm_safe", {"Confirmation is required to dispatch a task."}});
  }
  if (out.errors.empty()) out.request = request;
  return out;
}

std::string errors_json(const FieldErrors& errors) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  rapidjson::Value map(rapidjson::kObjectType);
  for (const auto& [name, messages] : errors) {
    rapidjson::Value list(rapidjson::kArrayType);
    for (const auto& m : messages) list.PushBack(rapidjson::Value(m.c_str(), a), a);
    map.AddMember(rapidjson::Value(name.c_str(), a), list, a);
  }
  d.AddMember("errors", map, a);
  return plughost::sdk::to_json(d);
}

}  // namespace inspector
