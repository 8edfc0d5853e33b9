package params

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Kind is the shape of a parameter value.
type Kind int

// The kinds of parameter values.
const (
	String Kind = iota
	Int
	Float
	Bool
	Duration
	List
	Map
	Object
	Any
	SizeKind  // bytes: 16MiB, 1.5GiB, 500k or a whole number (Go type Size)
	PathKind  // a file or folder, resolved against the task's folder (Go type Path)
	OneOrList // one value or a list of them (Go types Strings and Paths)
	OneOf     // a value of one of several kinds (an `any` field tagged oneof)
)

var kindNames = [...]string{"string", "integer", "number", "boolean", "duration", "list", "map", "object", "any",
	"size", "path", "one or a list", "one of"}

// String names the kind as users read it in errors and docs.
func (k Kind) String() string { return kindNames[k] }

// Type describes one value's shape.
type Type struct {
	Kind   Kind
	Elem   *Type    // element of a List or OneOrList, value of a Map
	Fields []*Field // fields of an Object, in declaration order
	Alts   []*Type  // alternatives of a OneOf, in the order they are tried
	// Literal types take only literal YAML values, never ${{ }}
	// expressions, and call their fields keys: the recipe file itself.
	Literal bool
	// Nullable types (pointers) may be written as nothing (null).
	Nullable bool
	goType   reflect.Type
}

// Field is one named parameter of an Object.
type Field struct {
	Name     string // as written in a recipe
	GoName   string
	Doc      string
	Type     *Type
	Required bool
	// Secret (tag secret:"true") marks a value that is a credential (a
	// webhook's URL): a run masks it as soon as it is known, before the
	// type's Plan or Run sees it, so that a plan that cannot ask the type
	// (params known after run, a param that fails to decode) hides it too.
	Secret  bool
	Default any // decoded default, nil when none
	Enum    []string
	// Min bounds a number from below, or the length of a list or map;
	// nil when unbounded.
	Min *float64
	// Keys, for a map, is the pattern every key must match; KeyName names
	// a key in messages ("task id") and KeyRule says what the pattern asks
	// ("start with a letter or _").
	Keys    *regexp.Regexp
	KeyName string
	KeyRule string
	// Shape words the expected value in messages when the kind's own
	// wording ("a map") says too little ("a map of task ids to tasks").
	Shape string
	// Hint says what to do when a required value is missing or empty.
	Hint  string
	index []int // path to the Go field, through inlined structs
}

// DocFunc returns the doc comment of a struct's field, or "".
type DocFunc func(structName, fieldName string) string

// Enumer is implemented by a params struct whose fields take one of a set
// of values the program knows (error classes, say) rather than a literal
// enum tag: ParamEnum returns a field's values, or nil.
type Enumer interface {
	ParamEnum(field string) []string
}

// An Option changes how Of describes a struct.
type Option func(*options)

type options struct{ literal bool }

// Literal describes a struct whose values are literal YAML, never ${{ }}
// expressions, and whose fields are called keys in messages: the recipe
// file's own grammar, as opposed to a task type's params.
func Literal() Option { return func(o *options) { o.literal = true } }

var (
	durationType = reflect.TypeOf(time.Duration(0))
	sizeType     = reflect.TypeOf(Size(0))
	pathType     = reflect.TypeOf(Path(""))
	stringsType  = reflect.TypeOf(Strings(nil))
	pathsType    = reflect.TypeOf(Paths(nil))
	enumerType   = reflect.TypeOf((*Enumer)(nil)).Elem()
)

// Of describes the struct type of v (a struct value or pointer to one).
func Of(v any, docs DocFunc, opts ...Option) (*Type, error) {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("params must be a struct, got %T", v)
	}
	b := &builder{docs: docs}
	for _, o := range opts {
		o(&b.options)
	}
	if b.docs == nil {
		b.docs = func(string, string) string { return "" }
	}
	return b.typeOf(t)
}

type builder struct {
	options
	docs DocFunc
}

func (b *builder) typeOf(t reflect.Type) (*Type, error) {
	simple := func(k Kind) (*Type, error) { return &Type{Kind: k, Literal: b.literal, goType: t}, nil }
	switch t {
	case durationType:
		return simple(Duration)
	case sizeType:
		return simple(SizeKind)
	case pathType:
		return simple(PathKind)
	case stringsType, pathsType:
		elem, err := b.typeOf(t.Elem())
		if err != nil {
			return nil, err
		}
		return &Type{Kind: OneOrList, Elem: elem, Literal: b.literal, goType: t}, nil
	}
	switch t.Kind() {
	case reflect.String:
		return simple(String)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return simple(Int)
	case reflect.Float32, reflect.Float64:
		return simple(Float)
	case reflect.Bool:
		return simple(Bool)
	case reflect.Interface:
		return simple(Any)
	case reflect.Slice:
		elem, err := b.typeOf(t.Elem())
		if err != nil {
			return nil, err
		}
		return &Type{Kind: List, Elem: elem, Literal: b.literal, goType: t}, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("map keys must be strings in %s", t)
		}
		elem, err := b.typeOf(t.Elem())
		if err != nil {
			return nil, err
		}
		return &Type{Kind: Map, Elem: elem, Literal: b.literal, goType: t}, nil
	case reflect.Pointer:
		elem, err := b.typeOf(t.Elem())
		if err != nil {
			return nil, err
		}
		elem.Nullable = true
		return elem, nil
	case reflect.Struct:
		return b.objectOf(t)
	}
	return nil, fmt.Errorf("unsupported param type %s", t)
}

func (b *builder) objectOf(t reflect.Type) (*Type, error) {
	obj := &Type{Kind: Object, Literal: b.literal, goType: t}
	var enums Enumer
	if reflect.PointerTo(t).Implements(enumerType) {
		enums = reflect.New(t).Interface().(Enumer)
	}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if sf.Anonymous && name == "" && opts == "inline" && sf.Type.Kind() == reflect.Struct {
			// An embedded struct shared by several types (S3 access, say):
			// its fields are params of the outer struct.
			inner, err := b.objectOf(sf.Type)
			if err != nil {
				return nil, err
			}
			for _, f := range inner.Fields {
				if obj.Field(f.Name) != nil {
					return nil, fmt.Errorf("%s: param %q is declared twice", t.Name(), f.Name)
				}
				f.index = append([]int{i}, f.index...)
				obj.Fields = append(obj.Fields, f)
			}
			continue
		}
		if name == "" {
			return nil, fmt.Errorf("%s.%s has no yaml tag", t.Name(), sf.Name)
		}
		if jsonName, _, _ := strings.Cut(sf.Tag.Get("json"), ","); jsonName != name {
			return nil, fmt.Errorf("%s.%s: json tag %q differs from yaml tag %q", t.Name(), sf.Name, jsonName, name)
		}
		f, err := b.field(t, sf, name)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.Name(), sf.Name, err)
		}
		f.index = []int{i}
		if enums != nil {
			if e := enums.ParamEnum(name); e != nil {
				f.Enum = e
			}
		}
		obj.Fields = append(obj.Fields, f)
	}
	return obj, nil
}

// field reads one struct field's tags.
func (b *builder) field(t reflect.Type, sf reflect.StructField, name string) (*Field, error) {
	ft, err := b.typeOf(sf.Type)
	if err != nil {
		return nil, err
	}
	tag := sf.Tag
	f := &Field{
		Name:     name,
		GoName:   sf.Name,
		Doc:      b.docs(t.Name(), sf.Name),
		Type:     ft,
		Required: tag.Get("required") == "true",
		Secret:   tag.Get("secret") == "true",
		Shape:    tag.Get("shape"),
		Hint:     tag.Get("hint"),
		KeyName:  tag.Get("keyname"),
		KeyRule:  tag.Get("keyrule"),
	}
	if e := tag.Get("enum"); e != "" {
		f.Enum = strings.Split(e, ",")
	}
	if m, ok := tag.Lookup("min"); ok {
		v, err := strconv.ParseFloat(m, 64)
		if err != nil {
			return nil, fmt.Errorf("min %q: %w", m, err)
		}
		f.Min = &v
	}
	if k, ok := tag.Lookup("keys"); ok {
		if ft.Kind != Map {
			return nil, fmt.Errorf("keys: only a map has keys, not a %s", ft.Kind)
		}
		if f.Keys, err = regexp.Compile(k); err != nil {
			return nil, fmt.Errorf("keys: %w", err)
		}
	}
	if alts, ok := tag.Lookup("oneof"); ok {
		if ft.Kind != Any {
			return nil, fmt.Errorf("oneof: only an `any` field takes one of several shapes, not a %s", ft.Kind)
		}
		ft.Kind = OneOf
		for _, a := range strings.Split(alts, ",") {
			at, err := b.named(a)
			if err != nil {
				return nil, fmt.Errorf("oneof: %w", err)
			}
			ft.Alts = append(ft.Alts, at)
		}
	}
	if d, ok := tag.Lookup("default"); ok {
		v, err := parseDefault(ft, d)
		if err != nil {
			return nil, fmt.Errorf("default %q: %w", d, err)
		}
		f.Default = v
	}
	return f, nil
}

// named returns the type a oneof tag names.
func (b *builder) named(name string) (*Type, error) {
	types := map[string]reflect.Type{
		"string": reflect.TypeOf(""), "integer": reflect.TypeOf(0), "number": reflect.TypeOf(0.0),
		"boolean": reflect.TypeOf(false), "duration": durationType, "size": sizeType,
		"list": reflect.TypeOf([]any(nil)), "map": reflect.TypeOf(map[string]any(nil)),
	}
	t, ok := types[strings.TrimSpace(name)]
	if !ok {
		return nil, fmt.Errorf("unknown kind %q (string, integer, number, boolean, duration, size, list, map)", name)
	}
	return b.typeOf(t)
}

func parseDefault(t *Type, s string) (any, error) {
	switch t.Kind {
	case String, PathKind:
		return s, nil
	case Int:
		return strconv.ParseInt(s, 10, 64)
	case Float:
		return strconv.ParseFloat(s, 64)
	case Bool:
		return strconv.ParseBool(s)
	case Duration:
		_, err := time.ParseDuration(s)
		return s, err
	case SizeKind:
		_, err := ParseSize(s)
		return s, err
	}
	return nil, fmt.Errorf("defaults are supported for scalars only, not %s", t.Kind)
}

// Field returns the field called name, or nil.
func (t *Type) Field(name string) *Field {
	for _, f := range t.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// FieldNames lists the names of an Object's fields.
func (t *Type) FieldNames() []string {
	names := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		names[i] = f.Name
	}
	return names
}

// member is what an Object's fields are called in messages.
func (t *Type) member() string {
	if t.Literal {
		return "key"
	}
	return "param"
}

// Describe names the type as users read it: "list of string", "map of integer".
func (t *Type) Describe() string {
	switch t.Kind {
	case List:
		return "list of " + t.Elem.Describe()
	case Map:
		return "map of " + t.Elem.Describe()
	case OneOrList:
		return t.Elem.Describe() + " or list of " + t.Elem.Describe()
	case OneOf:
		names := make([]string, len(t.Alts))
		for i, a := range t.Alts {
			names[i] = a.Describe()
		}
		return strings.Join(names, " or ")
	case Duration:
		return `duration (e.g. "90s", "5m")`
	case SizeKind:
		return `size (e.g. "16MiB", "1.5GiB", or bytes)`
	}
	return t.Kind.String()
}

// shape words a value of the type in "expected …" messages.
func (t *Type) shape() string {
	switch t.Kind {
	case String:
		return "a string"
	case Int:
		return "an integer"
	case Float:
		return "a number"
	case Bool:
		return "true or false"
	case Duration:
		return `a duration such as "30s" or "5m"`
	case SizeKind:
		return `a size such as "16MiB" or a number of bytes`
	case PathKind:
		return "a path"
	case List:
		return "a list"
	case Map:
		return "a map"
	case Object:
		if t.Literal {
			return "a map"
		}
		return "a map of params"
	case OneOrList:
		return t.Elem.shape() + " or a list of them"
	case OneOf:
		names := make([]string, len(t.Alts))
		for i, a := range t.Alts {
			names[i] = a.shape()
		}
		return strings.Join(names, " or ")
	}
	return "a value"
}
