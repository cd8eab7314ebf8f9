// experiments/hparams/hparams.cpp — Value rendering/parsing and the Hparams bundle.
#include "experiments/hparams/hparams.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "engine/errors.h"
#include "experiments/pyfmt.h"

namespace sdd::exp {

const char* field_type_name(FieldType t) {
  switch (t) {
    case FieldType::Str: return "str";
    case FieldType::Int: return "int";
    case FieldType::Float: return "float";
    case FieldType::Bool: return "bool";
    case FieldType::Bundle: return "Hparams";
  }
  return "?";
}

Value Value::none_of(FieldType t) {
  Value v;
  v.type = t;
  return v;
}
Value Value::str(std::string s) {
  Value v = none_of(FieldType::Str);
  v.none = false;
  v.s = std::move(s);
  return v;
}
Value Value::integer(int64_t i) {
  Value v = none_of(FieldType::Int);
  v.none = false;
  v.i = i;
  return v;
}
Value Value::flt(double f) {
  Value v = none_of(FieldType::Float);
  v.none = false;
  v.f = f;
  return v;
}
Value Value::boolean(bool b) {
  Value v = none_of(FieldType::Bool);
  v.none = false;
  v.b = b;
  return v;
}
Value Value::bundle(const Hparams& h) {
  Value v = none_of(FieldType::Bundle);
  v.none = false;
  v.h = std::make_shared<Hparams>(h);
  return v;
}

bool Value::truthy() const {
  if (none) return false;
  switch (type) {
    case FieldType::Str: return !s.empty();
    case FieldType::Int: return i != 0;
    case FieldType::Float: return f != 0.0;
    case FieldType::Bool: return b;
    case FieldType::Bundle: return true;
  }
  return false;
}

std::string Value::repr() const {
  if (none) return "None";
  switch (type) {
    case FieldType::Str: return "'" + s + "'";
    case FieldType::Bundle: return h->canonical();
    default: return str_();
  }
}

std::string Value::str_() const {
  if (none) return "None";
  switch (type) {
    case FieldType::Str: return s;
    case FieldType::Int: return std::to_string(i);
    case FieldType::Float: return py_float_repr(f);
    case FieldType::Bool: return b ? "True" : "False";
    case FieldType::Bundle: return h->canonical();
  }
  return "";
}

bool Value::operator==(const Value& o) const {
  if (none || o.none) return none == o.none;
  if (type != o.type) return false;
  switch (type) {
    case FieldType::Str: return s == o.s;
    case FieldType::Int: return i == o.i;
    case FieldType::Float: return f == o.f;
    case FieldType::Bool: return b == o.b;
    case FieldType::Bundle: return h->canonical() == o.h->canonical();
  }
  return false;
}

Value parse_value(FieldType t, const std::string& text, const std::string& what) {
  switch (t) {
    case FieldType::Str: return Value::str(text);
    case FieldType::Int: {
      // Python int(): optional sign, digits (surrounding spaces and '_' separators are rare; reject them).
      errno = 0;
      char* end = nullptr;
      const long long v = std::strtoll(text.c_str(), &end, 10);
      SDD_USER_CHECK(!text.empty() && end && *end == '\0' && errno == 0 && !std::isspace((unsigned char)text[0]),
                     what << ": invalid int value '" << text << "'; give a whole number");
      return Value::integer(v);
    }
    case FieldType::Float: {
      errno = 0;
      char* end = nullptr;
      const double v = std::strtod(text.c_str(), &end);
      bool ok = !text.empty() && end && *end == '\0' && !std::isspace((unsigned char)text[0]);
      // strtod accepts hex floats, which Python's float() does not.
      if (text.find("0x") != std::string::npos || text.find("0X") != std::string::npos) ok = false;
      SDD_USER_CHECK(ok, what << ": invalid float value '" << text << "'; give a number such as 0.1 or 1e-4");
      return Value::flt(v);
    }
    case FieldType::Bool: {
      if (text == "True" || text == "true" || text == "1") return Value::boolean(true);
      if (text == "False" || text == "false" || text == "0") return Value::boolean(false);
      SDD_USER_FAIL(what << ": invalid bool value '" << text << "'; give true or false");
    }
    case FieldType::Bundle: break;
  }
  SDD_FAIL("parse_value: a nested bundle cannot be parsed from text (" << what << ")");
}

Hparams& Hparams::add(const std::string& name, Value def, const std::string& help) {
  SDD_CHECK(!has(name), "duplicate field " << name);
  Field f;
  f.name = name;
  f.type = def.type;
  f.value = def;
  f.default_value = def;
  f.help = help;
  fields_.push_back(std::move(f));
  return *this;
}

Hparams& Hparams::add_required(const std::string& name, FieldType type, const std::string& help) {
  SDD_CHECK(!has(name), "duplicate field " << name);
  Field f;
  f.name = name;
  f.type = type;
  f.value = Value::none_of(type);
  f.required = true;
  f.default_value = Value::none_of(type);
  f.help = help;
  fields_.push_back(std::move(f));
  return *this;
}

const Field* Hparams::find(const std::string& name) const {
  for (const auto& f : fields_)
    if (f.name == name) return &f;
  return nullptr;
}
Field* Hparams::find(const std::string& name) {
  for (auto& f : fields_)
    if (f.name == name) return &f;
  return nullptr;
}
const Field& Hparams::field(const std::string& name) const {
  const Field* f = find(name);
  SDD_CHECK(f != nullptr, title_ << " has no field " << name);
  return *f;
}

void Hparams::set(const std::string& name, const Value& v) {
  Field* f = find(name);
  SDD_CHECK(f != nullptr, title_ << " has no field " << name);
  SDD_CHECK(v.type == f->type, "field " << name << " is " << field_type_name(f->type) << ", got "
                                        << field_type_name(v.type));
  f->value = v;
}
void Hparams::set_none(const std::string& name) {
  Field* f = find(name);
  SDD_CHECK(f != nullptr, title_ << " has no field " << name);
  f->value = Value::none_of(f->type);
}

namespace {
const Value& typed(const Hparams& h, const std::string& name, FieldType t) {
  const Field& f = h.field(name);
  SDD_CHECK(f.type == t, "field " << name << " is " << field_type_name(f.type) << ", read as " << field_type_name(t));
  return f.value;
}
}  // namespace

std::string Hparams::str(const std::string& name) const {
  const Value& v = typed(*this, name, FieldType::Str);
  SDD_USER_CHECK(!v.none, "hyperparameter " << name << " is required but was not set; pass --" << name);
  return v.s;
}
int64_t Hparams::integer(const std::string& name) const {
  const Value& v = typed(*this, name, FieldType::Int);
  SDD_USER_CHECK(!v.none, "hyperparameter " << name << " is required but was not set; pass --" << name);
  return v.i;
}
double Hparams::flt(const std::string& name) const {
  const Value& v = typed(*this, name, FieldType::Float);
  SDD_USER_CHECK(!v.none, "hyperparameter " << name << " is required but was not set; pass --" << name);
  return v.f;
}
bool Hparams::flag(const std::string& name) const {
  const Value& v = typed(*this, name, FieldType::Bool);
  return !v.none && v.b;
}
std::optional<std::string> Hparams::opt_str(const std::string& name) const {
  const Value& v = typed(*this, name, FieldType::Str);
  if (v.none) return std::nullopt;
  return v.s;
}
std::optional<int64_t> Hparams::opt_int(const std::string& name) const {
  const Value& v = typed(*this, name, FieldType::Int);
  if (v.none) return std::nullopt;
  return v.i;
}
std::optional<double> Hparams::opt_flt(const std::string& name) const {
  const Value& v = typed(*this, name, FieldType::Float);
  if (v.none) return std::nullopt;
  return v.f;
}
const Hparams& Hparams::bundle(const std::string& name) const {
  const Value& v = typed(*this, name, FieldType::Bundle);
  SDD_CHECK(!v.none && v.h, "nested bundle " << name << " is unset");
  return *v.h;
}

std::string Hparams::canonical() const {
  std::vector<const Field*> sorted;
  for (const auto& f : fields_) sorted.push_back(&f);
  std::sort(sorted.begin(), sorted.end(), [](const Field* a, const Field* b) { return a->name < b->name; });
  std::string out = "Hparams(";
  bool first = true;
  for (const Field* f : sorted) {
    if (!f->required && f->value == f->default_value) continue;
    if (!first) out += ", ";
    first = false;
    out += f->name + "=" + f->value.repr();
  }
  return out + ")";
}

std::string Hparams::display() const {
  std::string out = title_;
  for (const auto& f : fields_) {
    if (!f.required && !f.value.truthy()) continue;
    out += "\n    * " + f.name + " => " + f.value.str_();
  }
  return out;
}

}  // namespace sdd::exp
