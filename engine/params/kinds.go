package params

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strings"

	"github.com/novelfactory/runner/internal/quote"
)

// Size is a number of bytes, written in a recipe as a whole number of
// bytes or as a number and a unit: "16MiB", "1.5GiB", "500k". A params
// field of this type is parsed once, when it is decoded.
type Size int64

// Path is a file or folder name. A params field of this type holds, once
// decoded, the name resolved against the task's folder (the recipe's, or
// --workdir): absolute names and "" are kept as they are.
type Path string

// Strings is one string or a list of them: `src: a.md` and
// `src: [a.md, b.md]` both decode to a list.
type Strings []string

// Paths is one path or a list of them, each resolved as a Path is.
type Paths []Path

// sizeRe is a size's syntax: a decimal number, optional spaces, a unit.
var sizeRe = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)$`)

// decimalRe is a YAML integer written as plain decimal digits.
var decimalRe = regexp.MustCompile(`^(0|[1-9][0-9]*)$`)

// SizePattern is sizeRe for JSON Schema, whose regular expressions have
// no case-insensitive flag.
const SizePattern = `^[0-9]+(\.[0-9]+)?\s*([kKmMgGtT][iI]?)?[bB]?$`

// unitBytes maps a size's unit, lower-cased, to its multiple. k, M, G and
// T are powers of 1000 (as in disk and network sizes, and go-humanize);
// Ki, Mi, Gi and Ti powers of 1024; B is optional.
var unitBytes = map[string]int64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "ki": 1 << 10, "kib": 1 << 10,
	"m": 1e6, "mb": 1e6, "mi": 1 << 20, "mib": 1 << 20,
	"g": 1e9, "gb": 1e9, "gi": 1 << 30, "gib": 1 << 30,
	"t": 1e12, "tb": 1e12, "ti": 1 << 40, "tib": 1 << 40,
}

// sizeHelp says what a size may be, after a value that is not one.
const sizeHelp = `use a whole number of bytes, or a number and a unit — k, M, G, T (powers of 1000) or Ki, Mi, Gi, Ti (powers of 1024), B optional — e.g. "16MiB", "1.5GiB" or "500k"`

// ParseSize reads a size: a whole number of bytes ("1048576") or a number
// and a unit ("16MiB", "1.5GiB", "500k", "64 MB"). The result must be a
// whole number of bytes that fits in an int64.
func ParseSize(s string) (Size, error) {
	m := sizeRe.FindStringSubmatch(s) // no spaces around: "16 MiB " is a typo to show, not to guess
	if m == nil {
		return 0, fmt.Errorf("bad size %s: %s", quote.Text(s), sizeHelp)
	}
	mult, ok := unitBytes[strings.ToLower(m[2])]
	if !ok {
		return 0, fmt.Errorf("bad size %s: unknown unit %s; %s", quote.Text(s), quote.Text(m[2]), sizeHelp)
	}
	n, ok := new(big.Rat).SetString(m[1])
	if !ok {
		return 0, fmt.Errorf("bad size %s: %s", quote.Text(s), sizeHelp)
	}
	n.Mul(n, new(big.Rat).SetInt64(mult))
	switch {
	case !n.IsInt():
		return 0, fmt.Errorf("bad size %s: it is not a whole number of bytes", quote.Text(s))
	case !n.Num().IsInt64():
		return 0, fmt.Errorf("bad size %s: too large (at most %d bytes)", quote.Text(s), int64(math.MaxInt64))
	}
	return Size(n.Num().Int64()), nil
}

// String writes the size as bytes with the largest binary unit that keeps
// it exact ("16MiB", "1536KiB", "1000"), so that it reads back the same.
func (s Size) String() string {
	for _, u := range []struct {
		name string
		mult int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if s != 0 && int64(s)%u.mult == 0 {
			return fmt.Sprintf("%d%s", int64(s)/u.mult, u.name)
		}
	}
	return fmt.Sprintf("%d", int64(s))
}
