#include "legacy_unpickler.h"

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include "error.h"

namespace dofa {
namespace {

// torch.save's first pickle is this number (torch/serialization.py
// MAGIC_NUMBER 0x1950a86a20f9469cfc6c), written as LONG1 with these 10
// little-endian bytes.
const char kMagic[10] = {'\x6c', '\xfc', '\x9c', '\x46', '\xf9', '\x20', '\x6a', '\xa8', '\x50', '\x19'};
constexpr int64_t kProtocolVersion = 1001;  // torch/serialization.py PROTOCOL_VERSION
constexpr int kMaxNesting = 100;            // deeper objects are refused, not recursed into

// Pickle opcodes (Lib/pickle.py), only those legacy checkpoints use.
enum Op : unsigned char {
  MARK = '(', STOP = '.', BININT = 'J', BININT1 = 'K', BININT2 = 'M', NONE = 'N',
  BINPERSID = 'Q', REDUCE = 'R', BINSTRING = 'T', SHORT_BINSTRING = 'U', BINUNICODE = 'X',
  APPEND = 'a', BUILD = 'b', GLOBAL = 'c', APPENDS = 'e', BINGET = 'h', LONG_BINGET = 'j',
  EMPTY_LIST = ']', BINPUT = 'q', LONG_BINPUT = 'r', SETITEM = 's', TUPLE = 't', EMPTY_TUPLE = ')',
  SETITEMS = 'u', BINFLOAT = 'G', EMPTY_DICT = '}',
  PROTO = 0x80, TUPLE1 = 0x85, TUPLE2 = 0x86, TUPLE3 = 0x87, NEWTRUE = 0x88, NEWFALSE = 0x89,
  LONG1 = 0x8a,
  // protocol 4 (torch.save(..., pickle_protocol=4))
  SHORT_BINUNICODE = 0x8c, STACK_GLOBAL = 0x93, MEMOIZE = 0x94, FRAME = 0x95,
};

// The only globals a checkpoint needs; anything else is refused by name.
enum class Global { OrderedDict, RebuildTensorV2, FloatStorage, LongStorage };

struct Storage {
  std::string key;
  at::ScalarType dtype = at::kFloat;
  int64_t numel = 0;
  at::Tensor data;  // set once the data section has been read
};

// A value while unpickling: the public kinds plus globals, storages and
// integers too large for int64 (the magic number).
struct Node {
  enum class Kind { None, Bool, Int, BigInt, Float, String, Tuple, List, Dict, Global, Storage, Tensor };
  Kind kind = Kind::None;
  bool boolean = false;
  int64_t integer = 0;
  double real = 0;
  std::string text;  // String; BigInt payload; Global name
  Global global = Global::OrderedDict;
  std::vector<Node*> items;  // edges are plain pointers: the Reader owns every node,
  std::vector<std::pair<Node*, Node*>> entries;  // so hostile self-references cannot leak
  bool ordered = false;  // a collections.OrderedDict
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;
  std::vector<int64_t> sizes, strides;
};
using NodePtr = Node*;

const char* node_kind_name(Node::Kind k) {
  switch (k) {
    case Node::Kind::None: return "None";
    case Node::Kind::Bool: return "bool";
    case Node::Kind::Int: return "int";
    case Node::Kind::BigInt: return "int (over 64 bits)";
    case Node::Kind::Float: return "float";
    case Node::Kind::String: return "str";
    case Node::Kind::Tuple: return "tuple";
    case Node::Kind::List: return "list";
    case Node::Kind::Dict: return "dict";
    case Node::Kind::Global: return "global";
    case Node::Kind::Storage: return "storage";
    case Node::Kind::Tensor: return "tensor";
  }
  return "?";
}

class Reader {
 public:
  Reader(const std::string& bytes, const std::string& origin) : b_(bytes), origin_(origin) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(origin_ + ": " + what + " (at byte " + std::to_string(pos_) + ")");
  }
  [[noreturn]] void fail_file(const std::string& what) const { throw Error(origin_ + ": " + what); }

  size_t pos() const { return pos_; }
  size_t remaining() const { return b_.size() - pos_; }

  std::string take(uint64_t n) {
    if (n > remaining())
      fail("truncated file: needs " + std::to_string(n) + " more bytes, " + std::to_string(remaining()) +
           " left of " + std::to_string(b_.size()));
    std::string s = b_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  const char* take_raw(uint64_t n) {
    if (n > remaining())
      fail("truncated file: needs " + std::to_string(n) + " more bytes, " + std::to_string(remaining()) +
           " left of " + std::to_string(b_.size()));
    const char* p = b_.data() + pos_;
    pos_ += n;
    return p;
  }
  uint64_t uint_le(int n) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(take_raw(n));
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
  }
  std::string line() {
    size_t end = b_.find('\n', pos_);
    if (end == std::string::npos) fail("truncated file: unterminated GLOBAL name");
    std::string s = b_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }

  // Runs one pickle up to its STOP and returns the object.
  NodePtr pickle();

  NodePtr make(Node::Kind k) {
    nodes_.push_back(std::make_unique<Node>());
    nodes_.back()->kind = k;
    return nodes_.back().get();
  }

  // Storages by key, shared by all pickles of the file.
  std::map<std::string, std::shared_ptr<Storage>> storages;

 private:
  NodePtr pop() {
    if (stack_.size() <= floor()) fail("corrupt pickle: stack underflow");
    NodePtr n = stack_.back();
    stack_.pop_back();
    return n;
  }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  std::vector<NodePtr> pop_mark() {
    if (marks_.empty()) fail("corrupt pickle: no MARK");
    size_t m = marks_.back();
    marks_.pop_back();
    std::vector<NodePtr> items(stack_.begin() + m, stack_.end());
    stack_.resize(m);
    return items;
  }
  NodePtr& top() {
    if (stack_.size() <= floor()) fail("corrupt pickle: stack underflow");
    return stack_.back();
  }
  void push(NodePtr n) { stack_.push_back(n); }
  void memo_put(uint32_t i) { memo_[i] = top(); }
  NodePtr memo_get(uint32_t i) {
    auto it = memo_.find(i);
    if (it == memo_.end()) fail("corrupt pickle: memo entry " + std::to_string(i) + " undefined");
    return it->second;
  }

  NodePtr global(const std::string& module, const std::string& name);
  NodePtr reduce(const NodePtr& fn, const NodePtr& args);
  NodePtr persistent_storage(const NodePtr& pid);
  void set_items(const NodePtr& dict, const std::vector<NodePtr>& kv);
  void append_items(const NodePtr& list, const std::vector<NodePtr>& items);

  const std::string& b_;
  std::string origin_;
  size_t pos_ = 0;
  std::vector<NodePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint32_t, NodePtr> memo_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

NodePtr Reader::global(const std::string& module, const std::string& name) {
  auto g = make(Node::Kind::Global);
  g->text = module + "." + name;
  if (module == "collections" && name == "OrderedDict") {
    g->global = Global::OrderedDict;
  } else if (module == "torch._utils" && name == "_rebuild_tensor_v2") {
    g->global = Global::RebuildTensorV2;
  } else if (module == "torch" && name == "FloatStorage") {
    g->global = Global::FloatStorage;
  } else if (module == "torch" && name == "LongStorage") {
    g->global = Global::LongStorage;
  } else if (module == "torch" && name.size() > 7 && name.compare(name.size() - 7, 7, "Storage") == 0) {
    fail("unsupported storage type torch." + name + " (only torch.FloatStorage and torch.LongStorage)");
  } else {
    fail("refused global '" + g->text +
         "' (only collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch.FloatStorage and "
         "torch.LongStorage are allowed)");
  }
  return g;
}

// pid = ('storage', <storage class>, key, location, numel, view_metadata)
// (torch/serialization.py _legacy_save persistent_id).
NodePtr Reader::persistent_storage(const NodePtr& pid) {
  const auto& t = pid->items;
  if (pid->kind != Node::Kind::Tuple || t.size() != 6 || t[0]->kind != Node::Kind::String ||
      t[0]->text != "storage")
    fail("unsupported persistent id (expected a ('storage', type, key, location, numel, view) tuple)");
  if (t[1]->kind != Node::Kind::Global ||
      (t[1]->global != Global::FloatStorage && t[1]->global != Global::LongStorage))
    fail("persistent id: expected torch.FloatStorage or torch.LongStorage");
  if (t[2]->kind != Node::Kind::String || t[3]->kind != Node::Kind::String || t[4]->kind != Node::Kind::Int ||
      t[4]->integer < 0)
    fail("persistent id: expected a string key, a string location and a count");
  if (t[5]->kind != Node::Kind::None) fail("storage views (view_metadata) are not supported");
  at::ScalarType dtype = t[1]->global == Global::FloatStorage ? at::kFloat : at::kLong;
  auto& s = storages[t[2]->text];
  if (!s) {
    s = std::make_shared<Storage>();
    s->key = t[2]->text;
    s->dtype = dtype;
    s->numel = t[4]->integer;
  } else if (s->dtype != dtype || s->numel != t[4]->integer) {
    fail("storage '" + s->key + "' is declared twice with different types or sizes");
  }
  auto n = make(Node::Kind::Storage);
  n->storage = s;
  return n;
}

std::vector<int64_t> int_tuple(const NodePtr& n, bool& ok) {
  std::vector<int64_t> v;
  ok = n->kind == Node::Kind::Tuple;
  if (!ok) return v;
  for (const auto& i : n->items) {
    if (i->kind != Node::Kind::Int) {
      ok = false;
      return v;
    }
    v.push_back(i->integer);
  }
  return v;
}

NodePtr Reader::reduce(const NodePtr& fn, const NodePtr& args) {
  if (fn->kind != Node::Kind::Global) fail("REDUCE of a " + std::string(node_kind_name(fn->kind)) + " is refused");
  if (args->kind != Node::Kind::Tuple) fail("corrupt pickle: REDUCE arguments are not a tuple");
  const auto& a = args->items;
  switch (fn->global) {
    case Global::OrderedDict: {
      if (!a.empty()) fail("collections.OrderedDict(...) with arguments is refused");
      auto d = make(Node::Kind::Dict);
      d->ordered = true;
      return d;
    }
    case Global::RebuildTensorV2: {
      // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
      // (torch/_utils.py _rebuild_tensor_v2).
      bool sizes_ok = false, strides_ok = false;
      if (a.size() < 6 || a.size() > 7) fail("_rebuild_tensor_v2: expected 6 arguments");
      auto sizes = int_tuple(a[2], sizes_ok);
      auto strides = int_tuple(a[3], strides_ok);
      if (a[0]->kind != Node::Kind::Storage || a[1]->kind != Node::Kind::Int || !sizes_ok || !strides_ok ||
          sizes.size() != strides.size() || a[4]->kind != Node::Kind::Bool)
        fail("_rebuild_tensor_v2: expected (storage, offset, size tuple, stride tuple, requires_grad, hooks)");
      if (a[5]->kind != Node::Kind::Dict || !a[5]->entries.empty())
        fail("_rebuild_tensor_v2: backward hooks are refused");
      if (a.size() == 7 && a[6]->kind != Node::Kind::None) fail("_rebuild_tensor_v2: tensor metadata is refused");
      auto t = make(Node::Kind::Tensor);
      t->storage = a[0]->storage;
      t->offset = a[1]->integer;
      t->sizes = std::move(sizes);
      t->strides = std::move(strides);
      return t;
    }
    default:
      fail("calling " + fn->text + " is refused");
  }
}

void Reader::set_items(const NodePtr& dict, const std::vector<NodePtr>& kv) {
  if (dict->kind != Node::Kind::Dict) fail("corrupt pickle: SETITEM on a " + std::string(node_kind_name(dict->kind)));
  if (kv.size() % 2) fail("corrupt pickle: SETITEMS with an odd number of items");
  for (size_t i = 0; i < kv.size(); i += 2) dict->entries.emplace_back(kv[i], kv[i + 1]);
}

void Reader::append_items(const NodePtr& list, const std::vector<NodePtr>& items) {
  if (list->kind != Node::Kind::List) fail("corrupt pickle: APPEND on a " + std::string(node_kind_name(list->kind)));
  list->items.insert(list->items.end(), items.begin(), items.end());
}

NodePtr Reader::pickle() {
  stack_.clear();
  marks_.clear();
  memo_.clear();  // each pickle of the file has its own memo (a new Unpickler per pickle)
  for (;;) {
    if (remaining() == 0) fail("truncated file: pickle without STOP");
    unsigned char op = static_cast<unsigned char>(b_[pos_++]);
    switch (op) {
      case PROTO: {
        uint64_t v = uint_le(1);
        if (v > 4) fail("unsupported pickle protocol " + std::to_string(v));
        break;
      }
      case FRAME: uint_le(8); break;  // frames only group opcodes
      case STOP: {
        if (!marks_.empty() || stack_.size() != 1) fail("corrupt pickle: STOP with an unbalanced stack");
        NodePtr r = stack_.back();
        stack_.clear();
        memo_.clear();
        return r;
      }
      case MARK: marks_.push_back(stack_.size()); break;
      case NONE: push(make(Node::Kind::None)); break;
      case NEWTRUE:
      case NEWFALSE: {
        auto n = make(Node::Kind::Bool);
        n->boolean = op == NEWTRUE;
        push(n);
        break;
      }
      case BININT: {
        auto n = make(Node::Kind::Int);
        n->integer = static_cast<int32_t>(static_cast<uint32_t>(uint_le(4)));
        push(n);
        break;
      }
      case BININT1:
      case BININT2: {
        auto n = make(Node::Kind::Int);
        n->integer = static_cast<int64_t>(uint_le(op == BININT1 ? 1 : 2));
        push(n);
        break;
      }
      case LONG1: {
        uint64_t len = uint_le(1);
        std::string raw = take(len);
        if (len <= 8) {
          uint64_t v = 0;
          for (size_t i = len; i-- > 0;) v = (v << 8) | static_cast<unsigned char>(raw[i]);
          if (len > 0 && len < 8 && (static_cast<unsigned char>(raw[len - 1]) & 0x80))
            v |= ~uint64_t(0) << (8 * len);  // sign-extend two's complement
          auto n = make(Node::Kind::Int);
          n->integer = static_cast<int64_t>(v);
          push(n);
        } else {
          auto n = make(Node::Kind::BigInt);
          n->text = raw;
          push(n);
        }
        break;
      }
      case BINFLOAT: {
        const unsigned char* p = reinterpret_cast<const unsigned char*>(take_raw(8));
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];  // big-endian
        auto n = make(Node::Kind::Float);
        std::memcpy(&n->real, &bits, 8);
        push(n);
        break;
      }
      case BINUNICODE:
      case SHORT_BINUNICODE:
      case BINSTRING:
      case SHORT_BINSTRING: {
        uint64_t len = uint_le(op == BINUNICODE || op == BINSTRING ? 4 : 1);
        auto n = make(Node::Kind::String);
        n->text = take(len);
        push(n);
        break;
      }
      case EMPTY_DICT: push(make(Node::Kind::Dict)); break;
      case EMPTY_LIST: push(make(Node::Kind::List)); break;
      case EMPTY_TUPLE: push(make(Node::Kind::Tuple)); break;
      case TUPLE: {
        auto n = make(Node::Kind::Tuple);
        n->items = pop_mark();
        push(n);
        break;
      }
      case TUPLE1:
      case TUPLE2:
      case TUPLE3: {
        auto n = make(Node::Kind::Tuple);
        n->items.resize(op - TUPLE1 + 1);
        for (size_t i = n->items.size(); i-- > 0;) n->items[i] = pop();
        push(n);
        break;
      }
      case BINPUT: memo_put(static_cast<uint32_t>(uint_le(1))); break;
      case LONG_BINPUT: memo_put(static_cast<uint32_t>(uint_le(4))); break;
      case MEMOIZE: memo_put(static_cast<uint32_t>(memo_.size())); break;
      case BINGET: push(memo_get(static_cast<uint32_t>(uint_le(1)))); break;
      case LONG_BINGET: push(memo_get(static_cast<uint32_t>(uint_le(4)))); break;
      case GLOBAL: {
        std::string module = line();
        std::string name = line();
        push(global(module, name));
        break;
      }
      case STACK_GLOBAL: {
        NodePtr name = pop();
        NodePtr module = pop();
        if (name->kind != Node::Kind::String || module->kind != Node::Kind::String)
          fail("corrupt pickle: STACK_GLOBAL needs two strings");
        push(global(module->text, name->text));
        break;
      }
      case REDUCE: {
        NodePtr args = pop();
        NodePtr fn = pop();
        push(reduce(fn, args));
        break;
      }
      case BUILD: {
        // Only OrderedDict's instance __dict__ (state_dict()'s `_metadata`),
        // which carries no tensors and is dropped.
        NodePtr state = pop();
        NodePtr obj = top();
        if (obj->kind != Node::Kind::Dict || !obj->ordered || state->kind != Node::Kind::Dict)
          fail("BUILD (object state) is refused except on collections.OrderedDict");
        break;
      }
      case BINPERSID: push(persistent_storage(pop())); break;
      case SETITEM: {
        NodePtr v = pop();
        NodePtr k = pop();
        set_items(top(), {k, v});
        break;
      }
      case SETITEMS: {
        auto kv = pop_mark();
        set_items(top(), kv);
        break;
      }
      case APPEND: {
        NodePtr v = pop();
        append_items(top(), {v});
        break;
      }
      case APPENDS: {
        auto items = pop_mark();
        append_items(top(), items);
        break;
      }
      default: {
        --pos_;
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", op);
        fail(std::string("unsupported pickle opcode ") + hex);
      }
    }
  }
}

// Turns the unpickled tree into public values, materialising tensors.
class Converter {
 public:
  explicit Converter(const Reader& r) : r_(r) {}

  LegacyValuePtr convert(const NodePtr& n, int depth) {
    if (depth > kMaxNesting) r_.fail_file("object nested deeper than " + std::to_string(kMaxNesting) + " levels");
    auto it = done_.find(n);
    if (it != done_.end()) return it->second;
    if (active_.count(n)) r_.fail_file("a recursive (self-containing) object is refused");
    active_.insert(n);
    auto v = std::make_shared<LegacyValue>();
    switch (n->kind) {
      case Node::Kind::None: v->kind = LegacyValue::Kind::None; break;
      case Node::Kind::Bool:
        v->kind = LegacyValue::Kind::Bool;
        v->boolean = n->boolean;
        break;
      case Node::Kind::Int:
        v->kind = LegacyValue::Kind::Int;
        v->integer = n->integer;
        break;
      case Node::Kind::Float:
        v->kind = LegacyValue::Kind::Float;
        v->real = n->real;
        break;
      case Node::Kind::String:
        v->kind = LegacyValue::Kind::String;
        v->text = n->text;
        break;
      case Node::Kind::Tuple:
      case Node::Kind::List:
        v->kind = n->kind == Node::Kind::Tuple ? LegacyValue::Kind::Tuple : LegacyValue::Kind::List;
        for (const auto& i : n->items) v->items.push_back(convert(i, depth + 1));
        break;
      case Node::Kind::Dict:
        v->kind = LegacyValue::Kind::Dict;
        for (const auto& [k, x] : n->entries) v->entries.emplace_back(convert(k, depth + 1), convert(x, depth + 1));
        break;
      case Node::Kind::Tensor:
        v->kind = LegacyValue::Kind::Tensor;
        v->tensor = tensor(*n);
        break;
      case Node::Kind::BigInt: r_.fail_file("an integer wider than 64 bits is refused");
      case Node::Kind::Global: r_.fail_file("a bare class or function object (" + n->text + ") is refused");
      case Node::Kind::Storage: r_.fail_file("a bare storage (not inside a tensor) is refused");
    }
    active_.erase(n);
    done_[n] = v;
    return v;
  }

 private:
  at::Tensor tensor(const Node& n) const {
    const Storage& s = *n.storage;
    std::string what = "tensor on storage '" + s.key + "'";
    if (n.offset < 0) r_.fail_file(what + ": negative storage offset");
    // Last element reached: offset + sum((size-1)*stride); 128-bit so that hostile sizes cannot overflow.
    __int128 last = n.offset;
    bool empty = false;
    for (size_t i = 0; i < n.sizes.size(); ++i) {
      if (n.sizes[i] < 0 || n.strides[i] < 0) r_.fail_file(what + ": negative size or stride");
      if (n.sizes[i] == 0) empty = true;
      else last += static_cast<__int128>(n.sizes[i] - 1) * n.strides[i];
    }
    if (empty ? n.offset > s.numel : last >= s.numel)
      r_.fail_file(what + ": size/stride/offset reach past its " + std::to_string(s.numel) + " elements");
    return s.data.as_strided(n.sizes, n.strides, n.offset);
  }

  const Reader& r_;
  std::unordered_map<const Node*, LegacyValuePtr> done_;
  std::set<const Node*> active_;
};

}  // namespace

const char* LegacyValue::kind_name() const {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Tensor: return "tensor";
  }
  return "?";
}

const LegacyValue* LegacyValue::find(const std::string& key) const {
  for (const auto& [k, v] : entries)
    if (k->kind == Kind::String && k->text == key) return v.get();
  return nullptr;
}

bool has_legacy_magic(const std::string& head) {
  // PROTO n [FRAME len] LONG1 10 <magic>
  size_t p = 2;
  if (head.size() < 2 || static_cast<unsigned char>(head[0]) != PROTO) return false;
  if (head.size() > p && static_cast<unsigned char>(head[p]) == FRAME) p += 9;
  return head.size() >= p + 12 && static_cast<unsigned char>(head[p]) == LONG1 && head[p + 1] == 10 &&
         std::memcmp(head.data() + p + 2, kMagic, 10) == 0;
}

LegacyValuePtr parse_legacy_torch(const std::string& bytes, const std::string& origin) {
  if (!has_legacy_magic(bytes))
    throw Error(origin + ": bad magic number: not a legacy torch.save file (expected a pickled "
                         "0x1950a86a20f9469cfc6c at the start)");
  Reader r(bytes, origin);
  NodePtr magic = r.pickle();
  if (magic->kind != Node::Kind::BigInt || magic->text != std::string(kMagic, 10))
    r.fail_file("bad magic number: not a legacy torch.save file");

  NodePtr version = r.pickle();
  if (version->kind != Node::Kind::Int || version->integer != kProtocolVersion)
    r.fail_file("unsupported legacy protocol_version (expected 1001)");

  NodePtr sys_info = r.pickle();
  const Node* little = nullptr;
  if (sys_info->kind == Node::Kind::Dict)
    for (const auto& [k, v] : sys_info->entries)
      if (k->kind == Node::Kind::String && k->text == "little_endian") little = v;
  if (!little || little->kind != Node::Kind::Bool)
    r.fail_file("sys_info lacks little_endian (expected a legacy torch.save header)");
  if (!little->boolean) r.fail_file("big-endian file (sys_info little_endian is False); only little-endian is supported");

  NodePtr object = r.pickle();

  NodePtr keys = r.pickle();
  if (keys->kind != Node::Kind::List) r.fail_file("the storage key list is not a list");
  std::set<std::string> seen;
  for (const auto& k : keys->items) {
    if (k->kind != Node::Kind::String) r.fail_file("the storage key list holds a non-string");
    auto it = r.storages.find(k->text);
    if (it == r.storages.end()) r.fail_file("storage '" + k->text + "' has data but no tensor refers to it");
    if (!seen.insert(k->text).second) r.fail_file("storage '" + k->text + "' is listed twice");
    Storage& s = *it->second;
    // int64 LE element count, then the raw LE elements (torch _write_file).
    int64_t numel = static_cast<int64_t>(r.uint_le(8));
    if (numel != s.numel)
      r.fail("storage '" + s.key + "' holds " + std::to_string(numel) + " elements, its tensors declared " +
             std::to_string(s.numel));
    size_t elem = at::elementSize(s.dtype);
    if (static_cast<uint64_t>(numel) > r.remaining() / elem)
      r.fail("truncated file: storage '" + s.key + "' needs " + std::to_string(numel * elem) + " bytes, " +
             std::to_string(r.remaining()) + " left");
    s.data = at::empty({numel}, at::TensorOptions().dtype(s.dtype));
    std::memcpy(s.data.data_ptr(), r.take_raw(numel * elem), numel * elem);
  }
  for (const auto& [key, s] : r.storages)
    if (!seen.count(key)) r.fail_file("truncated file: storage '" + key + "' has no data");
  if (r.remaining() != 0)
    r.fail(std::to_string(r.remaining()) + " unexpected bytes after the last storage");

  Converter c(r);
  return c.convert(object, 0);
}

}  // namespace dofa
