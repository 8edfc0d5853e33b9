package decimal

import (
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestParseAsPeopleWriteNumbers(t *testing.T) {
	cases := map[string]string{
		"1234": "1234", "1,234": "1234", "₩1,234": "1234", "1,234원": "1234", "-1,000": "-1000",
		"(1,000)": "-1000", "$12.50": "12.5", " 12 ": "12", "+7": "7", "0.000002": "0.000002",
		"1.5e3": "1500", "2E-3": "0.002", "₩-1,000": "-1000", "1,234,567.890": "1234567.89",
		"KRW 3,000": "3000", "−5": "-5", "￦1,000": "1000", "0": "0",
	}
	for in, want := range cases {
		d, ok, err := Parse(in)
		if err != nil || !ok || d.String() != want {
			t.Errorf("Parse(%q) = %s, %v, %v; want %s", in, d, ok, err, want)
		}
	}
	for _, blank := range []string{"", "  ", "-"} {
		if _, ok, err := Parse(blank); ok || err != nil {
			t.Errorf("Parse(%q): ok %v err %v, want a blank", blank, ok, err)
		}
	}
	for _, bad := range []string{"12a", "1,23", "1,2345", "abc", "1.2.3", "--1", ",123", "99999999999999999999"} {
		if _, _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
}

// TestSumsAreExact adds random amounts with up to 4 decimals and compares
// with math/big: no float drift.
func TestSumsAreExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var sum Dec
	ref := new(big.Rat)
	for i := 0; i < 100000; i++ {
		units := rng.Int64N(10_000_000) - 3_000_000
		scale := uint8(rng.IntN(5))
		d := Dec{Units: units, Scale: scale}
		var err error
		if sum, err = sum.Add(d); err != nil {
			t.Fatal(err)
		}
		ref.Add(ref, new(big.Rat).SetFrac(big.NewInt(units), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	}
	if got, want := sum.String(), ref.FloatString(4); got != trim(want) {
		t.Fatalf("sum %s, want %s", got, want)
	}
	if _, err := (Dec{Units: 1 << 62}).Add(Dec{Units: 1 << 62}); err != ErrOverflow {
		t.Fatalf("overflow not reported: %v", err)
	}
}

func trim(s string) string {
	d, _, _ := Parse(s)
	return d.String()
}

func TestMulRoundAndFormat(t *testing.T) {
	price, _, _ := Parse("0.0000025") // dollars per token
	cost, err := price.MulInt(1_234_567)
	if err != nil || cost.String() != "3.0864175" {
		t.Fatalf("cost %s %v", cost, err)
	}
	rate, _, _ := Parse("1,380.5")
	krw, err := cost.Mul(rate)
	if err != nil || krw.String() != "4260.79935875" {
		t.Fatalf("krw %s %v", krw, err)
	}
	if r := krw.Round(2).String(); r != "4260.8" {
		t.Fatalf("round %s", r)
	}
	if g := (Dec{Units: -123456789, Scale: 2}).Grouped(); g != "-1,234,567.89" {
		t.Fatalf("grouped %s", g)
	}
	if a := (Dec{Units: 10}).Div(3, 2).String(); a != "3.33" {
		t.Fatalf("10/3 = %s", a)
	}
	big1, _, _ := Parse("123456789.123456")
	if p, err := big1.Mul(big1); err != nil || p.Round(0).String() != "15241578780673484" {
		t.Fatalf("large product %s %v", p, err)
	}
}

// TestParseErrorsHoldNoText: the error said `"<the whole text>" is not a
// number`, so a 10 MB field made a 10 MB message; and a number too large
// was "not a number". The caller now quotes the text, cut to size.
func TestParseErrorsHoldNoText(t *testing.T) {
	for in, want := range map[string]error{
		"abc": ErrSyntax, "NaN": ErrSyntax, "Infinity": ErrSyntax, "1e": ErrSyntax, "1,2": ErrSyntax,
		"1e308": ErrTooLarge, "99999999999999999999": ErrTooLarge, "1e99999999999999999999": ErrTooLarge,
		strings.Repeat("x", 10<<20): ErrSyntax, "₩" + strings.Repeat("9", 30): ErrTooLarge,
	} {
		_, _, err := Parse(in)
		_, _, errB := ParseBytes([]byte(in))
		if err != want || errB != want {
			t.Errorf("Parse(%.20q…) = %v, %v; want %v", in, err, errB, want)
		}
	}
}
