#include "json_reader.h"

#include <glib.h>
#include <json-glib/json-glib.h>

#include <cmath>

#include "error.h"

namespace dofa {

JsonValue::JsonValue(std::shared_ptr<JsonParser> doc, JsonNode* node,
                     std::shared_ptr<const std::string> origin, std::string path)
    : doc_(std::move(doc)), node_(node), origin_(std::move(origin)), path_(std::move(path)) {}

JsonValue JsonValue::parse(const std::string& text, const std::string& origin) {
  std::shared_ptr<JsonParser> parser(json_parser_new(), g_object_unref);
  GError* err = nullptr;
  if (!json_parser_load_from_data(parser.get(), text.data(), gssize(text.size()), &err)) {
    std::string msg = origin + ": malformed JSON: " + (err ? err->message : "unknown error");
    if (err) g_error_free(err);
    throw Error(msg);
  }
  JsonNode* root = json_parser_get_root(parser.get());
  if (!root) throw Error(origin + ": empty JSON document");
  return JsonValue(parser, root, std::make_shared<const std::string>(origin), "");
}

JsonValue JsonValue::parse_file(const std::string& path) { return parse(read_file(path), path); }

void JsonValue::fail(const std::string& expected) const {
  throw Error(*origin_ + ": " + (path_.empty() ? std::string("top level") : path_) + ": " + expected);
}

bool JsonValue::is_object() const { return JSON_NODE_HOLDS_OBJECT(node_); }
bool JsonValue::is_array() const { return JSON_NODE_HOLDS_ARRAY(node_); }
bool JsonValue::is_null() const { return JSON_NODE_HOLDS_NULL(node_); }
bool JsonValue::is_string() const {
  return JSON_NODE_HOLDS_VALUE(node_) && json_node_get_value_type(node_) == G_TYPE_STRING;
}
bool JsonValue::is_number() const {
  if (!JSON_NODE_HOLDS_VALUE(node_)) return false;
  GType t = json_node_get_value_type(node_);
  return t == G_TYPE_INT64 || t == G_TYPE_DOUBLE;
}

bool JsonValue::has(const std::string& key) const {
  if (!is_object()) fail("expected an object");
  return json_object_has_member(json_node_get_object(node_), key.c_str());
}

JsonValue JsonValue::operator[](const std::string& key) const {
  std::string p = path_.empty() ? key : path_ + "." + key;
  if (!is_object()) fail("expected an object");
  JsonNode* n = json_object_get_member(json_node_get_object(node_), key.c_str());
  if (!n) throw Error(*origin_ + ": missing field '" + p + "'");
  return JsonValue(doc_, n, origin_, p);
}

JsonValue JsonValue::at(size_t i) const {
  if (!is_array()) fail("expected an array");
  JsonArray* a = json_node_get_array(node_);
  if (i >= json_array_get_length(a)) fail("index " + std::to_string(i) + " out of range");
  return JsonValue(doc_, json_array_get_element(a, guint(i)), origin_,
                   path_ + "[" + std::to_string(i) + "]");
}

size_t JsonValue::size() const {
  if (!is_array()) fail("expected an array");
  return json_array_get_length(json_node_get_array(node_));
}

std::vector<std::string> JsonValue::keys() const {
  if (!is_object()) fail("expected an object");
  std::vector<std::string> out;
  GList* members = json_object_get_members(json_node_get_object(node_));
  for (GList* l = members; l; l = l->next) out.emplace_back(static_cast<const char*>(l->data));
  g_list_free(members);
  return out;
}

long long JsonValue::as_int64() const {
  if (JSON_NODE_HOLDS_VALUE(node_)) {
    GType t = json_node_get_value_type(node_);
    if (t == G_TYPE_INT64) return json_node_get_int(node_);
    if (t == G_TYPE_DOUBLE) {
      double d = json_node_get_double(node_);
      if (std::floor(d) == d && std::fabs(d) < 9e15) return (long long)d;
    }
  }
  fail("expected an integer");
}

int JsonValue::as_int() const {
  long long v = as_int64();
  if (v < INT32_MIN || v > INT32_MAX) fail("integer out of range: " + std::to_string(v));
  return int(v);
}

double JsonValue::as_double() const {
  if (!is_number()) fail("expected a number");
  return json_node_get_value_type(node_) == G_TYPE_INT64 ? double(json_node_get_int(node_))
                                                         : json_node_get_double(node_);
}

bool JsonValue::as_bool() const {
  if (!JSON_NODE_HOLDS_VALUE(node_) || json_node_get_value_type(node_) != G_TYPE_BOOLEAN)
    fail("expected true or false");
  return json_node_get_boolean(node_);
}

std::string JsonValue::text() const {
  gchar* t = json_to_string(node_, false);
  std::string s = t;
  g_free(t);
  return s;
}

std::string JsonValue::as_string() const {
  if (!is_string()) fail("expected a string");
  return json_node_get_string(node_);
}

std::vector<int> JsonValue::as_int_list() const {
  std::vector<int> out;
  for (size_t i = 0, n = size(); i < n; ++i) out.push_back(at(i).as_int());
  return out;
}

std::vector<double> JsonValue::as_double_list() const {
  std::vector<double> out;
  for (size_t i = 0, n = size(); i < n; ++i) out.push_back(at(i).as_double());
  return out;
}

std::vector<std::string> JsonValue::as_string_list() const {
  std::vector<std::string> out;
  for (size_t i = 0, n = size(); i < n; ++i) out.push_back(at(i).as_string());
  return out;
}

int JsonValue::get(const std::string& key, int def) const { return has(key) ? (*this)[key].as_int() : def; }
double JsonValue::get(const std::string& key, double def) const {
  return has(key) ? (*this)[key].as_double() : def;
}
bool JsonValue::get(const std::string& key, bool def) const { return has(key) ? (*this)[key].as_bool() : def; }
std::string JsonValue::get(const std::string& key, const char* def) const {
  return has(key) ? (*this)[key].as_string() : std::string(def);
}

// --- writer -----------------------------------------------------------------

namespace {

// json-glib's pretty printer puts every number of an array on its own line
// (an OFA arch dict becomes 60 lines). Arrays of plain numbers go on one line. A '[' followed by a raw newline cannot sit
// inside a JSON string, so only arrays are touched.
std::string number_arrays_on_one_line(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '[' && i + 1 < text.size() && text[i + 1] == '\n') {
      size_t close = text.find(']', i);
      std::string body = close == std::string::npos ? "" : text.substr(i + 1, close - i - 1);
      if (!body.empty() && body.find_first_not_of("0123456789.-+eE, \n") == std::string::npos) {
        std::string joined;
        size_t start = 0;
        while (start <= body.size()) {
          size_t comma = body.find(',', start);
          std::string item = body.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
          size_t a = item.find_first_not_of(" \n"), b = item.find_last_not_of(" \n");
          if (a != std::string::npos) joined += (joined.empty() ? "" : ", ") + item.substr(a, b - a + 1);
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
        out += "[" + joined + "]";
        i = close + 1;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

}  // namespace


struct JsonWriter::Impl {
  JsonBuilder* b = json_builder_new();
  ~Impl() { g_object_unref(b); }
};

JsonWriter::JsonWriter() : impl_(new Impl) {}
JsonWriter::~JsonWriter() = default;
JsonWriter& JsonWriter::begin_object() { json_builder_begin_object(impl_->b); return *this; }
JsonWriter& JsonWriter::end_object() { json_builder_end_object(impl_->b); return *this; }
JsonWriter& JsonWriter::begin_array() { json_builder_begin_array(impl_->b); return *this; }
JsonWriter& JsonWriter::end_array() { json_builder_end_array(impl_->b); return *this; }
JsonWriter& JsonWriter::key(const std::string& k) { json_builder_set_member_name(impl_->b, k.c_str()); return *this; }
JsonWriter& JsonWriter::value(const std::string& v) { json_builder_add_string_value(impl_->b, v.c_str()); return *this; }
JsonWriter& JsonWriter::value(const char* v) { json_builder_add_string_value(impl_->b, v); return *this; }
JsonWriter& JsonWriter::value(double v) {
  if (std::isfinite(v)) json_builder_add_double_value(impl_->b, v);
  else json_builder_add_null_value(impl_->b);  // JSON has no NaN/inf
  return *this;
}
JsonWriter& JsonWriter::value(long long v) { json_builder_add_int_value(impl_->b, v); return *this; }
JsonWriter& JsonWriter::value(bool v) { json_builder_add_boolean_value(impl_->b, v); return *this; }
JsonWriter& JsonWriter::null() { json_builder_add_null_value(impl_->b); return *this; }
JsonWriter& JsonWriter::string_or_null(const std::string& v) { return v.empty() ? null() : value(v); }
JsonWriter& JsonWriter::int_list(const std::vector<int>& v) {
  begin_array();
  for (int x : v) value(x);
  return end_array();
}

JsonWriter& JsonWriter::raw(const std::string& json) {
  JsonNode* node = json_from_string(json.c_str(), nullptr);
  if (!node) throw Error("JsonWriter: not JSON: " + json.substr(0, 40));
  json_builder_add_value(impl_->b, node);  // takes ownership
  return *this;
}

std::string JsonWriter::str(bool pretty) const {
  JsonNode* root = json_builder_get_root(impl_->b);
  JsonGenerator* gen = json_generator_new();
  json_generator_set_root(gen, root);
  json_generator_set_pretty(gen, pretty);
  json_generator_set_indent(gen, 2);
  gchar* text = json_generator_to_data(gen, nullptr);
  std::string out = text;
  g_free(text);
  g_object_unref(gen);
  json_node_unref(root);
  return pretty ? number_arrays_on_one_line(out) + "\n" : out;
}

}  // namespace dofa
