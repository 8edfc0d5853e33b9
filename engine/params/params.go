package params

import (
	"fmt"
	"reflect"
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
)

var kindNames = [...]string{"string", "integer", "number", "boolean", "duration", "list", "map", "object", "any"}

// String names the kind as users read it in errors and docs.
func (k Kind) String() string { return kindNames[k] }

// Type describes one value's shape.
type Type struct {
	Kind   Kind
	Elem   *Type    // element of a List, value of a Map
	Fields []*Field // fields of an Object, in declaration order
	goType reflect.Type
}

// Field is one named parameter of an Object.
type Field struct {
	Name     string // as written in a recipe
	GoName   string
	Doc      string
	Type     *Type
	Required bool
	Default  any // decoded default, nil when none
	Enum     []string
	index    []int // path to the Go field, through inlined structs
}

// DocFunc returns the doc comment of a struct's field, or "".
type DocFunc func(structName, fieldName string) string

var durationType = reflect.TypeOf(time.Duration(0))

// Of describes the struct type of v (a struct value or pointer to one).
func Of(v any, docs DocFunc) (*Type, error) {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("params must be a struct, got %s", t)
	}
	if docs == nil {
		docs = func(string, string) string { return "" }
	}
	return typeOf(t, docs)
}

func typeOf(t reflect.Type, docs DocFunc) (*Type, error) {
	if t == durationType {
		return &Type{Kind: Duration, goType: t}, nil
	}
	switch t.Kind() {
	case reflect.String:
		return &Type{Kind: String, goType: t}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return &Type{Kind: Int, goType: t}, nil
	case reflect.Float32, reflect.Float64:
		return &Type{Kind: Float, goType: t}, nil
	case reflect.Bool:
		return &Type{Kind: Bool, goType: t}, nil
	case reflect.Interface:
		return &Type{Kind: Any, goType: t}, nil
	case reflect.Slice:
		elem, err := typeOf(t.Elem(), docs)
		if err != nil {
			return nil, err
		}
		return &Type{Kind: List, Elem: elem, goType: t}, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("map keys must be strings in %s", t)
		}
		elem, err := typeOf(t.Elem(), docs)
		if err != nil {
			return nil, err
		}
		return &Type{Kind: Map, Elem: elem, goType: t}, nil
	case reflect.Pointer:
		return typeOf(t.Elem(), docs)
	case reflect.Struct:
		return objectOf(t, docs)
	}
	return nil, fmt.Errorf("unsupported param type %s", t)
}

func objectOf(t reflect.Type, docs DocFunc) (*Type, error) {
	obj := &Type{Kind: Object, goType: t}
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
			inner, err := objectOf(sf.Type, docs)
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
		ft, err := typeOf(sf.Type, docs)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.Name(), sf.Name, err)
		}
		f := &Field{
			Name:     name,
			GoName:   sf.Name,
			Doc:      docs(t.Name(), sf.Name),
			Type:     ft,
			Required: sf.Tag.Get("required") == "true",
			index:    []int{i},
		}
		if e := sf.Tag.Get("enum"); e != "" {
			f.Enum = strings.Split(e, ",")
		}
		if d, ok := sf.Tag.Lookup("default"); ok {
			v, err := parseDefault(ft, d)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: default %q: %w", t.Name(), sf.Name, d, err)
			}
			f.Default = v
		}
		obj.Fields = append(obj.Fields, f)
	}
	return obj, nil
}

func parseDefault(t *Type, s string) (any, error) {
	switch t.Kind {
	case String:
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

// Describe names the type as users read it: "list of string", "map of integer".
func (t *Type) Describe() string {
	switch t.Kind {
	case List:
		return "list of " + t.Elem.Describe()
	case Map:
		return "map of " + t.Elem.Describe()
	case Duration:
		return `duration (e.g. "90s", "5m")`
	}
	return t.Kind.String()
}
