// Package decimal holds money and counts exactly: an int64 of units at a
// decimal scale, so sums never drift the way floats do, and it parses
// numbers the way people write them in spreadsheets and platform exports —
// "1,234", "₩1,234", "1,234원", "-1,000", "(1,000)", "$12.50", "1.5e3".
package decimal

import (
	"errors"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Dec is units × 10^-Scale.
type Dec struct {
	Units int64
	Scale uint8
}

// MaxScale is the most decimal places a value keeps.
const MaxScale = 12

// ErrOverflow is returned when a sum or a product does not fit.
var ErrOverflow = errors.New("number too large to sum exactly")

// ErrSyntax is what Parse returns for text that is not a number. Like
// ErrTooLarge it does not hold the text (which may be a 10 MB field): the
// caller quotes as much of it as a message should hold, then the error:
// `"abc" is not a number`.
var ErrSyntax = errors.New("is not a number")

// ErrTooLarge is what Parse returns for a number that does not fit
// (about 9.2e18 units at its scale: "1e308", 20 digits).
var ErrTooLarge = errors.New("is too large to sum exactly")

var pow10 = func() [19]int64 {
	var p [19]int64
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// currency marks that may stand before or after an amount.
var currencyWords = []string{"KRW", "USD", "원", "₩", "$", "￦", "円", "¥", "€", "£"}

// Parse reads a number as written by people: thousands separators, a
// currency sign or word before or after, a sign, or parentheses for a
// negative amount. An empty (or blank) string, or "-", gives ok == false
// and no error. The error is ErrSyntax or ErrTooLarge.
func Parse(s string) (d Dec, ok bool, err error) {
	if plainNumber(s) { // the common case, fast
		d, err = parsePlain(s)
		if err != nil {
			return Dec{}, false, parseError(err)
		}
		return d, true, nil
	}
	return parseLoose(s)
}

// ParseBytes is Parse for bytes; plain numbers are read without allocating.
func ParseBytes(b []byte) (d Dec, ok bool, err error) {
	if plainNumber(b) {
		if d, err = parsePlain(b); err == nil {
			return d, true, nil
		}
		return Dec{}, false, parseError(err)
	}
	if len(b) > maxText {
		return Dec{}, false, ErrSyntax // no number is that long: not copied
	}
	return parseLoose(string(b))
}

// maxText is longer than any number Parse reads, however written.
const maxText = 256

// parseError is Parse's error for one of parsePlain.
func parseError(err error) error {
	if errors.Is(err, ErrOverflow) {
		return ErrTooLarge
	}
	return ErrSyntax
}

func parseLoose(s string) (d Dec, ok bool, err error) {
	t := strings.TrimSpace(s)
	if t == "" || t == "-" {
		return Dec{}, false, nil
	}
	neg := false
	if strings.HasPrefix(t, "(") && strings.HasSuffix(t, ")") {
		neg, t = true, strings.TrimSpace(t[1:len(t)-1])
	}
	if strings.HasPrefix(t, "-") || strings.HasPrefix(t, "−") {
		neg = !neg
		_, size := utf8.DecodeRuneInString(t)
		t = strings.TrimSpace(t[size:])
	} else if strings.HasPrefix(t, "+") {
		t = strings.TrimSpace(t[1:])
	}
	for _, c := range currencyWords {
		if strings.HasPrefix(t, c) {
			t = strings.TrimSpace(t[len(c):])
		}
		if strings.HasSuffix(t, c) {
			t = strings.TrimSpace(t[:len(t)-len(c)])
		}
	}
	if strings.HasPrefix(t, "-") && !neg { // ₩-1,000
		neg, t = true, t[1:]
	}
	d, err = parsePlain(t)
	if err != nil {
		return Dec{}, false, parseError(err)
	}
	if neg {
		d.Units = -d.Units
	}
	return d, true, nil
}

func plainNumber[T string | []byte](s T) bool {
	if len(s) == 0 || s[0] < '0' || s[0] > '9' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && c != ',' && c != '.' {
			return false
		}
	}
	return true
}

// parsePlain reads digits with optional thousands commas, one decimal
// point, and an optional exponent.
func parsePlain[T string | []byte](t T) (Dec, error) {
	if len(t) == 0 {
		return Dec{}, errors.New("empty")
	}
	if i := indexExp(t); i > 0 {
		base, err := parsePlain(t[:i])
		if err != nil {
			return Dec{}, err
		}
		exp, err := strconv.Atoi(string(t[i+1:]))
		switch {
		case err != nil && !errors.Is(err, strconv.ErrRange):
			return Dec{}, errors.New("bad exponent")
		case err != nil && exp > 0, exp > 18:
			return Dec{}, ErrOverflow // 1e308
		case err != nil, exp < -MaxScale:
			return Dec{}, errors.New("too many decimals")
		}
		return base.shift(exp)
	}
	var units uint64
	scale := -1
	digits := 0
	groupLen := -1 // digits since the last comma; -1 before any comma
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c >= '0' && c <= '9':
			if scale >= 0 {
				if scale == MaxScale {
					continue // beyond the kept precision
				}
				scale++
			} else if groupLen >= 0 {
				groupLen++
			}
			hi, lo := bits.Mul64(units, 10)
			lo, carry := bits.Add64(lo, uint64(c-'0'), 0)
			if hi != 0 || carry != 0 || lo > 1<<63-1 {
				return Dec{}, ErrOverflow
			}
			units = lo
			digits++
		case c == ',' && scale < 0:
			if digits == 0 || (groupLen >= 0 && groupLen != 3) {
				return Dec{}, errors.New("misplaced comma")
			}
			groupLen = 0
		case c == '.' && scale < 0:
			if groupLen >= 0 && groupLen != 3 {
				return Dec{}, errors.New("misplaced comma")
			}
			scale = 0
		default:
			return Dec{}, errors.New("not a digit")
		}
	}
	if digits == 0 || (groupLen >= 0 && groupLen != 3 && scale < 0) {
		return Dec{}, errors.New("no digits")
	}
	if scale < 0 {
		scale = 0
	}
	return Dec{Units: int64(units), Scale: uint8(scale)}, nil
}

func indexExp[T string | []byte](t T) int {
	for i := 0; i < len(t); i++ {
		if t[i] == 'e' || t[i] == 'E' {
			return i
		}
	}
	return -1
}

// shift multiplies by 10^exp.
func (d Dec) shift(exp int) (Dec, error) {
	for exp > 0 {
		if d.Scale > 0 {
			d.Scale--
		} else {
			hi, lo := bits.Mul64(uint64(abs(d.Units)), 10)
			if hi != 0 || lo > 1<<63-1 {
				return Dec{}, ErrOverflow
			}
			d.Units *= 10
		}
		exp--
	}
	for exp < 0 {
		if d.Scale == MaxScale {
			return Dec{}, errors.New("too many decimals")
		}
		d.Scale++
		exp++
	}
	return d, nil
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// rescale gives d at a larger scale.
func (d Dec) rescale(scale uint8) (Dec, error) {
	if scale <= d.Scale {
		return d, nil
	}
	f := pow10[scale-d.Scale]
	hi, lo := bits.Mul64(uint64(abs(d.Units)), uint64(f))
	if hi != 0 || lo > 1<<63-1 {
		return Dec{}, ErrOverflow
	}
	return Dec{Units: d.Units * f, Scale: scale}, nil
}

// Add returns d + e exactly.
func (d Dec) Add(e Dec) (Dec, error) {
	scale := max(d.Scale, e.Scale)
	a, err := d.rescale(scale)
	if err != nil {
		return Dec{}, err
	}
	b, err := e.rescale(scale)
	if err != nil {
		return Dec{}, err
	}
	sum := a.Units + b.Units
	if (a.Units > 0 && b.Units > 0 && sum < 0) || (a.Units < 0 && b.Units < 0 && sum >= 0) {
		return Dec{}, ErrOverflow
	}
	return Dec{Units: sum, Scale: scale}, nil
}

// Sub returns d - e exactly.
func (d Dec) Sub(e Dec) (Dec, error) { return d.Add(Dec{Units: -e.Units, Scale: e.Scale}) }

// Cmp compares d and e: -1, 0 or +1.
func (d Dec) Cmp(e Dec) int {
	scale := max(d.Scale, e.Scale)
	a, errA := d.rescale(scale)
	b, errB := e.rescale(scale)
	if errA != nil || errB != nil {
		fa, fb := d.Float(), e.Float()
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	}
	switch {
	case a.Units < b.Units:
		return -1
	case a.Units > b.Units:
		return 1
	}
	return 0
}

// MulInt returns d × n exactly.
func (d Dec) MulInt(n int64) (Dec, error) {
	hi, lo := bits.Mul64(uint64(abs(d.Units)), uint64(abs(n)))
	if hi != 0 || lo > 1<<63-1 {
		return Dec{}, ErrOverflow
	}
	u := int64(lo)
	if (d.Units < 0) != (n < 0) {
		u = -u
	}
	return Dec{Units: u, Scale: d.Scale}, nil
}

// Mul returns d × e, rounded half away from zero to at most MaxScale
// places (and fewer, if the exact product would not fit).
func (d Dec) Mul(e Dec) (Dec, error) {
	hi, lo := bits.Mul64(uint64(abs(d.Units)), uint64(abs(e.Units)))
	scale := int(d.Scale) + int(e.Scale)
	for drop := max(0, scale-MaxScale); drop <= scale && drop < len(pow10); drop++ {
		qhi, qlo := hi, lo
		if drop > 0 {
			div := uint64(pow10[drop])
			var r uint64
			qhi, r = bits.Div64(0, hi, div)
			qlo, r = bits.Div64(r, lo, div)
			if r*2 >= div {
				var carry uint64
				qlo, carry = bits.Add64(qlo, 1, 0)
				qhi += carry
			}
		}
		if qhi == 0 && qlo <= 1<<63-1 {
			u := int64(qlo)
			if (d.Units < 0) != (e.Units < 0) {
				u = -u
			}
			return Dec{Units: u, Scale: uint8(scale - drop)}, nil
		}
	}
	return Dec{}, ErrOverflow
}

// Round rounds half away from zero to places decimals.
func (d Dec) Round(places uint8) Dec {
	if d.Scale <= places {
		return d
	}
	f := pow10[d.Scale-places]
	q, r := d.Units/f, d.Units%f
	if abs(r)*2 >= f {
		if d.Units < 0 {
			q--
		} else {
			q++
		}
	}
	return Dec{Units: q, Scale: places}
}

// Div returns d / n, rounded half away from zero to places decimals (fewer
// if the quotient would not fit).
func (d Dec) Div(n int64, places uint8) Dec {
	if n == 0 {
		return Dec{}
	}
	for p := int(places); p >= 0; p-- {
		// units × 10^p / (n × 10^scale), exactly, with big integers.
		num := new(big.Int).Mul(big.NewInt(d.Units), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(p)), nil))
		den := new(big.Int).Mul(big.NewInt(n), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale)), nil))
		q, r := new(big.Int).QuoRem(num, den, new(big.Int))
		if new(big.Int).Mul(new(big.Int).Abs(r), big.NewInt(2)).Cmp(new(big.Int).Abs(den)) >= 0 {
			if (num.Sign() < 0) != (den.Sign() < 0) {
				q.Sub(q, big.NewInt(1))
			} else {
				q.Add(q, big.NewInt(1))
			}
		}
		if q.IsInt64() {
			return Dec{Units: q.Int64(), Scale: uint8(p)}.trim()
		}
	}
	return Dec{}
}

// trim drops trailing zero decimals.
func (d Dec) trim() Dec {
	for d.Scale > 0 && d.Units%10 == 0 {
		d.Units /= 10
		d.Scale--
	}
	return d
}

// Float is d as a float64, for charts.
func (d Dec) Float() float64 {
	return float64(d.Units) / float64(pow10[d.Scale])
}

// String writes d without separators or trailing zeros: "-1234.5".
func (d Dec) String() string {
	s := strconv.FormatInt(abs(d.Units), 10)
	if d.Scale > 0 {
		for len(s) <= int(d.Scale) {
			s = "0" + s
		}
		s = s[:len(s)-int(d.Scale)] + "." + s[len(s)-int(d.Scale):]
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if d.Units < 0 {
		s = "-" + s
	}
	return s
}

// Grouped writes d with thousands separators, for people: "1,234,567.5".
func (d Dec) Grouped() string { return GroupThousands(d.String()) }

// GroupThousands puts thousands separators into a plain number
// ("-1234567.5" → "-1,234,567.5").
func GroupThousands(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		b.WriteString("." + frac)
	}
	return b.String()
}
