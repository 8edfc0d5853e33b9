package secret_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/internal/quote"
)

func TestEnvironmentSecretsAreMaskedByName(t *testing.T) {
	m := secret.New()
	m.AddEnviron([]string{
		"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG", "GITHUB_TOKEN=ghp_abcdef123", "DB_PASSWORD=hunter22",
		"MY_CREDENTIALS=c-r-e-d-s", "API_KEY=short", "HOME=/home/secretive", "TOKEN_COUNT=1",
	})
	in := "keys wJalrXUtnFEMI/K7MDENG ghp_abcdef123 hunter22 c-r-e-d-s; short /home/secretive 1"
	want := "keys *** *** *** ***; short /home/secretive 1"
	if got := m.String(in); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestEscapedFormsAndURLPasswordsAreMasked(t *testing.T) {
	m := secret.New()
	m.Add(`p@ss"word/1`)
	cases := map[string]string{
		`json: "p@ss\"word/1"`:                      `json: "***"`,
		"url: p%40ss%22word%2F1":                    "url: ***",
		"dsn postgres://me:other-pw@db:5432/x":      "dsn postgres://me:***@db:5432/x",
		"s3 https://AKIA:zzz@minio.local/bucket ok": "s3 https://AKIA:***@minio.local/bucket ok",
		"no password here: https://example.com/a:b": "no password here: https://example.com/a:b",
	}
	for in, want := range cases {
		if got := m.String(in); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
}

func TestWriterMasksSecretsSplitAcrossWrites(t *testing.T) {
	m := secret.New()
	m.Add("abcdefgh")
	var out bytes.Buffer
	w := m.Writer(&out)
	for _, chunk := range []string{"line one ab", "cdef", "gh end\nsecond abcd", "efgh"} {
		w.Write([]byte(chunk))
	}
	w.Close()
	if got := out.String(); got != "line one *** end\nsecond ***" {
		t.Errorf("got %q", got)
	}
}

func TestWriterMasksVeryLongLinesInBoundedMemory(t *testing.T) {
	m := secret.New()
	m.Add("the-secret-value")
	var out bytes.Buffer
	w := m.Writer(&out)
	long := strings.Repeat("x", 100_000)
	w.Write([]byte(long + "the-secret-"))
	w.Write([]byte("value" + long))
	w.Close()
	if strings.Contains(out.String(), "secret") || !strings.Contains(out.String(), "x***x") {
		t.Errorf("secret split at the long-line boundary leaked or was lost")
	}
	if out.Len() != 2*len(long)+3 {
		t.Errorf("output has %d bytes, want %d", out.Len(), 2*len(long)+3)
	}
}

// TestAMultiLineSecretIsMaskedLineByLine: a private key was masked only as
// one whole string; output arriving line by line printed every line.
func TestAMultiLineSecretIsMaskedLineByLine(t *testing.T) {
	key := "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\nAAAAMwAAAAtzc2gtZWQyNTUxOQ\n=\n-----END OPENSSH PRIVATE KEY-----\n"
	m := secret.New()
	m.AddEnviron([]string{"SSH_PRIVATE_KEY=" + key})
	var out bytes.Buffer
	w := m.Writer(&out)
	for _, line := range strings.SplitAfter(key, "\n") { // one write a line, as `cat` of a pipe gives
		w.Write([]byte(line))
	}
	w.Write([]byte(strings.ReplaceAll(key, "\n", " "))) // and joined by spaces, as `tr` gives
	w.Close()
	for _, part := range []string{"b3BlbnNzaC1rZXktdjEAAAAABG5vbmU", "AAAAMwAAAAtzc2gtZWQyNTUxOQ", "PRIVATE KEY"} {
		if strings.Contains(out.String(), part) {
			t.Fatalf("%q printed in clear:\n%s", part, out.String())
		}
	}
}

// TestOverlappingSecretsAreMaskedWhole: with abcdefgh and efghijklmnop,
// "abcdefghijklmnop" became "***ijklmnop": 8 characters of the second.
func TestOverlappingSecretsAreMaskedWhole(t *testing.T) {
	m := secret.New()
	m.Add("abcdefgh", "efghijklmnop")
	if got := m.String("X-abcdefghijklmnop-Y and efghijklmnop"); got != "X-***-Y and ***" {
		t.Fatalf("got %q", got)
	}
}

// TestWhatACutLeavesOfASecretIsMasked: no piece of 4 or more characters of
// a secret survives where a text was cut.
func TestWhatACutLeavesOfASecretIsMasked(t *testing.T) {
	m := secret.New()
	m.Add("s3cr3t-token-998877")
	cases := []struct {
		in         string
		start, end bool
		want       string
	}{
		{"en-998877 then the rest", true, false, "*** then the rest"},
		{"the start, then s3cr3t-to", false, true, "the start, then ***"},
		{"877 short pieces stay", true, false, "877 short pieces stay"},
		{"nothing of it here", true, true, "nothing of it here"},
	}
	for _, c := range cases {
		if got := m.Edges(c.in, c.start, c.end); got != c.want {
			t.Errorf("Edges(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestASecretCutByAQuotedValueIsMasked: messages quote at most 80
// characters of a value; a secret the cut falls in is masked to the end.
func TestASecretCutByAQuotedValueIsMasked(t *testing.T) {
	m := secret.New()
	m.Add("s3cr3t-token-998877")
	msg := "for_each gave " + quote.Text(strings.Repeat("x", 70)+"s3cr3t-token-998877"+strings.Repeat("y", 100)) + ", not a list"
	got := m.String(msg)
	if strings.Contains(got, "s3cr") || !strings.Contains(got, `xxx***…" (189 bytes in all), not a list`) {
		t.Fatalf("got %s", got)
	}
	// An ellipsis of the text itself is left alone.
	if got := m.String("wait… s3cr3t-token-99 and more"); got != "wait… s3cr3t-token-99 and more" {
		t.Fatalf("got %s", got)
	}
}

// TestEveryEncodedFormOfASecretIsMasked prints one secret the ways programs
// print values — in a shell command, Go's %q, twice-encoded JSON, Python's
// ASCII JSON, percent-encoded with lower-case hex or as encodeURIComponent,
// YAML single quotes, base64 — and checks that none survives. Before, only
// the plain, JSON-escaped and two URL-escaped forms were masked (hostile
// review of issue 11, findings 4, 6, 7 and 8).
func TestEveryEncodedFormOfASecretIsMasked(t *testing.T) {
	const pw = "it's a \"pw\"/한글 😊<&> tab\there"
	m := secret.New()
	m.Add(pw)
	forms := map[string]string{
		"shell":          `sh -c 'echo it'\''s a "pw"/한글 😊<&> tab	here'`,
		"shell (dq)":     `'it'"'"'s a "pw"/한글 😊<&> tab	here'`,
		"go %q":          `"it's a \"pw\"/한글 😊<&> tab\there"`,
		"go %+q":         `"it's a \"pw\"/\ud55c\uae00 \U0001f60a<&> tab\there"`,
		"json in json":   `"{\"a\":\"it's a \\\"pw\\\"/한글 😊\\u003c\\u0026\\u003e tab\\there\"}"`,
		"json, no html":  `"it's a \"pw\"/한글 😊<&> tab\there"`,
		"python json":    `"it's a \"pw\"/\ud55c\uae00 \ud83d\ude0a<&> tab\there"`,
		"yaml single":    `'it''s a "pw"/한글 😊<&> tab	here'`,
		"query lower":    `?p=it%27s+a+%22pw%22%2f%ed%95%9c%ea%b8%80+%f0%9f%98%8a%3c%26%3e+tab%09here`,
		"path":           `/x/it%27s%20a%20%22pw%22%2F%ED%95%9C%EA%B8%80%20%F0%9F%98%8A%3C&%3E%20tab%09here`,
		"uri component":  `it's%20a%20%22pw%22%2F%ED%95%9C%EA%B8%80%20%F0%9F%98%8A%3C%26%3E%20tab%09here`,
		"base64":         "aXQncyBhICJwdyIv7ZWc6riAIPCfmIo8Jj4gdGFiCWhlcmU=",
		"base64 url raw": "aXQncyBhICJwdyIv7ZWc6riAIPCfmIo8Jj4gdGFiCWhlcmU",
	}
	for name, text := range forms {
		got := m.String(text)
		for _, piece := range []string{"pw", "한글", "tab"} {
			if strings.Contains(got, piece) {
				t.Errorf("%s: %s → %s: %q survives", name, text, got, piece)
				break
			}
		}
		if name[:4] == "base" && got == text {
			t.Errorf("%s: %s is not masked", name, text)
		}
	}
}

// TestASecretSpelledWithAnyMixOfEscapesIsMasked: each encoder escapes a
// different set of characters — Python's quote keeps "/", encodeURI keeps
// "?", "+" and "'", Go's URL path keeps "@" and "+", Python's ASCII JSON
// writes DEL as \u007f — so no list of whole forms covers them (second
// hostile review of issue 11, findings 1 and 2). A secret is matched with
// any mix of escapes, character by character.
func TestASecretSpelledWithAnyMixOfEscapesIsMasked(t *testing.T) {
	cases := map[string][]string{
		"c'd+e f":     {"py-quote: c%27d%2Be%20f", "encodeURI: c'd+e%20f"},
		"a b/c?d":     {"URLPath: https://h/a%20b/c%3Fd", "py-quote: a%20b/c%3Fd", "encodeURI: a%20b/c?d"},
		"p@ss w+ord":  {"p@ss%20w%2Bord", "p%40ss%20w+ord", "p%40ss%20w%2bord"},
		"del\x7fchar": {`json1:"del\u007fchar"`, `"\"del\\u007fchar\""`, `html: del&#127;char`},
		"中文secret":    {`json2:"\"\\u4e2d\\u6587secret\""`, `go: "\u4E2D\u6587secret"`},
		"it's <b>":    {`it&#39;s &lt;b&gt;`, `'it'\''s <b>'`},
	}
	for secretValue, texts := range cases {
		m := secret.New()
		m.Add(secretValue)
		for _, text := range texts {
			if got := m.String(text); !strings.Contains(got, secret.Mask) || strings.Contains(got, "ss") && secretValue == "p@ss w+ord" || strings.Contains(got, "char") || strings.Contains(got, "cret") {
				t.Errorf("secret %q: %s → %s", secretValue, text, got)
			}
		}
	}
	m := secret.New()
	m.Add("a b")
	if got := m.String("nothing here: ab, a-b"); got != "nothing here: ab, a-b" {
		t.Errorf("masked what is not the secret: %s", got)
	}
}
