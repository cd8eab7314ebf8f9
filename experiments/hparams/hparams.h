// experiments/hparams/hparams.h — one typed hyperparameter bundle (the original's `Hparams` dataclass).
//
// A bundle is an ordered list of fields (declaration order). A field has a name, a type
// (str / int / float / bool / nested bundle), a value that may be None, a default or "required", and a
// help text. Two renderings matter for compatibility:
//   canonical()  `Hparams(a=1, b='x')`: fields sorted by name, a field included when it is required
//                or differs from its default; Python repr of values (SPEC 10.2). Its md5 names
//                experiment directories.
//   display()    the hparams.log block: title line, then `    * name => str(value)` for each field
//                that is required or truthy, in declaration order, no trailing newline (SPEC 10.4).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sdd::exp {

enum class FieldType { Str, Int, Float, Bool, Bundle };
const char* field_type_name(FieldType t);  // "str", "int", "float", "bool", "Hparams"

class Hparams;

// A possibly-None value of a given type.
struct Value {
  FieldType type = FieldType::Str;
  bool none = true;
  std::string s;
  int64_t i = 0;
  double f = 0.0;
  bool b = false;
  std::shared_ptr<Hparams> h;

  static Value none_of(FieldType t);
  static Value str(std::string v);
  static Value integer(int64_t v);
  static Value flt(double v);
  static Value boolean(bool v);
  static Value bundle(const Hparams& v);

  bool truthy() const;       // Python bool(): None/''/0/0.0/False are false
  std::string repr() const;  // Python repr: 'x', 1, 0.1, True, None, Hparams(...)
  std::string str_() const;  // Python str: x, 1, 0.1, True, None
  bool operator==(const Value& o) const;
  bool operator!=(const Value& o) const { return !(*this == o); }
};

// Parses text as a value of type t (flag / YAML input). UserError naming `what` on a bad value.
Value parse_value(FieldType t, const std::string& text, const std::string& what);

struct Field {
  std::string name;
  FieldType type = FieldType::Str;
  Value value;               // current value
  bool required = false;     // no declared default
  Value default_value;       // declared default (None when required)
  std::string help;
};

class Hparams {
 public:
  Hparams() = default;
  Hparams(std::string title, std::string description) : title_(std::move(title)), description_(std::move(description)) {}

  // Declares a field with a default (`def` may be None) or, with required(), without one.
  Hparams& add(const std::string& name, Value def, const std::string& help);
  Hparams& add_required(const std::string& name, FieldType type, const std::string& help);

  const std::string& title() const { return title_; }
  void set_title(std::string t) { title_ = std::move(t); }
  const std::string& description() const { return description_; }
  const std::vector<Field>& fields() const { return fields_; }
  std::vector<Field>& fields() { return fields_; }
  bool has(const std::string& name) const { return find(name) != nullptr; }
  const Field* find(const std::string& name) const;
  Field* find(const std::string& name);
  const Field& field(const std::string& name) const;  // InternalError when absent

  // Setting (type-checked; InternalError on a wrong type or unknown name).
  void set(const std::string& name, const Value& v);
  void set_none(const std::string& name);

  // Typed access. str()/integer()/flt() throw UserError when the value is None (a required field
  // left unset); opt_*() return nullopt for None.
  std::string str(const std::string& name) const;
  int64_t integer(const std::string& name) const;
  double flt(const std::string& name) const;
  bool flag(const std::string& name) const;
  std::optional<std::string> opt_str(const std::string& name) const;
  std::optional<int64_t> opt_int(const std::string& name) const;
  std::optional<double> opt_flt(const std::string& name) const;
  const Hparams& bundle(const std::string& name) const;

  std::string canonical() const;  // `Hparams(...)`
  std::string display() const;    // hparams.log block

 private:
  std::string title_, description_;
  std::vector<Field> fields_;
};

}  // namespace sdd::exp
