// Typed access to a JSON document (json-glib) whose errors name the file and
// the field path, e.g. "models/x.json: stages[2].width: expected an integer".
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "files.h"

typedef struct _JsonNode JsonNode;
typedef struct _JsonParser JsonParser;

namespace dofa {

class JsonValue {
 public:
  // Parses text; origin (a file name) prefixes every error.
  static JsonValue parse(const std::string& text, const std::string& origin);
  static JsonValue parse_file(const std::string& path);

  bool is_object() const;
  bool is_array() const;
  bool is_null() const;
  bool is_string() const;
  bool is_number() const;
  bool has(const std::string& key) const;
  JsonValue operator[](const std::string& key) const;  // required member
  JsonValue at(size_t i) const;
  size_t size() const;  // array length
  std::vector<std::string> keys() const;

  int as_int() const;
  long long as_int64() const;
  double as_double() const;
  bool as_bool() const;
  std::string as_string() const;
  std::string text() const;  // this value as compact JSON text
  std::vector<int> as_int_list() const;
  std::vector<double> as_double_list() const;
  std::vector<std::string> as_string_list() const;

  // Optional members with defaults.
  int get(const std::string& key, int def) const;
  double get(const std::string& key, double def) const;
  bool get(const std::string& key, bool def) const;
  std::string get(const std::string& key, const char* def) const;

  const std::string& where() const { return path_; }
  const std::string& origin() const { return *origin_; }
  [[noreturn]] void fail(const std::string& expected) const;

 private:
  JsonValue(std::shared_ptr<JsonParser> doc, JsonNode* node, std::shared_ptr<const std::string> origin,
            std::string path);
  std::shared_ptr<JsonParser> doc_;
  JsonNode* node_ = nullptr;
  std::shared_ptr<const std::string> origin_;
  std::string path_;
};

// Builds JSON text with json-glib's generator (pretty, 2 spaces).
class JsonWriter {
 public:
  JsonWriter();
  ~JsonWriter();
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(const std::string& k);
  JsonWriter& value(const std::string& v);
  JsonWriter& value(const char* v);
  JsonWriter& value(double v);
  JsonWriter& value(long long v);
  JsonWriter& value(int v) { return value((long long)v); }
  JsonWriter& value(bool v);
  JsonWriter& null();
  JsonWriter& string_or_null(const std::string& v);  // "" is written as null
  JsonWriter& int_list(const std::vector<int>& v);
  JsonWriter& raw(const std::string& json);  // a value given as JSON text
  std::string str(bool pretty = true) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dofa
