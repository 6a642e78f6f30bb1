// Document sources of an endpoint: a folder of text/Markdown/HTML/PDF files, rows of a SQL query
// on any SOCI database (which covers a dango warehouse table), or HTTP pages. Each load returns
// the source's documents, or an error that leaves its previously ingested documents in place.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <vector>

namespace rag {

struct SourceDocument {
  std::string id;  // unique within the endpoint
  std::string title;
  std::string text;
  std::string metadata_json = "{}";  // source metadata + front matter + source/path/title
};

struct SourceSpec {
  std::string name;  // config `name`, else "<type>-<index>"
  std::string type;  // folder | sql | http
  // folder
  std::string path;
  std::vector<std::string> extensions;
  bool recursive = true;
  // sql
  std::string url;
  std::string query;
  std::string id_column = "id";
  std::string text_column = "text";
  std::string title_column;
  std::vector<std::string> metadata_columns;  // empty: every other column
  // http
  std::vector<std::string> urls;
  double timeout_seconds = 30;
  // all
  std::string metadata_json = "{}";  // added to every document's metadata
};

struct SourceLoad {
  bool ok = true;
  std::string error;
  std::vector<SourceDocument> documents;
};

// Parses one `sources` entry (already schema-checked); throws std::invalid_argument naming the
// problem. `base_dir` resolves relative folder paths.
SourceSpec parse_source(const rapidjson::Value& v, size_t index, const std::string& base_dir);

SourceLoad load_source(const SourceSpec& spec);

// Text of a PDF through `pdftotext -layout <file> -` (poppler-utils); throws when the tool is
// missing or fails.
std::string pdf_text(const std::string& path);

}  // namespace rag
