package quote_test

import (
	"strings"
	"testing"

	"github.com/novelfactory/runner/internal/quote"
)

func TestShortValuesAreQuotedWhole(t *testing.T) {
	if got := quote.Text("금액"); got != `"금액"` {
		t.Fatalf("got %s", got)
	}
	if got := quote.Cut("abc"); got != "abc" {
		t.Fatalf("got %s", got)
	}
}

func TestLongValuesAreCutAtACharacter(t *testing.T) {
	long := strings.Repeat("가", 10<<20/3)
	got := quote.Text(long)
	if len(got) > 300 || !strings.HasPrefix(got, `"가가`) || !strings.HasSuffix(got, "bytes in all)") {
		t.Fatalf("got %.400s", got)
	}
	if want := strings.Repeat("가", quote.MaxRunes) + "… ("; !strings.HasPrefix(quote.Cut(long), want) {
		t.Fatalf("Cut = %.400s", quote.Cut(long))
	}
}
