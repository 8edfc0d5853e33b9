package params

import (
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/novelfactory/runner/internal/quote"
)

// Decode fills the struct dst points to from v, the evaluated value of a
// `with` block (maps, lists and scalars as produced by YAML and
// expressions). Missing fields get their defaults, required fields must be
// present, and Paths are resolved against dir. It returns every problem
// found, as Errors whose paths start below v.
func (t *Type) Decode(v any, dst any, dir string) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Type() != t.goType {
		return fmt.Errorf("decode: destination must be *%s, got %T", t.goType, dst)
	}
	d := &decoder{dir: dir}
	d.decode(t, nil, v, rv.Elem(), nil)
	if len(d.errs) > 0 {
		return d.errs
	}
	return nil
}

// decodeValue decodes v into dst, returning the first problem.
func decodeValue(t *Type, v any, dst reflect.Value, path []string, dir string) *FieldError {
	d := &decoder{dir: dir}
	d.decode(t, nil, v, dst, path)
	if len(d.errs) > 0 {
		return d.errs[0]
	}
	return nil
}

type decoder struct {
	errs Errors
	dir  string
}

func (d *decoder) fail(path []string, err error) {
	d.errs = append(d.errs, &FieldError{Path: clone(path), Err: err})
}

func (d *decoder) wrongShape(t *Type, f *Field, v any, path []string) {
	want := t.shape()
	if f != nil && f.Shape != "" {
		want = f.Shape
	}
	d.fail(path, &ShapeError{Want: want, Got: describeValue(v), Must: t.Literal})
}

func (d *decoder) decode(t *Type, f *Field, v any, dst reflect.Value, path []string) {
	if dst.Kind() == reflect.Pointer {
		if v == nil {
			return
		}
		if dst.IsNil() {
			dst.Set(reflect.New(dst.Type().Elem()))
		}
		dst = dst.Elem()
	}
	if f != nil && len(f.Enum) > 0 && isScalar(v) {
		if s := fmt.Sprint(v); !contains(f.Enum, s) {
			d.fail(path, &EnumError{Value: s, Allowed: f.Enum})
			return
		}
	}
	switch t.Kind {
	case Any:
		if v != nil {
			dst.Set(reflect.ValueOf(v))
		}
	case String, PathKind:
		s, ok := toString(v)
		if !ok {
			d.wrongShape(t, f, v, path)
			return
		}
		if t.Kind == PathKind {
			s = resolve(d.dir, s)
		}
		dst.SetString(s)
	case Int:
		n, ok := toInt(v)
		switch {
		case !ok:
			d.wrongShape(t, f, v, path)
		case f != nil && f.Min != nil && float64(n) < *f.Min:
			d.fail(path, fmt.Errorf("%d is less than %v", n, *f.Min))
		case dst.CanInt():
			dst.SetInt(n)
		case n < 0:
			d.fail(path, fmt.Errorf("must not be negative, got %d", n))
		default:
			dst.SetUint(uint64(n))
		}
	case Float:
		x, ok := toFloat(v)
		switch {
		case !ok:
			d.wrongShape(t, f, v, path)
		case f != nil && f.Min != nil && x < *f.Min:
			d.fail(path, fmt.Errorf("%v is less than %v", x, *f.Min))
		default:
			dst.SetFloat(x)
		}
	case Bool:
		b, ok := toBool(v)
		if !ok {
			d.wrongShape(t, f, v, path)
			return
		}
		dst.SetBool(b)
	case Duration:
		dur, err := toDuration(v)
		if err != nil {
			d.fail(path, err)
			return
		}
		dst.SetInt(int64(dur))
	case SizeKind:
		s, err := toSize(v)
		switch {
		case err != nil:
			d.fail(path, err)
		case f != nil && f.Min != nil && float64(s) < *f.Min:
			d.fail(path, fmt.Errorf("%s is too small: use at least %v", s, Size(*f.Min)))
		default:
			dst.SetInt(int64(s))
		}
	case List:
		items, ok := toList(v)
		if !ok {
			d.wrongShape(t, f, v, path)
			return
		}
		d.items(t, f, items, dst, path, true)
	case OneOrList:
		if items, ok := toList(v); ok && v != nil {
			d.items(t, f, items, dst, path, true)
		} else if isScalar(v) {
			d.items(t, f, []any{v}, dst, path, false)
		} else {
			d.wrongShape(t, f, v, path)
		}
	case OneOf:
		for _, alt := range t.Alts {
			try := &decoder{dir: d.dir}
			try.decode(alt, nil, v, reflect.New(alt.goType).Elem(), path)
			if len(try.errs) == 0 {
				if v != nil {
					dst.Set(reflect.ValueOf(v))
				}
				return
			}
		}
		d.wrongShape(t, f, v, path)
	case Map:
		m, ok := v.(map[string]any)
		if !ok && v != nil {
			d.wrongShape(t, f, v, path)
			return
		}
		out := reflect.MakeMapWithSize(dst.Type(), len(m))
		for k, item := range m {
			ev := reflect.New(dst.Type().Elem()).Elem()
			d.decode(t.Elem, nil, item, ev, append(path, k))
			out.SetMapIndex(reflect.ValueOf(k).Convert(dst.Type().Key()), ev)
		}
		dst.Set(out)
	case Object:
		d.object(t, f, v, dst, path)
	}
}

func (d *decoder) items(t *Type, f *Field, items []any, dst reflect.Value, path []string, indexed bool) {
	s := reflect.MakeSlice(dst.Type(), len(items), len(items))
	ef := elemField(f)
	for i, item := range items {
		p := path
		if indexed {
			p = append(path, index(i))
		}
		d.decode(t.Elem, ef, item, s.Index(i), p)
	}
	dst.Set(s)
}

func (d *decoder) object(t *Type, f *Field, v any, dst reflect.Value, path []string) {
	m, ok := v.(map[string]any)
	if !ok && v != nil {
		d.wrongShape(t, f, v, path)
		return
	}
	for k := range m {
		if t.Field(k) == nil {
			d.fail(path, &UnknownError{Name: k, Member: t.member(), Known: t.FieldNames()})
		}
	}
	for _, fld := range t.Fields {
		fv, present := m[fld.Name]
		if !present || fv == nil {
			if fld.Required {
				d.fail(path, &MissingError{Name: fld.Name, Member: t.member(), Want: fld.Type.Describe(), Hint: fld.Hint})
				continue
			}
			if fv = fld.defaultValue(); fv == nil {
				continue
			}
		}
		d.decode(fld.Type, fld, fv, dst.FieldByIndex(fld.index), append(path, fld.Name))
	}
}

// resolve makes a relative path p relative to dir.
func resolve(dir, p string) string {
	if p == "" || dir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

func isScalar(v any) bool {
	switch v.(type) {
	case nil, []any, map[string]any:
		return false
	}
	k := reflect.ValueOf(v).Kind()
	return k != reflect.Slice && k != reflect.Array && k != reflect.Map
}

func toList(v any) ([]any, bool) {
	switch l := v.(type) {
	case nil:
		return nil, true
	case []any:
		return l, true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

func toString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case Path:
		return string(x), true
	case int, int64, int32, uint, uint64, float64, float32, bool:
		return fmt.Sprint(x), true
	case time.Time:
		return x.Format(time.RFC3339), true
	case time.Duration:
		return x.String(), true
	}
	return "", false
}

func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), true
		}
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			return n, true
		}
	}
	return 0, false
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			return f, true
		}
	}
	return 0, false
}

func toBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		if b, err := strconv.ParseBool(strings.TrimSpace(x)); err == nil {
			return b, true
		}
	}
	return false, false
}

func toDuration(v any) (time.Duration, error) {
	switch x := v.(type) {
	case time.Duration:
		if x < 0 {
			return 0, fmt.Errorf("%s is negative: a duration is 0 or more", x)
		}
		return x, nil
	case string:
		return parseDuration(x)
	}
	return 0, &ShapeError{Want: `a duration such as "30s" or "5m"`, Got: describeValue(v)}
}

func toSize(v any) (Size, error) {
	if s, ok := v.(string); ok {
		return ParseSize(s)
	}
	if s, ok := v.(Size); ok {
		return s, nil
	}
	n, ok := toInt(v)
	if !ok {
		return 0, &ShapeError{Want: `a size such as "16MiB" or a number of bytes`, Got: describeValue(v)}
	}
	if n < 0 {
		return 0, fmt.Errorf("%d is not a size: it is negative", n)
	}
	return Size(n), nil
}

func describeValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "nothing (null)"
	case string:
		return "the string " + quote.Text(x)
	case map[string]any:
		return "a map"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%T %s", v, quote.Cut(fmt.Sprint(v)))
}

// defaultValue is what a field left out decodes from: its default, or for
// an object of which nothing is required, an empty map (which gives its
// fields their defaults); nil when there is none.
func (f *Field) defaultValue() any {
	if f.Default != nil {
		return f.Default
	}
	if f.Type.Kind != Object || f.Type.Nullable {
		return nil
	}
	for _, sub := range f.Type.Fields {
		if sub.Required {
			return nil
		}
	}
	return map[string]any{}
}
