package params

import (
	"fmt"
	"github.com/novelfactory/runner/internal/quote"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Decode fills the struct dst points to from v, the evaluated value of a
// `with` block (maps, lists and scalars as produced by YAML and expressions).
// Missing fields get their defaults; required fields must be present.
func (t *Type) Decode(v any, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.Elem().Type() != t.goType {
		return fmt.Errorf("decode: destination must be *%s", t.goType)
	}
	return t.decode(v, rv.Elem(), "with")
}

func (t *Type) decode(v any, dst reflect.Value, path string) error {
	if dst.Kind() == reflect.Pointer {
		if v == nil {
			return nil
		}
		if dst.IsNil() {
			dst.Set(reflect.New(dst.Type().Elem()))
		}
		dst = dst.Elem()
	}
	switch t.Kind {
	case Any:
		if v != nil {
			dst.Set(reflect.ValueOf(v))
		}
		return nil
	case String:
		s, err := toString(v)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		dst.SetString(s)
	case Int:
		n, err := toInt(v)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if dst.CanInt() {
			dst.SetInt(n)
		} else {
			if n < 0 {
				return fmt.Errorf("%s: must not be negative, got %d", path, n)
			}
			dst.SetUint(uint64(n))
		}
	case Float:
		f, err := toFloat(v)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		dst.SetFloat(f)
	case Bool:
		b, err := toBool(v)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		dst.SetBool(b)
	case Duration:
		d, err := toDuration(v)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		dst.SetInt(int64(d))
	case List:
		items, ok := toList(v)
		if !ok {
			return fmt.Errorf("%s: expected a list, got %s", path, describeValue(v))
		}
		s := reflect.MakeSlice(dst.Type(), len(items), len(items))
		for i, item := range items {
			if err := t.Elem.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		dst.Set(s)
	case Map:
		m, ok := v.(map[string]any)
		if !ok && v != nil {
			return fmt.Errorf("%s: expected a map, got %s", path, describeValue(v))
		}
		out := reflect.MakeMapWithSize(dst.Type(), len(m))
		for k, item := range m {
			ev := reflect.New(dst.Type().Elem()).Elem()
			if err := t.Elem.decode(item, ev, path+"."+k); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(dst.Type().Key()), ev)
		}
		dst.Set(out)
	case Object:
		m, ok := v.(map[string]any)
		if !ok && v != nil {
			return fmt.Errorf("%s: expected a map, got %s", path, describeValue(v))
		}
		for k := range m {
			if t.Field(k) == nil {
				return fmt.Errorf("%s: unknown param %s", path, quote.Text(k))
			}
		}
		for _, f := range t.Fields {
			fv, present := m[f.Name]
			name := path + "." + f.Name
			if !present || fv == nil {
				if f.Required {
					return fmt.Errorf("%s: missing required param", name)
				}
				if f.Default == nil {
					continue
				}
				fv = f.Default
			}
			if err := f.Type.decode(fv, dst.FieldByIndex(f.index), name); err != nil {
				return err
			}
			if len(f.Enum) > 0 {
				if s := fmt.Sprint(fv); !contains(f.Enum, s) {
					return fmt.Errorf("%s: %s is not one of %s", name, quote.Text(s), strings.Join(f.Enum, ", "))
				}
			}
		}
	}
	return nil
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

func toString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int, int64, int32, uint, uint64, float64, float32, bool:
		return fmt.Sprint(x), nil
	case time.Time:
		return x.Format(time.RFC3339), nil
	case time.Duration:
		return x.String(), nil
	}
	return "", fmt.Errorf("expected a string, got %s", describeValue(v))
}

func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case uint64:
		if x > math.MaxInt64 {
			return 0, fmt.Errorf("integer %d is too large", x)
		}
		return int64(x), nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), nil
		}
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("expected an integer, got %s", describeValue(v))
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case float64:
		return x, nil
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			return f, nil
		}
	}
	return 0, fmt.Errorf("expected a number, got %s", describeValue(v))
}

func toBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		if b, err := strconv.ParseBool(strings.TrimSpace(x)); err == nil {
			return b, nil
		}
	}
	return false, fmt.Errorf("expected true or false, got %s", describeValue(v))
}

func toDuration(v any) (time.Duration, error) {
	switch x := v.(type) {
	case time.Duration:
		return x, nil
	case string:
		d, err := time.ParseDuration(strings.TrimSpace(x))
		if err != nil {
			return 0, fmt.Errorf("bad duration %s: use a number and a unit, e.g. \"90s\"", quote.Text(x))
		}
		if d < 0 {
			return 0, fmt.Errorf("%s is negative: a duration is 0 or more", quote.Text(x))
		}
		return d, nil
	}
	return 0, fmt.Errorf("expected a duration such as \"30s\", got %s", describeValue(v))
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
