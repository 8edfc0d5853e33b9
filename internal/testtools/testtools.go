// Package testtools runs the outside judges the tests rely on — the W3C
// epubcheck and poppler's PDF tools — and fails the test with a hint when
// one is missing (.ci/run installs them all).
package testtools

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// epubcheckJar is where Debian's epubcheck package puts the checker;
// /usr/bin/epubcheck may fail to start, java -jar works.
const epubcheckJar = "/usr/share/java/epubcheck.jar"

var epubcheckSummary = regexp.MustCompile(`Messages: (\d+) fatals? / (\d+) errors? / (\d+) warnings?`)

// EPUBCheck runs epubcheck on an EPUB and fails the test unless it reports
// no fatal error, no error and no warning.
func EPUBCheck(t testing.TB, path string) {
	t.Helper()
	jar := os.Getenv("RUNNER_TEST_EPUBCHECK")
	if jar == "" {
		jar = epubcheckJar
	}
	if _, err := os.Stat(jar); err != nil {
		t.Fatalf("epubcheck not found at %s: apt-get install epubcheck (as .ci/run does), or set RUNNER_TEST_EPUBCHECK", jar)
	}
	out, _ := exec.Command("java", "-jar", jar, path).CombinedOutput()
	m := epubcheckSummary.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("epubcheck %s gave no summary:\n%s", path, out)
	}
	if m[1] != "0" || m[2] != "0" || m[3] != "0" {
		if len(out) > 6000 {
			out = append(out[:6000], "\n…"...)
		}
		t.Fatalf("epubcheck %s: %s fatals, %s errors, %s warnings:\n%s", path, m[1], m[2], m[3], out)
	}
}

// Poppler runs one of poppler's tools (pdfinfo, pdftotext, pdffonts,
// pdfimages) and returns what it prints.
func Poppler(t testing.TB, tool string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		t.Fatalf("%s not found: apt-get install poppler-utils (as .ci/run does)", tool)
	}
	out, err := exec.Command(tool, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
	}
	return string(out)
}
